/** Access rules: patterns, who a rule is for, unions of rules, and grants. */
import { describe, expect, test } from "bun:test";
import { type AccessRule, AccessRules } from "../../src/auth/rules";

const repository = (name: string, actions: string[]) => ({ type: "repository", name, actions });

function rule(repositories: string[], users: string[], actions: AccessRule["actions"]): AccessRule {
  return { repositories, catalog: false, users, actions };
}

const RULES = new AccessRules([
  rule(["public/**"], ["anonymous"], ["pull"]),
  rule(["team", "team/**"], ["alice", "bob"], ["pull", "push"]),
  rule(["team/**"], ["alice"], ["delete"]),
  rule(["tools/*"], ["*"], ["pull"]),
  { repositories: [], catalog: true, users: ["alice"], actions: [] },
]);

describe("AccessRules.actions", () => {
  test("the union of the rules that apply", () => {
    expect([...RULES.actions("alice", "repository", "team/app")].sort()).toEqual([
      "*",
      "delete",
      "pull",
      "push",
    ]);
    expect([...RULES.actions("bob", "repository", "team/app")].sort()).toEqual(["pull", "push"]);
  });

  test("'*' is one path component, '**' any run of them; a bare name matches only itself", () => {
    expect(RULES.actions("carol", "repository", "tools/lint").has("pull")).toBe(true);
    expect(RULES.actions("carol", "repository", "tools/lint/x").has("pull")).toBe(false);
    expect(RULES.actions("bob", "repository", "team").has("push")).toBe(true);
    expect(RULES.actions("bob", "repository", "team/a/b/c").has("push")).toBe(true);
    expect(RULES.actions("bob", "repository", "teams/app").size).toBe(0);
  });

  test("'.' in a pattern is a dot, not any character", () => {
    const rules = new AccessRules([rule(["a.b"], ["anonymous"], ["pull"])]);

    expect(rules.actions(null, "repository", "a.b").has("pull")).toBe(true);
    expect(rules.actions(null, "repository", "axb").size).toBe(0);
  });

  test("anonymous rules apply to everyone; '*' rules only to signed-in users", () => {
    expect(RULES.actions(null, "repository", "public/x").has("pull")).toBe(true);
    expect(RULES.actions("bob", "repository", "public/x").has("pull")).toBe(true);
    expect(RULES.actions(null, "repository", "tools/lint").size).toBe(0);
  });

  test("the catalog only for catalog rules", () => {
    expect(RULES.actions("alice", "registry", "catalog")).toEqual(new Set(["*"]));
    expect(RULES.actions("bob", "registry", "catalog").size).toBe(0);
    expect(RULES.actions(null, "registry", "catalog").size).toBe(0);
  });
});

describe("AccessRules.grant", () => {
  test("the intersection of asked and allowed, per resource", () => {
    const granted = RULES.grant("bob", [
      repository("team/app", ["pull", "push", "delete"]),
      repository("public/base", ["pull", "push"]),
      repository("secret/x", ["pull"]),
      { type: "registry", name: "catalog", actions: ["*"] },
    ]);

    expect(granted).toEqual([
      repository("team/app", ["pull", "push"]),
      repository("public/base", ["pull"]),
    ]);
  });

  test("allows: every action or nothing", () => {
    expect(RULES.allows("bob", repository("team/app", ["pull", "push"]))).toBe(true);
    expect(RULES.allows("bob", repository("team/app", ["pull", "delete"]))).toBe(false);
  });
});
