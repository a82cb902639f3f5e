/**
 * Password hashes, in the two kinds a configuration may hold:
 *
 * - bcrypt, as `htpasswd -B` writes it (`$2y$`, and `$2a$`, `$2b$` from other tools), so that an
 *   htpasswd file made for Distribution keeps working;
 * - PBKDF2 with HMAC-SHA256, derived natively by WebCrypto and so cheap enough for a Worker's CPU
 *   limit, written in the PHC string format:
 *
 *     $pbkdf2-sha256$i=<iterations>$<salt>$<derived key>
 *
 *   with salt and key in standard base64 without padding (16 and 32 bytes when made here).
 *   Iterations are at most 100,000: workerd derives no more.
 *
 * Hashes are compared in constant time. A check takes about 20 ms for PBKDF2 at 100,000
 * iterations; bcrypt runs in JavaScript, about 4 ms at htpasswd's default cost (5) and 70 ms at
 * cost 10.
 */
import { genSaltSync, hashSync } from "bcrypt-ts/browser";
import { fromBase64, toBase64, utf8 } from "./base64";
import { timingSafeEqual, timingSafeEqualText } from "./timing-safe";

export type HashKind = "bcrypt" | "pbkdf2";

export const PBKDF2_MAX_ITERATIONS = 100_000;
export const PBKDF2_DEFAULT_ITERATIONS = 100_000;
export const BCRYPT_DEFAULT_COST = 10;

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
const PBKDF2 = /^\$pbkdf2-sha256\$i=([1-9][0-9]{0,5})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{22,})$/;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/** The kind of a stored hash, or `null` when it is of no kind supported here. */
export function hashKind(hash: string): HashKind | null {
  if (BCRYPT.test(hash)) return "bcrypt";
  const iterations = Number(PBKDF2.exec(hash)?.[1] ?? 0);
  return iterations > 0 && iterations <= PBKDF2_MAX_ITERATIONS ? "pbkdf2" : null;
}

/** True when `password` hashes to `hash`; false too when `hash` is of no supported kind. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  switch (hashKind(hash)) {
    case "bcrypt":
      return timingSafeEqualText(hashSync(password, hash.slice(0, 29)), hash);
    case "pbkdf2":
      return verifyPbkdf2(password, hash);
    default:
      return false;
  }
}

export interface HashOptions {
  kind: HashKind;
  /** PBKDF2 iterations (default and most: 100,000). */
  iterations?: number;
  /** bcrypt cost, 4 to 31 (default 10). */
  cost?: number;
}

/** A new hash of `password`, with a random salt. */
export async function hashPassword(password: string, options: HashOptions): Promise<string> {
  if (options.kind === "bcrypt") return hashBcrypt(password, options.cost ?? BCRYPT_DEFAULT_COST);

  const iterations = options.iterations ?? PBKDF2_DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > PBKDF2_MAX_ITERATIONS) {
    throw new RangeError(`PBKDF2 iterations must be 1 to ${PBKDF2_MAX_ITERATIONS}`);
  }
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const key = await pbkdf2(password, salt, iterations, KEY_BYTES);
  return `$pbkdf2-sha256$i=${iterations}$${toBase64(salt)}$${toBase64(key)}`;
}

function hashBcrypt(password: string, cost: number): string {
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) {
    throw new RangeError("the bcrypt cost must be 4 to 31");
  }
  return hashSync(password, genSaltSync(cost));
}

async function verifyPbkdf2(password: string, hash: string): Promise<boolean> {
  const [, iterations = "", saltText = "", keyText = ""] = PBKDF2.exec(hash) ?? [];
  const salt = fromBase64(saltText);
  const expected = fromBase64(keyText);
  if (!salt || !expected) return false;
  const derived = await pbkdf2(password, salt, Number(iterations), expected.length);
  return timingSafeEqual(derived, expected);
}

async function pbkdf2(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
  length: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", utf8(password), "PBKDF2", false, ["deriveBits"]);
  const params = { name: "PBKDF2", hash: "SHA-256", salt, iterations };
  return new Uint8Array(await crypto.subtle.deriveBits(params, key, length * 8));
}
