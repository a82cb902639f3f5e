/**
 * JSON Web Tokens (RFC 7519) in compact form, signed with ES256 (ECDSA P-256) or HS256
 * (HMAC-SHA256) through WebCrypto. A token is checked against one key and that key's algorithm
 * only: a header naming another algorithm, `none` included, fails like a bad signature, so a
 * token can never choose how it is verified.
 */
import { fromBase64, fromBase64Url, toBase64Url, utf8 } from "./base64";

export type JwtAlgorithm = "ES256" | "HS256";
export type JwtClaims = Record<string, unknown>;

/** The JWK members of a P-256 key that this module reads. */
export interface EcJwk {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
}

export interface SigningKey {
  readonly algorithm: JwtAlgorithm;
  /** ES256: the RFC 7638 thumbprint of the public key, sent as the header's `kid`. */
  readonly keyId?: string;
  sign(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
  verify(data: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>): Promise<boolean>;
}

/** Shortest HS256 secret accepted, in bytes: as long as the hash, as RFC 7518 asks. */
export const HS256_MIN_SECRET = 32;

const ECDSA = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" };
const HMAC_SHA256 = { name: "HMAC", hash: "SHA-256" };

/**
 * A signing key from configuration: for HS256 a secret of at least 32 bytes; for ES256 a P-256
 * private key as a JWK (with `d`) or as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
 */
export async function importSigningKey(
  algorithm: JwtAlgorithm,
  key: string | EcJwk,
): Promise<SigningKey> {
  if (algorithm === "HS256") {
    if (typeof key !== "string") throw new Error("an HS256 key is a string");
    return importHmacKey(key);
  }
  return importEcKey(key);
}

async function importHmacKey(secret: string): Promise<SigningKey> {
  const bytes = utf8(secret);
  if (bytes.length < HS256_MIN_SECRET) {
    throw new Error(`an HS256 secret has at least ${HS256_MIN_SECRET} bytes`);
  }
  const key = await crypto.subtle.importKey("raw", bytes, HMAC_SHA256, false, ["sign", "verify"]);
  return {
    algorithm: "HS256",
    sign: async (data) => new Uint8Array(await crypto.subtle.sign("HMAC", key, data)),
    verify: (data, signature) => crypto.subtle.verify("HMAC", key, signature, data),
  };
}

async function importEcKey(key: string | EcJwk): Promise<SigningKey> {
  const jwk = typeof key === "string" ? await jwkFromPem(key) : key;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.d || !jwk.x || !jwk.y) {
    throw new Error("an ES256 key is a P-256 private key");
  }
  const { kty, crv, x, y, d } = jwk;
  const privateKey = await crypto.subtle.importKey("jwk", { kty, crv, x, y, d }, ECDSA, false, [
    "sign",
  ]);
  const publicKey = await crypto.subtle.importKey("jwk", { kty, crv, x, y }, ECDSA, true, [
    "verify",
  ]);
  return {
    algorithm: "ES256",
    keyId: await thumbprint({ crv, kty, x, y }),
    sign: async (data) => new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, privateKey, data)),
    verify: async (data, signature) =>
      signature.length === 64 && crypto.subtle.verify(ECDSA_SHA256, publicKey, signature, data),
  };
}

async function jwkFromPem(pem: string): Promise<EcJwk> {
  const body = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem);
  const der = fromBase64(body?.[1]?.replace(/\s+/g, "") ?? "");
  if (!der) throw new Error("an ES256 key in PEM is a PKCS#8 private key");
  const key = await crypto.subtle.importKey("pkcs8", der, ECDSA, true, ["sign"]);
  return (await crypto.subtle.exportKey("jwk", key)) as EcJwk;
}

/** The RFC 7638 thumbprint of an EC public key: its required members, sorted, hashed. */
async function thumbprint(members: { crv: string; kty: string; x: string; y: string }) {
  const digest = await crypto.subtle.digest("SHA-256", utf8(JSON.stringify(members)));
  return toBase64Url(new Uint8Array(digest));
}

/** `claims` as a signed compact JWT. */
export async function signJwt(key: SigningKey, claims: JwtClaims): Promise<string> {
  const header = { alg: key.algorithm, typ: "JWT", ...(key.keyId ? { kid: key.keyId } : {}) };
  const encode = (value: object) => toBase64Url(utf8(JSON.stringify(value)));
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${toBase64Url(await key.sign(utf8(input)))}`;
}

/**
 * The claims of `token` when it is a well-formed JWT whose header names the key's algorithm and
 * whose signature the key verifies; otherwise `null`. Dates and audiences are the caller's.
 */
export async function verifyJwt(key: SigningKey, token: string): Promise<JwtClaims | null> {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [headerText = "", payloadText = "", signatureText = ""] = parts;

  const header = decodeJson(headerText);
  const signature = fromBase64Url(signatureText);
  if (header?.alg !== key.algorithm || !signature) return null;
  const valid = await key
    .verify(utf8(`${headerText}.${payloadText}`), signature)
    .catch(() => false);
  return valid ? decodeJson(payloadText) : null;
}

function decodeJson(text: string): JwtClaims | null {
  const bytes = fromBase64Url(text);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes),
    );
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as JwtClaims)
      : null;
  } catch {
    return null;
  }
}
