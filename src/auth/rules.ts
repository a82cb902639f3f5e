/**
 * Access rules: who may pull, push and delete in which repositories, and who may list the
 * catalog. Rules only ever allow: what a caller may do is the union of every rule that applies
 * to it, so a read-only user is a rule with `pull` alone and a public repository is a rule for
 * `anonymous`. Nothing is allowed that no rule names.
 */
import type { ResourceScope } from "./scopes";

export const REPOSITORY_ACTIONS = ["pull", "push", "delete"] as const;
export type RepositoryAction = (typeof REPOSITORY_ACTIONS)[number];

/** In a rule's `users`: everyone, with or without credentials. */
export const ANONYMOUS = "anonymous";
/** In a rule's `users`: every user who signed in. */
export const SIGNED_IN = "*";

export interface AccessRule {
  /** Repository name patterns: `*` is any run of characters but `/`, `**` any run at all. */
  repositories: string[];
  /** True for a rule that lets its users list the catalog (`registry:catalog:*`). */
  catalog: boolean;
  users: string[];
  actions: RepositoryAction[];
}

interface CompiledRule {
  patterns: RegExp[];
  /** True for a rule over every repository (`**`): its `delete` lets its users collect garbage. */
  everyRepository: boolean;
  catalog: boolean;
  users: Set<string>;
  actions: RepositoryAction[];
}

export class AccessRules {
  readonly #rules: CompiledRule[];

  constructor(rules: AccessRule[]) {
    this.#rules = rules.map((rule) => ({
      patterns: rule.repositories.map(patternToRegExp),
      everyRepository: rule.repositories.includes("**"),
      catalog: rule.catalog,
      users: new Set(rule.users),
      actions: rule.actions,
    }));
  }

  /** The actions `subject` (`null`: anonymous) may take on a resource. */
  actions(subject: string | null, type: string, name: string): Set<string> {
    const allowed = new Set<string>();
    for (const rule of this.#rules) {
      if (!appliesTo(rule, subject)) continue;
      if (type === "registry" && name === "catalog" && rule.catalog) allowed.add("*");
      if (type === "registry" && name === "gc" && rule.everyRepository) {
        if (rule.actions.includes("delete")) allowed.add("delete");
      }
      if (type !== "repository" || !rule.patterns.some((pattern) => pattern.test(name))) continue;
      for (const action of rule.actions) allowed.add(action);
    }
    if (type === "repository" && REPOSITORY_ACTIONS.every((a) => allowed.has(a))) allowed.add("*");
    return allowed;
  }

  /** True when `subject` may take every action of `scope`. */
  allows(subject: string | null, scope: ResourceScope): boolean {
    const allowed = this.actions(subject, scope.type, scope.name);
    return scope.actions.every((action) => allowed.has(action));
  }

  /**
   * What a token for `subject` may carry of what it asked for: per resource, the asked actions
   * that are allowed. Resources with nothing allowed are left out; a partial grant is no error.
   */
  grant(subject: string | null, requested: ResourceScope[]): ResourceScope[] {
    return requested.flatMap((scope) => {
      const allowed = this.actions(subject, scope.type, scope.name);
      const actions = scope.actions.filter((action) => allowed.has(action));
      return actions.length ? [{ type: scope.type, name: scope.name, actions }] : [];
    });
  }
}

function appliesTo(rule: CompiledRule, subject: string | null): boolean {
  if (rule.users.has(ANONYMOUS)) return true;
  return subject !== null && (rule.users.has(SIGNED_IN) || rule.users.has(subject));
}

/** Characters a pattern may hold: those of repository names, and `*`. */
const PATTERN = /^[a-z0-9._\-/*]+$/;

/** True when `pattern` is a well-formed repository name pattern. */
export function isRepositoryPattern(pattern: string): boolean {
  return PATTERN.test(pattern);
}

function patternToRegExp(pattern: string): RegExp {
  const literal = (text: string) => text.replace(/\./g, "\\.");
  const source = pattern
    .split("**")
    .map((part) => part.split("*").map(literal).join("[^/]*"))
    .join(".*");
  return new RegExp(`^${source}$`);
}
