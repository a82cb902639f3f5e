/**
 * Authentication and authorization as the HTTP layer sees them, built from a configuration: who
 * a caller is (a password checked, a token verified), what the rules allow them, and the tokens
 * the built-in token service issues.
 */
import { toBase64Url, utf8 } from "./base64";
import type { AuthConfig } from "./config";
import { importSigningKey } from "./jwt";
import { AccessRules } from "./rules";
import type { ResourceScope } from "./scopes";
import { timingSafeEqualText } from "./timing-safe";
import { Tokens } from "./tokens";
import { Users } from "./users";

export type Scheme = "basic" | "bearer";

export interface AuthenticatorOptions {
  now?: () => number;
  /** How long a successful password check is remembered, in ms (default one minute). */
  passwordMemoMs?: number;
}

export class Authenticator {
  /** The scheme of the challenges. */
  readonly scheme: Scheme;
  readonly realm: string;
  /** The configured service name; `undefined` means the host a request was sent to. */
  readonly service: string | undefined;
  /** The configured token URL; `undefined` means `<origin>/token`. */
  readonly tokenRealm: string | undefined;
  /** The token service, when the configuration has a key. */
  readonly tokens: Tokens | null;
  /** When set, no one may push or delete, and this says why. */
  readonly writesRefused: string | undefined;
  /** Whether `GET /v2/` asks for credentials: only when users are configured. */
  readonly signInRequired: boolean;
  readonly #users: Users;
  readonly #rules: AccessRules;

  private constructor(parts: {
    config: AuthConfig;
    tokens: Tokens | null;
    options: AuthenticatorOptions;
    writesRefused?: string;
  }) {
    const { config, tokens, options } = parts;
    this.scheme = config.scheme;
    this.realm = config.realm;
    this.service = config.service;
    this.tokenRealm = config.token?.realm;
    this.tokens = tokens;
    this.writesRefused = parts.writesRefused;
    this.signInRequired = parts.writesRefused === undefined;
    this.#users = new Users(config.users, { ttlMs: options.passwordMemoMs, now: options.now });
    this.#rules = new AccessRules(config.rules);
  }

  /** The authenticator of a parsed configuration (importing its signing key). */
  static async create(config: AuthConfig, options: AuthenticatorOptions = {}) {
    let tokens: Tokens | null = null;
    if (config.token) {
      const { algorithm, key, ...settings } = config.token;
      tokens = new Tokens({ ...settings, key: await importSigningKey(algorithm, key), ...options });
    }
    return new Authenticator({ config, tokens, options });
  }

  /**
   * For a registry deployed without configuration: anyone may pull and list, no one may push or
   * delete, and refusals say `reason`.
   */
  static readOnly(reason: string): Authenticator {
    const everyone = { users: ["anonymous"], repositories: ["**"] };
    const rules = [
      { ...everyone, catalog: false, actions: ["pull" as const] },
      { ...everyone, repositories: [], catalog: true, actions: [] },
    ];
    const config = { scheme: "basic" as const, realm: "r2-registry", users: new Map(), rules };
    return new Authenticator({ config, tokens: null, options: {}, writesRefused: reason });
  }

  /** True when `password` is `user`'s. */
  login(user: string, password: string): Promise<boolean> {
    return this.#users.check(user, password);
  }

  /** True when the rules let `subject` (`null`: anonymous) take every action of `scope`. */
  allows(subject: string | null, scope: ResourceScope): boolean {
    return this.#rules.allows(subject, scope);
  }

  /** What of `requested` the rules let `subject` have (see `AccessRules.grant`). */
  grant(subject: string | null, requested: ResourceScope[]): ResourceScope[] {
    return this.#rules.grant(subject, requested);
  }

  /** A refresh token for `user`, who just signed in; `null` without a token service. */
  async refreshToken(user: string, service: string): Promise<string | null> {
    const fingerprint = await this.#fingerprint(user);
    if (!this.tokens || fingerprint === null) return null;
    return this.tokens.issueRefresh(user, service, fingerprint);
  }

  /** The user of a valid refresh token whose password has not changed since, or `null`. */
  async refreshTokenUser(token: string, service: string): Promise<string | null> {
    const claims = await this.tokens?.verifyRefresh(token, service);
    if (!claims) return null;
    const fingerprint = await this.#fingerprint(claims.subject);
    if (fingerprint === null || !timingSafeEqualText(fingerprint, claims.fingerprint)) return null;
    return claims.subject;
  }

  /** A digest of the user's password hash: it changes with the password. */
  async #fingerprint(user: string): Promise<string | null> {
    const hash = this.#users.hashOf(user);
    if (hash === undefined) return null;
    return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(hash))));
  }
}
