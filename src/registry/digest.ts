/** Content digests: `<algorithm>:<lowercase hex>`, for the algorithms the registry supports. */
import { DigestInvalid } from "./errors";

export type DigestAlgorithm = "sha256" | "sha512";

export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** The canonical string form, `<algorithm>:<hex>`. */
  value: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_SHAPE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return value === "sha256" || value === "sha512";
}

/** Parses a digest string, or throws `DIGEST_INVALID`. */
export function parseDigest(value: string): Digest {
  const digest = tryParseDigest(value);
  if (!digest) throw new DigestInvalid("invalid digest", { digest: value });
  return digest;
}

/** Parses a digest string, or returns `null` when it is not a supported, well-formed digest. */
export function tryParseDigest(value: string): Digest | null {
  const colon = value.indexOf(":");
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (colon < 0 || !isDigestAlgorithm(algorithm)) return null;
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) return null;
  return { algorithm, hex, value };
}

/** True for anything shaped like a digest of any algorithm, supported or not. */
export function looksLikeDigest(value: string): boolean {
  return value.includes(":");
}

/** Parses the `digest-algorithm` upload parameter (default `sha256`). */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm {
  if (value === undefined || value === "") return "sha256";
  if (!isDigestAlgorithm(value)) {
    throw new DigestInvalid("unsupported digest algorithm", { algorithm: value });
  }
  return value;
}

/** True when a string is a syntactically valid digest per the OCI image spec grammar. */
export function isWellFormedDigest(value: string): boolean {
  return DIGEST_SHAPE.test(value);
}

export function makeDigest(algorithm: DigestAlgorithm, hex: string): Digest {
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}
