/**
 * A native hash engine for the Bun server: OpenSSL's SHA-2 through `bun:ffi`.
 *
 * The runtime's own hashers run at native speed but cannot export their state; OpenSSL's
 * low-level SHA256_CTX/SHA512_CTX live in memory we own, so saving a state is a copy of a few
 * hundred bytes. The context layouts (from OpenSSL's sha.h) are translated to the portable
 * state format, so sessions move freely between this engine and the TypeScript one.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import type { HashEngine, ResumableHasher } from "../hash/hasher";
import { BLOCK_SIZE, decodeState, encodeState, type HashState, toHex } from "../hash/state";
import type { DigestAlgorithm } from "../registry/digest";

const LIBRARIES = ["libcrypto.so.3", "libcrypto.so", "libcrypto.3.dylib"];

/** Byte offsets in the contexts, on a little-endian 64-bit machine. */
const LAYOUT = {
  sha256: { size: 112, word: 4, lengthAt: 32, dataAt: 40, numAt: 104, mdLength: 32 },
  sha512: { size: 216, word: 8, lengthAt: 64, dataAt: 80, numAt: 208, mdLength: 64 },
} as const;

const SYMBOLS = {
  SHA256_Init: { args: [FFIType.ptr], returns: FFIType.i32 },
  SHA256_Update: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  SHA256_Final: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  SHA512_Init: { args: [FFIType.ptr], returns: FFIType.i32 },
  SHA512_Update: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  SHA512_Final: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
} as const;

type Library = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

/** Loads OpenSSL's libcrypto, or returns `null` where it cannot be found. */
export function loadOpenSslHashEngine(): HashEngine | null {
  const lib = openLibrary();
  if (!lib) return null;
  return {
    name: "openssl",
    create: (algorithm) => new OpenSslHasher(lib, algorithm),
    restore(text) {
      const state = decodeState(text);
      return new OpenSslHasher(lib, state.algorithm).load(state);
    },
  };
}

function openLibrary(): Library | null {
  if (process.arch !== "x64" && process.arch !== "arm64") return null;
  for (const name of LIBRARIES) {
    try {
      return dlopen(name, SYMBOLS).symbols;
    } catch {
      // try the next name
    }
  }
  return null;
}

class OpenSslHasher implements ResumableHasher {
  readonly algorithm: DigestAlgorithm;
  readonly #lib: Library;
  readonly #ctx: Uint8Array;
  readonly #view: DataView;

  constructor(lib: Library, algorithm: DigestAlgorithm) {
    this.#lib = lib;
    this.algorithm = algorithm;
    this.#ctx = new Uint8Array(LAYOUT[algorithm].size);
    this.#view = new DataView(this.#ctx.buffer);
    const init = algorithm === "sha256" ? lib.SHA256_Init : lib.SHA512_Init;
    init(ptr(this.#ctx));
  }

  update(data: Uint8Array): void {
    if (data.length === 0) return;
    const update = this.algorithm === "sha256" ? this.#lib.SHA256_Update : this.#lib.SHA512_Update;
    update(ptr(this.#ctx), ptr(data), data.length);
  }

  digestHex(): string {
    const out = new Uint8Array(LAYOUT[this.algorithm].mdLength);
    const final = this.algorithm === "sha256" ? this.#lib.SHA256_Final : this.#lib.SHA512_Final;
    final(ptr(out), ptr(this.#ctx));
    return toHex(out);
  }

  save(): string {
    return encodeState(this.state());
  }

  /** Reads the context: native-endian words and a bit count, then the pending bytes. */
  state(): HashState {
    const layout = LAYOUT[this.algorithm];
    const words = new Uint8Array(layout.mdLength);
    const out = new DataView(words.buffer);
    for (let i = 0; i < 8; i++) {
      if (layout.word === 4) out.setUint32(i * 4, this.#view.getUint32(i * 4, true));
      else out.setBigUint64(i * 8, this.#view.getBigUint64(i * 8, true));
    }
    const pendingLength = this.#view.getUint32(layout.numAt, true);
    const length = Number(this.#bitCount() / 8n);
    const pending = this.#ctx.slice(layout.dataAt, layout.dataAt + pendingLength);
    return { algorithm: this.algorithm, words, length, pending };
  }

  load(state: HashState): this {
    const layout = LAYOUT[this.algorithm];
    const words = new DataView(state.words.buffer, state.words.byteOffset);
    for (let i = 0; i < 8; i++) {
      if (layout.word === 4) this.#view.setUint32(i * 4, words.getUint32(i * 4), true);
      else this.#view.setBigUint64(i * 8, words.getBigUint64(i * 8), true);
    }
    this.#setBitCount(BigInt(state.length) * 8n);
    this.#ctx.fill(0, layout.dataAt, layout.dataAt + BLOCK_SIZE[this.algorithm]);
    this.#ctx.set(state.pending, layout.dataAt);
    this.#view.setUint32(layout.numAt, state.pending.length, true);
    return this;
  }

  /** The bit count, stored as two words: low (Nl) then high (Nh). */
  #bitCount(): bigint {
    const { lengthAt, word } = LAYOUT[this.algorithm];
    if (word === 4) {
      const low = this.#view.getUint32(lengthAt, true);
      const high = this.#view.getUint32(lengthAt + 4, true);
      return (BigInt(high) << 32n) | BigInt(low);
    }
    return this.#view.getBigUint64(lengthAt, true);
  }

  #setBitCount(bits: bigint): void {
    const { lengthAt, word } = LAYOUT[this.algorithm];
    if (word === 4) {
      this.#view.setUint32(lengthAt, Number(bits & 0xffffffffn), true);
      this.#view.setUint32(lengthAt + 4, Number(bits >> 32n), true);
    } else {
      this.#view.setBigUint64(lengthAt, bits, true);
      this.#view.setBigUint64(lengthAt + 8, 0n, true);
    }
  }
}
