/**
 * The authentication configuration: one JSON document for both modes, read from a file by the
 * Bun server and from the `AUTH_CONFIG` secret by the Worker. The README shows a complete one.
 *
 *   scheme     "basic" or "bearer": how the registry challenges (default: bearer when `token`
 *              is set, else basic). Both kinds of credentials are accepted either way.
 *   realm      the Basic realm (default "r2-registry")
 *   service    the name tokens are issued for (default: the host the request was sent to)
 *   token      the token service: algorithm (ES256 or HS256), key, issuer, expiresIn,
 *              refreshExpiresIn, realm (the token URL, default `<origin>/token`)
 *   users      user name to password hash (bcrypt or PBKDF2, see passwords.ts)
 *   htpasswd   more users, as the lines of an htpasswd file
 *   access     the rules (see rules.ts)
 *
 * Errors name the place in the document that is wrong and never repeat a value from it, so
 * that a hash or key cannot reach a log.
 */
import type { EcJwk, JwtAlgorithm } from "./jwt";
import { hashKind } from "./passwords";
import {
  type AccessRule,
  ANONYMOUS,
  isRepositoryPattern,
  REPOSITORY_ACTIONS,
  type RepositoryAction,
  SIGNED_IN,
} from "./rules";

export interface TokenConfig {
  algorithm: JwtAlgorithm;
  key: string | EcJwk;
  issuer: string;
  expiresIn: number;
  refreshExpiresIn: number;
  realm?: string;
}

export interface AuthConfig {
  scheme: "basic" | "bearer";
  realm: string;
  service?: string;
  token?: TokenConfig;
  /** User name to password hash. */
  users: Map<string, string>;
  rules: AccessRule[];
}

/** A configuration document that cannot be used; the message says where and why. */
export class AuthConfigError extends Error {
  constructor(message: string) {
    super(`authentication configuration: ${message}`);
    this.name = "AuthConfigError";
  }
}

type Json = Record<string, unknown>;

const TOP_KEYS = ["scheme", "realm", "service", "token", "users", "htpasswd", "access"];
const TOKEN_KEYS = ["algorithm", "key", "issuer", "expiresIn", "refreshExpiresIn", "realm"];
const RULE_KEYS = ["repository", "catalog", "users", "actions"];
const BEARER_OR_BASIC = ["bearer", "basic"] as const;
const DEFAULT_EXPIRES_IN = 300;
const DEFAULT_REFRESH_EXPIRES_IN = 30 * 24 * 3600;

/** The configuration in `text` (JSON), or an `AuthConfigError`. */
export function parseAuthConfig(text: string): AuthConfig {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new AuthConfigError("not valid JSON");
  }
  const root = object(document, "the document", TOP_KEYS);
  const token = root.token === undefined ? undefined : tokenConfig(root.token);
  const users = userHashes(root.users, root.htpasswd);

  const scheme = oneOf(root.scheme ?? (token ? "bearer" : "basic"), "scheme", BEARER_OR_BASIC);
  if (scheme === "bearer" && !token) throw new AuthConfigError('scheme "bearer" needs "token"');
  return {
    scheme,
    realm: textOf(root.realm ?? "r2-registry", "realm"),
    service: root.service === undefined ? undefined : textOf(root.service, "service"),
    token,
    users,
    rules: list(root.access ?? [], "access").map((rule, i) => accessRule(rule, i, users)),
  };
}

function tokenConfig(value: unknown): TokenConfig {
  const token = object(value, "token", TOKEN_KEYS);
  const algorithm = oneOf(token.algorithm, "token.algorithm", ["ES256", "HS256"] as const);
  const key = token.key;
  if (typeof key !== "string" && (typeof key !== "object" || key === null)) {
    throw new AuthConfigError("token.key is a string or, for ES256, a JWK object");
  }
  return {
    algorithm,
    key: key as string | EcJwk,
    issuer: textOf(token.issuer ?? "r2-registry", "token.issuer"),
    expiresIn: seconds(token.expiresIn ?? DEFAULT_EXPIRES_IN, "token.expiresIn", 60),
    refreshExpiresIn: seconds(
      token.refreshExpiresIn ?? DEFAULT_REFRESH_EXPIRES_IN,
      "token.refreshExpiresIn",
      60,
    ),
    realm: token.realm === undefined ? undefined : textOf(token.realm, "token.realm"),
  };
}

function userHashes(users: unknown, htpasswd: unknown): Map<string, string> {
  const entries = Object.entries(object(users ?? {}, "users"));
  if (htpasswd !== undefined) entries.push(...htpasswdEntries(textOf(htpasswd, "htpasswd")));

  const hashes = new Map<string, string>();
  for (const [name, hash] of entries) {
    if (name === ANONYMOUS || name === SIGNED_IN || name === "" || name.includes(":")) {
      throw new AuthConfigError(`users: ${JSON.stringify(name)} cannot be a user name`);
    }
    if (hashes.has(name))
      throw new AuthConfigError(`users: ${JSON.stringify(name)} is given twice`);
    if (typeof hash !== "string" || hashKind(hash) === null) {
      throw new AuthConfigError(
        `users.${name}: not a supported password hash (bcrypt, or $pbkdf2-sha256$ with at most ` +
          "100000 iterations)",
      );
    }
    hashes.set(name, hash);
  }
  return hashes;
}

/** `user:hash` lines, as Distribution reads them: blank lines and `#` comments skipped. */
function htpasswdEntries(text: string): [string, string][] {
  const entries: [string, string][] = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new AuthConfigError(`htpasswd line ${index + 1} is not user:hash`);
    entries.push([line.slice(0, colon), line.slice(colon + 1)]);
  }
  return entries;
}

function accessRule(value: unknown, index: number, known: Map<string, string>): AccessRule {
  const where = `access[${index}]`;
  const rule = object(value, where, RULE_KEYS);
  const users = list(rule.users, `${where}.users`).map((user) => textOf(user, `${where}.users`));
  for (const user of users) {
    if (user !== ANONYMOUS && user !== SIGNED_IN && !known.has(user)) {
      throw new AuthConfigError(`${where}.users names ${JSON.stringify(user)}, who is no user`);
    }
  }
  if (rule.catalog !== undefined) {
    if (rule.catalog !== true || rule.repository !== undefined || rule.actions !== undefined) {
      throw new AuthConfigError(`${where}: a catalog rule is {"catalog": true, "users": […]}`);
    }
    return { repositories: [], catalog: true, users, actions: [] };
  }
  const repositories = patterns(rule.repository, where);
  return { repositories, catalog: false, users, actions: actions(rule.actions, where) };
}

function patterns(value: unknown, where: string): string[] {
  const items = typeof value === "string" ? [value] : list(value, `${where}.repository`);
  return items.map((item) => {
    if (typeof item !== "string" || !isRepositoryPattern(item)) {
      throw new AuthConfigError(`${where}.repository holds an invalid pattern`);
    }
    return item;
  });
}

function actions(value: unknown, where: string): RepositoryAction[] {
  const names = list(value, `${where}.actions`);
  const valid = [...REPOSITORY_ACTIONS, "*"];
  if (names.length === 0 || !names.every((name) => valid.includes(name as RepositoryAction))) {
    throw new AuthConfigError(`${where}.actions: list of "pull", "push", "delete" or "*"`);
  }
  const all = names.includes("*");
  return REPOSITORY_ACTIONS.filter((action) => all || names.includes(action));
}

function object(value: unknown, where: string, keys?: string[]): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AuthConfigError(`${where} is not an object`);
  }
  const unknown = keys && Object.keys(value).find((key) => !keys.includes(key));
  if (unknown) throw new AuthConfigError(`${where} has an unknown key ${JSON.stringify(unknown)}`);
  return value as Json;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new AuthConfigError(`${where} is not a list`);
  return value;
}

function textOf(value: unknown, where: string): string {
  if (typeof value !== "string") throw new AuthConfigError(`${where} is not a string`);
  return value;
}

function seconds(value: unknown, where: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new AuthConfigError(`${where} is a whole number of seconds, at least ${min}`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, where: string, options: readonly T[]): T {
  if (!options.includes(value as T)) {
    throw new AuthConfigError(`${where} is one of ${options.map((o) => `"${o}"`).join(", ")}`);
  }
  return value as T;
}
