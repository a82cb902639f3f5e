/** SHA-256 (FIPS 180-4) in TypeScript, with a state that can be saved and loaded. */
import { rootFractions, toInt32 } from "./constants";
import { Sha2Base } from "./sha2-base";

const K = toInt32(rootFractions(64, 3n, 32n));
const INITIAL = toInt32(rootFractions(8, 2n, 32n));

export class Sha256 extends Sha2Base {
  readonly algorithm = "sha256";
  readonly #h = INITIAL.slice();
  readonly #w = new Int32Array(64);

  constructor() {
    super(64);
  }

  protected compress(view: DataView, offset: number): void {
    const w = this.#w;
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(offset + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15] as number;
      const b = w[i - 2] as number;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
    }
    this.#rounds(w);
  }

  #rounds(w: Int32Array): void {
    const h = this.#h;
    let a = h[0] as number;
    let b = h[1] as number;
    let c = h[2] as number;
    let d = h[3] as number;
    let e = h[4] as number;
    let f = h[5] as number;
    let g = h[6] as number;
    let hh = h[7] as number;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (w[i] as number)) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0] as number) + a;
    h[1] = (h[1] as number) + b;
    h[2] = (h[2] as number) + c;
    h[3] = (h[3] as number) + d;
    h[4] = (h[4] as number) + e;
    h[5] = (h[5] as number) + f;
    h[6] = (h[6] as number) + g;
    h[7] = (h[7] as number) + hh;
  }

  protected words(): Uint8Array {
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) view.setInt32(i * 4, this.#h[i] as number);
    return out;
  }

  protected loadWords(words: Uint8Array): void {
    const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
    for (let i = 0; i < 8; i++) this.#h[i] = view.getInt32(i * 4);
  }

  protected writeLength(view: DataView, bits: number): void {
    view.setUint32(56, Math.floor(bits / 2 ** 32));
    view.setUint32(60, bits >>> 0);
  }
}
