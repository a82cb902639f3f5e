/** The portable hash engine: SHA-2 in TypeScript, for every runtime (Workers included). */
import type { DigestAlgorithm } from "../registry/digest";
import type { HashEngine, ResumableHasher } from "./hasher";
import { Sha256 } from "./sha256";
import { Sha512 } from "./sha512";
import { decodeState } from "./state";

function create(algorithm: DigestAlgorithm): Sha256 | Sha512 {
  return algorithm === "sha256" ? new Sha256() : new Sha512();
}

export const typescriptHashEngine: HashEngine = {
  name: "typescript",
  create,
  restore(text: string): ResumableHasher {
    const state = decodeState(text);
    return create(state.algorithm).load(state);
  },
};
