/**
 * Resumable hashing: a hash whose running state can be saved with an upload session and loaded
 * again by another process or isolate, so that closing a session never re-reads its bytes.
 *
 * Saved states use one portable format whatever engine produced them (see `state.ts`), so a
 * session begun under one engine (native OpenSSL in the Bun server) can be finished under
 * another (the TypeScript implementation, used on Workers).
 */
import type { DigestAlgorithm } from "../registry/digest";

export interface ResumableHasher {
  readonly algorithm: DigestAlgorithm;
  update(data: Uint8Array): void;
  /** The state after every byte given so far, in the portable format. */
  save(): string;
  /** Finishes the hash; the hasher must not be used afterwards. */
  digestHex(): string;
}

export interface HashEngine {
  /** A short name for logs and the README's measurements. */
  readonly name: string;
  create(algorithm: DigestAlgorithm): ResumableHasher;
  /** Loads a state saved by any engine; throws on a state that is not well-formed. */
  restore(state: string): ResumableHasher;
}
