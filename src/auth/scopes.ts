/**
 * Resource scopes of the Docker token specification: `repository:team/app:pull,push`,
 * `registry:catalog:*`. They are what a client asks the token service for, what a token grants
 * (its `access` claim), and what a challenge tells the client it needs.
 *
 * Grammar (the specification's):
 *
 *   scope         := resourcescope [ ' ' resourcescope ]*
 *   resourcescope := resourcetype ":" resourcename ":" action [ ',' action ]*
 *   resourcetype  := [a-z0-9]+ [ '(' [a-z0-9]+ ')' ]
 *   resourcename  := [ hostname '/' ] component [ '/' component ]*
 *   hostname      := hostcomponent [ '.' hostcomponent ]* [ ':' port-number ]
 *   action        := [a-z*]*
 *
 * A name may hold one `:` (the port of a host name), so a scope is split at its first and last
 * colon, never at every colon.
 */
import { Unsupported } from "../registry/errors";

export interface ResourceScope {
  /** `repository` or `registry`; a resource class such as `repository(plugin)` is dropped. */
  type: string;
  name: string;
  actions: string[];
}

const TYPE = /^([a-z0-9]+)(?:\([a-z0-9]+\))?$/;
const ACTION = /^[a-z*]*$/;
const COMPONENT = "[a-z0-9]+(?:(?:[_.]|__|-*)[a-z0-9]+)*";
const HOST_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = `${HOST_COMPONENT}(?:\\.${HOST_COMPONENT})*(?::[0-9]+)?`;
const NAME = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*$`);

/** The catalog's scope, `registry:catalog:*`. */
export const CATALOG_SCOPE: ResourceScope = { type: "registry", name: "catalog", actions: ["*"] };

/**
 * Garbage collection's scope, `registry:gc:delete`: held by those who may delete in every
 * repository (a rule for `**` with `delete`).
 */
export const GC_SCOPE: ResourceScope = { type: "registry", name: "gc", actions: ["delete"] };

/**
 * The scopes of one or more `scope` parameters, each a space-separated list; actions asked for
 * the same resource twice are merged. A scope that breaks the grammar is `400 UNSUPPORTED`.
 */
export function parseScopes(values: string[]): ResourceScope[] {
  const scopes: ResourceScope[] = [];
  for (const text of values.flatMap((value) => value.split(" ")).filter(Boolean)) {
    addScope(scopes, parseScope(text));
  }
  return scopes;
}

/** One `type:name:actions` scope, or `400 UNSUPPORTED`. */
export function parseScope(text: string): ResourceScope {
  const first = text.indexOf(":");
  const last = text.lastIndexOf(":");
  const type = TYPE.exec(text.slice(0, first))?.[1];
  const name = text.slice(first + 1, last);
  const actions = text.slice(last + 1).split(",");
  if (first === last || !type || !NAME.test(name) || !actions.every((a) => ACTION.test(a))) {
    throw new Unsupported(`invalid scope: ${JSON.stringify(text)}`);
  }
  return { type, name, actions: [...new Set(actions.filter(Boolean))] };
}

/** `type:name:action,action`, the form of challenges and token responses. */
export function formatScope(scope: ResourceScope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(",")}`;
}

/** Adds `scope` to `scopes`, merging its actions into an entry for the same resource. */
export function addScope(scopes: ResourceScope[], scope: ResourceScope): void {
  const same = scopes.find((s) => s.type === scope.type && s.name === scope.name);
  if (!same) {
    scopes.push({ ...scope, actions: [...scope.actions] });
    return;
  }
  for (const action of scope.actions) {
    if (!same.actions.includes(action)) same.actions.push(action);
  }
}

/** True when `granted` holds every action of `needed` on its resource. */
export function covers(granted: ResourceScope[], needed: ResourceScope): boolean {
  const entry = granted.find((s) => s.type === needed.type && s.name === needed.name);
  return needed.actions.every((action) => entry?.actions.includes(action) ?? false);
}
