/** Parsing of the request headers and query parameters the endpoints share. */
import type { AppContext as Context } from "./env";
import { BlobUploadInvalid, SizeInvalid, Unsupported } from "../registry/errors";
import type { IncomingBytes } from "../registry/uploads";
import type { ByteRange } from "../storage/storage";

const CONTENT_RANGE = /^(?:bytes )?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/;
const RANGE = /^bytes=(\d*)-(\d*)$/;
const DIGITS = /^\d+$/;

/** `Content-Length` as a number; `undefined` when absent (a chunked body). */
export function contentLength(c: Context): number | undefined {
  const value = c.req.header("content-length");
  if (value === undefined) return undefined;
  if (!DIGITS.test(value)) throw new SizeInvalid("invalid Content-Length");
  return Number(value);
}

/** `Content-Range` of an upload chunk (`<start>-<end>`, optionally prefixed by `bytes `). */
export function contentRange(c: Context): { start: number; end: number } | undefined {
  const value = c.req.header("content-range");
  if (value === undefined) return undefined;
  const match = CONTENT_RANGE.exec(value.trim());
  const [start, end] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || end < start) throw new BlobUploadInvalid(`invalid Content-Range: ${value}`);
  return { start, end };
}

/** The request body of an upload request, with its declared length and range. */
export function incomingBytes(c: Context): IncomingBytes {
  const length = contentLength(c);
  const body = length === 0 ? null : c.req.raw.body;
  return { body, length, range: contentRange(c) };
}

/**
 * A single `Range: bytes=…` of a read. Malformed and multi-part ranges are ignored (the whole
 * content is served), as RFC 9110 allows.
 */
export function byteRange(c: Context): ByteRange | undefined {
  const match = RANGE.exec(c.req.header("range")?.trim() ?? "");
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") return { suffix: Number(last) };
  if (last === "") return { offset: Number(first) };
  if (Number(last) < Number(first)) return undefined;
  return { offset: Number(first), length: Number(last) - Number(first) + 1 };
}

/** The `n` and `last` query parameters of a listing; `n` defaults to `fallback`. */
export function paging(c: Context, fallback: number, max: number) {
  const n = c.req.query("n");
  if (n !== undefined && !DIGITS.test(n)) throw new Unsupported(`invalid n: ${n}`);
  const limit = n === undefined ? fallback : Math.min(Number(n), max);
  return { limit, last: c.req.query("last") || undefined, explicit: n !== undefined };
}

/** Reads a small body whole, refusing more than `limit` bytes with `tooLarge()`. */
export async function readLimited(c: Context, limit: number, tooLarge: () => Error) {
  const declared = contentLength(c);
  if (declared !== undefined && declared > limit) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);

  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
