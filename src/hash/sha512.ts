/**
 * SHA-512 (FIPS 180-4) in TypeScript, with a state that can be saved and loaded.
 *
 * JavaScript has no fast 64-bit integers, so every 64-bit word is a pair of 32-bit halves
 * (high at even indexes, low at odd ones) and additions carry by hand.
 */
import { rootFractions, toHalves } from "./constants";
import { Sha2Base } from "./sha2-base";

const K = toHalves(rootFractions(80, 3n, 64n));
const INITIAL = toHalves(rootFractions(8, 2n, 64n));
const TWO_32 = 2 ** 32;

export class Sha512 extends Sha2Base {
  readonly algorithm = "sha512";
  readonly #h = INITIAL.slice();
  readonly #w = new Int32Array(160);

  constructor() {
    super(128);
  }

  protected compress(view: DataView, offset: number): void {
    const w = this.#w;
    for (let i = 0; i < 32; i++) w[i] = view.getInt32(offset + i * 4);
    for (let i = 32; i < 160; i += 2) {
      const xh = w[i - 30] as number;
      const xl = w[i - 29] as number;
      const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
      const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
      const yh = w[i - 4] as number;
      const yl = w[i - 3] as number;
      const s1h = ((yh >>> 19) | (yl << 13)) ^ ((yl >>> 29) | (yh << 3)) ^ (yh >>> 6);
      const s1l =
        ((yl >>> 19) | (yh << 13)) ^ ((yh >>> 29) | (yl << 3)) ^ ((yl >>> 6) | (yh << 26));
      const lo = u(w[i - 31]) + u(w[i - 13]) + (s0l >>> 0) + (s1l >>> 0);
      w[i] = (w[i - 32] as number) + (w[i - 14] as number) + s0h + s1h + carry(lo);
      w[i + 1] = lo;
    }
    this.#rounds(w);
  }

  /** The 80 rounds over the eight working words, each kept as a high and a low half. */
  #rounds(w: Int32Array): void {
    const h = this.#h;
    let [ah, al, bh, bl, ch, cl, dh, dl] = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]] as Quad;
    let [eh, el, fh, fl, gh, gl, hh, hl] = [
      h[8],
      h[9],
      h[10],
      h[11],
      h[12],
      h[13],
      h[14],
      h[15],
    ] as Quad;
    for (let i = 0; i < 160; i += 2) {
      const e1h =
        ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
      const e1l =
        ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
      const t1l = u(hl) + u(e1l) + u((el & fl) ^ (~el & gl)) + u(K[i + 1]) + u(w[i + 1]);
      const t1h =
        hh + e1h + ((eh & fh) ^ (~eh & gh)) + (K[i] as number) + (w[i] as number) + carry(t1l);
      const e0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
      const e0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
      const t2l = u(e0l) + u((al & bl) ^ (al & cl) ^ (bl & cl));
      const t2h = e0h + ((ah & bh) ^ (ah & ch) ^ (bh & ch)) + carry(t2l);
      hh = gh;
      hl = gl;
      gh = fh;
      gl = fl;
      fh = eh;
      fl = el;
      const newEl = u(dl) + u(t1l);
      eh = (dh + t1h + carry(newEl)) | 0;
      el = newEl | 0;
      dh = ch;
      dl = cl;
      ch = bh;
      cl = bl;
      bh = ah;
      bl = al;
      const newAl = u(t1l) + u(t2l);
      ah = (t1h + t2h + carry(newAl)) | 0;
      al = newAl | 0;
    }
    this.#add([ah, al, bh, bl, ch, cl, dh, dl, eh, el, fh, fl, gh, gl, hh, hl]);
  }

  #add(v: number[]): void {
    const h = this.#h;
    for (let i = 0; i < 16; i += 2) {
      const lo = u(h[i + 1]) + u(v[i + 1]);
      h[i] = (h[i] as number) + (v[i] as number) + carry(lo);
      h[i + 1] = lo;
    }
  }

  protected words(): Uint8Array {
    const out = new Uint8Array(64);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 16; i++) view.setInt32(i * 4, this.#h[i] as number);
    return out;
  }

  protected loadWords(words: Uint8Array): void {
    const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
    for (let i = 0; i < 16; i++) this.#h[i] = view.getInt32(i * 4);
  }

  protected writeLength(view: DataView, bits: number): void {
    view.setUint32(112, 0);
    view.setUint32(116, 0);
    view.setUint32(120, Math.floor(bits / TWO_32));
    view.setUint32(124, bits >>> 0);
  }
}

type Quad = [number, number, number, number, number, number, number, number];

/** A 32-bit half as an unsigned number, so sums of halves can carry. */
function u(half: number | undefined): number {
  return (half as number) >>> 0;
}

function carry(sum: number): number {
  return Math.floor(sum / TWO_32);
}
