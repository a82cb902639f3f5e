/**
 * The users of a configuration and the check of their passwords.
 *
 * A successful check is remembered for a short while, so that a push of many layers (a request
 * per layer, each carrying the password) hashes the password once. What is remembered is an
 * HMAC, under a key made when the process starts, of the user name, the password and the stored
 * hash: a wrong password never finds an entry, a changed hash outdates every entry for it, and
 * nothing kept in memory lets anyone test guesses offline.
 */
import { toBase64 } from "./base64";
import { verifyPassword } from "./passwords";

/** Checked instead of a hash when the user is unknown, so that timing does not tell who exists. */
const UNKNOWN_USER_HASH =
  "$pbkdf2-sha256$i=100000$bPAWH+LpPczlu+jdb3dGGw$uWetnclrfQCEH6tyajSH4z01CBSJeyGVdSx9KrFGlYQ";
const DEFAULT_TTL_MS = 60_000;
/** The most successful checks remembered at once; the oldest is forgotten first. */
const MAX_REMEMBERED = 1000;
const HMAC = { name: "HMAC", hash: "SHA-256" };

export interface UsersOptions {
  /** How long a successful check is remembered (default one minute; 0 remembers nothing). */
  ttlMs?: number;
  now?: () => number;
}

export class Users {
  readonly #hashes: ReadonlyMap<string, string>;
  readonly #remembered = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #now: () => number;
  #memoKey: Promise<CryptoKey> | undefined;

  constructor(hashes: ReadonlyMap<string, string>, options: UsersOptions = {}) {
    this.#hashes = hashes;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  has(name: string): boolean {
    return this.#hashes.has(name);
  }

  /** The stored hash of `name`'s password, or `undefined` for an unknown user. */
  hashOf(name: string): string | undefined {
    return this.#hashes.get(name);
  }

  /** True when `password` is `name`'s password. */
  async check(name: string, password: string): Promise<boolean> {
    const hash = this.#hashes.get(name);
    if (hash === undefined) {
      await verifyPassword(password, UNKNOWN_USER_HASH);
      return false;
    }

    const memo = await this.#memo(name, password, hash);
    const until = this.#remembered.get(memo);
    if (until !== undefined && until > this.#now()) return true;
    if (!(await verifyPassword(password, hash))) return false;

    this.#remember(memo);
    return true;
  }

  #remember(memo: string): void {
    if (this.#ttlMs <= 0) return;
    this.#remembered.delete(memo);
    if (this.#remembered.size >= MAX_REMEMBERED) {
      const oldest = this.#remembered.keys().next().value;
      if (oldest !== undefined) this.#remembered.delete(oldest);
    }
    this.#remembered.set(memo, this.#now() + this.#ttlMs);
  }

  async #memo(name: string, password: string, hash: string): Promise<string> {
    const secret = () => crypto.getRandomValues(new Uint8Array(32));
    this.#memoKey ??= crypto.subtle.importKey("raw", secret(), HMAC, false, ["sign"]);
    const data = new TextEncoder().encode(JSON.stringify([name, password, hash]));
    return toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", await this.#memoKey, data)));
  }
}
