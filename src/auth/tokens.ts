/**
 * The tokens the built-in token service issues and the registry accepts.
 *
 * Access tokens are JWTs with the claims of Distribution's token implementation: `iss`, `sub`
 * (the user; empty for an anonymous caller), `aud` (the service), `exp`, `nbf`, `iat`, `jti`, and
 * `access`, the scopes granted. Refresh tokens, which `docker login` keeps in place of the
 * password, are JWTs of the same key with `use: "refresh"` instead of `access`, for one user and
 * one service. Each carries a fingerprint of the user's password hash, so that changing the
 * password or removing the user voids it. Neither kind of token passes for the other.
 */
import type { SigningKey } from "./jwt";
import { signJwt, verifyJwt } from "./jwt";
import type { ResourceScope } from "./scopes";

export interface TokenSettings {
  key: SigningKey;
  issuer: string;
  /** Seconds an access token lives; at least 60, as the specification asks. */
  expiresIn: number;
  /** Seconds a refresh token lives. */
  refreshExpiresIn: number;
  now?: () => number;
}

/** What a valid access token lets its bearer do. */
export interface AccessToken {
  /** The user it was issued to; `null` for an anonymous caller. */
  subject: string | null;
  access: ResourceScope[];
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  /** RFC 3339, UTC. */
  issuedAt: string;
}

/** Seconds of clock difference tolerated on `nbf` between the isolates that sign and verify. */
const NBF_LEEWAY = 30;

export class Tokens {
  readonly #settings: TokenSettings;
  readonly #now: () => number;

  constructor(settings: TokenSettings) {
    this.#settings = settings;
    this.#now = settings.now ?? Date.now;
  }

  /** An access token of `subject` for `service` carrying `access`. */
  async issue(subject: string | null, service: string, access: ResourceScope[]) {
    const iat = this.#seconds();
    const { expiresIn } = this.#settings;
    const claims = { ...this.#common(subject ?? "", service, iat, expiresIn), access };
    const token = await signJwt(this.#settings.key, claims);
    return { token, expiresIn, issuedAt: new Date(iat * 1000).toISOString().replace(".000", "") };
  }

  /** A refresh token of `subject` for `service`, bound to `fingerprint` (of the password hash). */
  async issueRefresh(subject: string, service: string, fingerprint: string): Promise<string> {
    const iat = this.#seconds();
    const common = this.#common(subject, service, iat, this.#settings.refreshExpiresIn);
    return signJwt(this.#settings.key, { ...common, use: "refresh", pwd: fingerprint });
  }

  /** The grant of a valid access token for `service`, or `null`. */
  async verifyAccess(token: string, service: string): Promise<AccessToken | null> {
    const claims = await this.#verify(token, service);
    if (!claims || "use" in claims || !isAccessList(claims.access)) return null;
    return { subject: claims.sub === "" ? null : String(claims.sub), access: claims.access };
  }

  /** The user and fingerprint of a valid refresh token for `service`, or `null`. */
  async verifyRefresh(token: string, service: string) {
    const claims = await this.#verify(token, service);
    if (claims?.use !== "refresh" || typeof claims.pwd !== "string" || claims.sub === "") {
      return null;
    }
    return { subject: String(claims.sub), fingerprint: claims.pwd };
  }

  #common(sub: string, aud: string, iat: number, lifetime: number) {
    const { issuer } = this.#settings;
    const jti = crypto.randomUUID();
    return { iss: issuer, sub, aud, exp: iat + lifetime, nbf: iat, iat, jti };
  }

  async #verify(token: string, service: string) {
    const claims = await verifyJwt(this.#settings.key, token);
    if (!claims || claims.iss !== this.#settings.issuer || typeof claims.sub !== "string") {
      return null;
    }
    const now = this.#seconds();
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(service)) return null;
    if (typeof claims.exp !== "number" || claims.exp <= now) return null;
    if (typeof claims.nbf !== "number" || claims.nbf > now + NBF_LEEWAY) return null;
    return claims;
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }
}

function isAccessList(value: unknown): value is ResourceScope[] {
  return Array.isArray(value) && value.every(isScope);
}

function isScope(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const { type, name, actions } = value as Record<string, unknown>;
  const isText = (item: unknown) => typeof item === "string";
  return isText(type) && isText(name) && Array.isArray(actions) && actions.every(isText);
}
