/**
 * The portable saved state of a SHA-2 hash:
 * `<algorithm>.<chaining words>.<bytes hashed>.<pending>`.
 *
 * - chaining words: the eight state words in hex, big-endian, concatenated;
 * - bytes hashed: the total number of input bytes, in decimal;
 * - pending: base64 of the input bytes not yet compressed (fewer than one block).
 *
 * Every engine converts to and from this form, which is what makes states interchangeable.
 */
import { type DigestAlgorithm, isDigestAlgorithm } from "../registry/digest";

export interface HashState {
  algorithm: DigestAlgorithm;
  /** The chaining value, big-endian: 32 bytes for SHA-256, 64 for SHA-512. */
  words: Uint8Array;
  length: number;
  pending: Uint8Array;
}

export const BLOCK_SIZE: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
export const WORDS_SIZE: Record<DigestAlgorithm, number> = { sha256: 32, sha512: 64 };

export function encodeState(state: HashState): string {
  const words = toHex(state.words);
  const pending = btoa(String.fromCharCode(...state.pending));
  return `${state.algorithm}.${words}.${state.length}.${pending}`;
}

export function decodeState(text: string): HashState {
  const [algorithm = "", words = "", length = "", pending = "", ...rest] = text.split(".");
  if (rest.length > 0 || !isDigestAlgorithm(algorithm)) throw new Error("malformed hash state");

  const state = {
    algorithm,
    words: fromHex(words),
    length: Number(length),
    pending: Uint8Array.from(atob(pending), (c) => c.charCodeAt(0)),
  };
  const consistent =
    state.words.length === WORDS_SIZE[algorithm] &&
    Number.isSafeInteger(state.length) &&
    state.pending.length === state.length % BLOCK_SIZE[algorithm];
  if (!consistent) throw new Error("malformed hash state");
  return state;
}

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error("malformed hash state");
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) =>
    parseInt(hex.slice(i * 2, i * 2 + 2), 16),
  );
}
