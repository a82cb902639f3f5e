/** Byte ranges of a read, resolved against the object's size as R2 resolves them. */
import type { ByteRange } from "../storage";
import { StorageError } from "./errors";

export interface ResolvedRange {
  offset: number;
  length: number;
}

/**
 * Resolves `range` against an object of `size` bytes as R2 does: a suffix longer than the object
 * is the whole object, a length past the end stops at the end, and a range that starts at or
 * after the end, or asks for no bytes, fails with `InvalidRange`.
 */
export function resolveRange(
  range: ByteRange | undefined,
  size: number,
): ResolvedRange | undefined {
  if (range === undefined) return undefined;
  if ("suffix" in range) {
    if (!isCount(range.suffix) || range.suffix === 0) throw invalidRange(range, size);
    const length = Math.min(range.suffix, size);
    return { offset: size - length, length };
  }
  const { offset, length } = range;
  if (!isCount(offset) || offset >= size) throw invalidRange(range, size);
  if (length !== undefined && (!isCount(length) || length === 0)) throw invalidRange(range, size);
  return { offset, length: Math.min(length ?? size, size - offset) };
}

/** Whether `value` is a byte count: a safe integer, zero or more. */
export function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function invalidRange(range: ByteRange, size: number): StorageError {
  return new StorageError("InvalidRange", `${JSON.stringify(range)} of ${size} bytes`);
}
