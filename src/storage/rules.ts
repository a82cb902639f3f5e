/**
 * The rules of R2 that every local driver enforces, so that code tested on them runs unchanged on
 * R2: key limits, metadata limits, byte ranges, conditional writes, list pages and cursors,
 * multipart part rules, and reading a `PutValue` as exactly its declared number of bytes.
 *
 * Keys are compared as UTF-8 bytes (R2's order), never as JavaScript strings: UTF-16 puts an
 * astral character such as U+1F600 before U+FF5E, UTF-8 puts it after. Runtime-neutral: no Bun or
 * Node APIs here.
 */
import {
  type ByteRange,
  type Conditional,
  type ListOptions,
  MAX_KEY_BYTES,
  MAX_LIST_LIMIT,
  MAX_PARTS,
  MIN_PART_SIZE,
  type PutValue,
  type SizedStream,
  type StoredObject,
  type StoredObjectBody,
  type UploadedPart,
} from "./storage";

/** R2's cap on custom metadata, counted as its keys' and values' lengths. */
export const MAX_METADATA_BYTES = 2048;
/** R2's cap on a single (not multipart) put: 5 GiB less 5 MiB. */
export const MAX_PUT_BYTES = 5 * 1024 ** 3 - 5 * 1024 ** 2;

export type StorageErrorCode =
  | "InvalidKey"
  | "InvalidRange"
  | "InvalidLength"
  | "InvalidArgument"
  | "MetadataTooLarge"
  | "EntityTooLarge"
  | "EntityTooSmall"
  | "InvalidPart"
  | "InvalidPartOrder"
  | "BadUpload"
  | "NoSuchUpload";

/** A request the storage refuses, named after R2's error (e.g. `InvalidRange` is R2's 416). */
export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "StorageError";
    this.code = code;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

// ---- Keys -----------------------------------------------------------------------------------

/** Refuses what R2 refuses: a key longer than `MAX_KEY_BYTES` bytes of UTF-8. */
export function checkKey(key: string): void {
  if (typeof key !== "string") throw new StorageError("InvalidKey", "a key is a string");
  if (utf8(key).byteLength > MAX_KEY_BYTES) {
    throw new StorageError("InvalidKey", `key longer than ${MAX_KEY_BYTES} bytes`);
  }
}

/**
 * Refuses, beyond R2's rule, every key a filesystem cannot hold safely: empty or absolute keys,
 * empty, `.` or `..` segments, control characters, backslashes and lone surrogates. The registry
 * never makes such keys; refusing them keeps any key from naming a path outside its directory.
 */
export function checkPortableKey(key: string): void {
  checkKey(key);
  const problem = keyCharacterProblem(key) ?? keySegmentProblem(key);
  if (problem !== undefined) {
    throw new StorageError("InvalidKey", `${problem} in key ${JSON.stringify(key)}`);
  }
}

function keyCharacterProblem(key: string): string | undefined {
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    if (unit < 0x20 || (unit >= 0x7f && unit <= 0x9f)) return "control character";
    if (unit === 0x5c) return "backslash";
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = key.charCodeAt(i + 1);
    if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return "lone surrogate";
    i++;
  }
  return undefined;
}

function keySegmentProblem(key: string): string | undefined {
  if (key === "") return "nothing";
  for (const segment of key.split("/")) {
    if (segment === "") return "empty segment";
    if (segment === "." || segment === "..") return "dot segment";
  }
  return undefined;
}

/** Orders byte strings the way R2 orders keys: bytewise, a prefix before its extensions. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const common = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < common; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.byteLength - b.byteLength;
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.byteLength > bytes.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

// ---- Metadata and conditions ----------------------------------------------------------------

/** Refuses custom metadata over R2's cap (a string with a char over U+00FF counts double). */
export function checkMetadata(customMetadata: Record<string, string> | undefined): void {
  let total = 0;
  for (const [name, value] of Object.entries(customMetadata ?? {})) {
    total += serialisedLength(name) + serialisedLength(value);
  }
  if (total > MAX_METADATA_BYTES) {
    throw new StorageError("MetadataTooLarge", `custom metadata over ${MAX_METADATA_BYTES} bytes`);
  }
}

function serialisedLength(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return text.length * 2;
  return text.length;
}

/**
 * Whether a conditional write may go ahead over `current` (`undefined`: no object). As in R2,
 * `etagMatches` fails when there is no object, and `"*"` matches any object.
 */
export function conditionHolds(
  onlyIf: Conditional | undefined,
  current: { etag: string } | undefined,
): boolean {
  if (onlyIf === undefined) return true;
  const { etagMatches, etagDoesNotMatch } = onlyIf;
  if (current === undefined) return etagMatches === undefined;
  const matches = (etag: string) => etag === "*" || etag === current.etag;
  if (etagMatches !== undefined && !matches(etagMatches)) return false;
  return etagDoesNotMatch === undefined || !matches(etagDoesNotMatch);
}

// ---- Ranges ---------------------------------------------------------------------------------

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

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function invalidRange(range: ByteRange, size: number): StorageError {
  return new StorageError("InvalidRange", `${JSON.stringify(range)} of ${size} bytes`);
}

// ---- Lists ----------------------------------------------------------------------------------

/** What one list call asks for, in bytes; `after` is exclusive and may be a group's end. */
export interface ListPlan {
  prefix: Uint8Array;
  after: Uint8Array | undefined;
  delimiter: Uint8Array | undefined;
  limit: number;
}

/** The page size: `MAX_LIST_LIMIT` by default, and clamped to 1..`MAX_LIST_LIMIT`. */
export function clampListLimit(limit: number | undefined): number {
  if (limit === undefined || Number.isNaN(limit)) return MAX_LIST_LIMIT;
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(limit)));
}

export function planList(options: ListOptions = {}): ListPlan {
  const startAfter = options.startAfter === undefined ? undefined : utf8(options.startAfter);
  const cursor = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  return {
    prefix: utf8(options.prefix ?? ""),
    after: later(startAfter, cursor),
    delimiter: options.delimiter ? utf8(options.delimiter) : undefined,
    limit: clampListLimit(options.limit),
  };
}

function later(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return compareBytes(a, b) >= 0 ? a : b;
}

/** A byte no UTF-8 key contains: a group's bytes then this sorts after every key in the group. */
const PAST_GROUP = Uint8Array.of(0xff);

/** How a key offered to a page was taken. */
export type Offered = "object" | "group" | "skipped" | "full";

/**
 * Builds one list page from keys offered in ascending order. `after` moves as keys are taken, so a
 * driver walking its keys can consult it to skip what is done, a whole delimited group included.
 */
export class ListPage {
  readonly plan: ListPlan;
  after: Uint8Array | undefined;
  readonly keys: string[] = [];
  readonly delimitedPrefixes: string[] = [];
  truncated = false;

  constructor(plan: ListPlan) {
    this.plan = plan;
    this.after = plan.after;
  }

  /** Whether a key, or a subtree of keys all starting with `bytes`, may hold keys still wanted. */
  wants(bytes: Uint8Array, subtree: boolean): boolean {
    const { prefix } = this.plan;
    if (!startsWith(bytes, prefix) && !(subtree && startsWith(prefix, bytes))) return false;
    if (this.after === undefined || compareBytes(bytes, this.after) > 0) return true;
    if (!subtree || !startsWith(this.after, bytes)) return false;
    return this.after[bytes.byteLength] !== PAST_GROUP[0];
  }

  /**
   * Whether every key under a subtree whose keys all start with `bytes` falls in one delimited
   * group that the page still wants; then offering `bytes` stands for the whole subtree.
   */
  takesWhole(bytes: Uint8Array): boolean {
    if (this.after !== undefined && compareBytes(bytes, this.after) <= 0) return false;
    return startsWith(bytes, this.plan.prefix) && this.#group(bytes) !== undefined;
  }

  /** Takes the next key; `"full"` means the page is complete and the walk can stop. */
  offer(bytes: Uint8Array, key = fromUtf8(bytes)): Offered {
    if (!this.wants(bytes, false)) return "skipped";
    if (this.keys.length + this.delimitedPrefixes.length >= this.plan.limit) {
      this.truncated = true;
      return "full";
    }
    const group = this.#group(bytes);
    if (group === undefined) {
      this.keys.push(key);
      this.after = bytes;
      return "object";
    }
    this.delimitedPrefixes.push(fromUtf8(group));
    this.after = concatBytes(group, PAST_GROUP);
    return "group";
  }

  /** Where the next page starts, when this one is truncated. */
  get cursor(): string | undefined {
    return this.truncated && this.after ? encodeCursor(this.after) : undefined;
  }

  #group(bytes: Uint8Array): Uint8Array | undefined {
    const { prefix, delimiter } = this.plan;
    if (delimiter === undefined) return undefined;
    const at = indexOfBytes(bytes, delimiter, prefix.byteLength);
    return at < 0 ? undefined : bytes.slice(0, at + delimiter.byteLength);
  }
}

function indexOfBytes(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = from; i + needle.byteLength <= bytes.byteLength; i++) {
    if (startsWith(bytes.subarray(i), needle)) return i;
  }
  return -1;
}

function encodeCursor(after: Uint8Array): string {
  return Array.from(after, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function decodeCursor(cursor: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})+$/.test(cursor)) {
    throw new StorageError("InvalidArgument", `not a list cursor: ${JSON.stringify(cursor)}`);
  }
  return Uint8Array.from(cursor.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

// ---- Multipart ------------------------------------------------------------------------------

/** A stored part as a driver knows it. */
export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
}

export function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new StorageError("InvalidPart", `part number ${partNumber} is not 1 to ${MAX_PARTS}`);
  }
}

/**
 * Checks the parts listed to `complete` against the stored ones and returns those, in order.
 * The list is non-empty, ascending, without duplicates; each part exists with the listed etag;
 * every part but the last has one size of at least `MIN_PART_SIZE`; the last is no larger.
 */
export function selectParts<P extends PartInfo>(
  listed: readonly UploadedPart[],
  stored: ReadonlyMap<number, P>,
): P[] {
  if (listed.length === 0) throw new StorageError("InvalidPart", "no parts listed");
  const parts = listed.map((part, i) => {
    checkPartNumber(part.partNumber);
    const previous = listed[i - 1];
    if (previous !== undefined && part.partNumber <= previous.partNumber) {
      throw new StorageError("InvalidPartOrder", "parts must be listed in ascending order");
    }
    const found = stored.get(part.partNumber);
    if (found === undefined || found.etag !== part.etag) {
      throw new StorageError("InvalidPart", `part ${part.partNumber} not found with that etag`);
    }
    return found;
  });
  checkPartSizes(parts);
  return parts;
}

function checkPartSizes(parts: readonly PartInfo[]): void {
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (first === undefined || last === undefined || first === last) return;
  for (const part of parts.slice(0, -1)) {
    if (part.size < MIN_PART_SIZE) {
      throw new StorageError("EntityTooSmall", `part ${part.partNumber} under ${MIN_PART_SIZE}`);
    }
    if (part.size !== first.size) throw new StorageError("BadUpload", "parts differ in size");
  }
  if (last.size > first.size) throw new StorageError("BadUpload", "last part larger than others");
}

// ---- Values ---------------------------------------------------------------------------------

/** The bytes of a `PutValue` already in memory; `undefined` for a stream or a `Blob`. */
export function putValueBytes(value: PutValue): Uint8Array | undefined {
  if (isSizedStream(value) || value instanceof Blob) return undefined;
  if (value === null) return new Uint8Array(0);
  if (typeof value === "string") return utf8(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Any `PutValue` as a stream of exactly `length` bytes: a `SizedStream` that yields more or fewer
 * fails while it is read, so a driver that writes it through stores nothing.
 */
export function putValueStream(value: PutValue): SizedStream {
  if (isSizedStream(value)) {
    if (!isCount(value.length)) throw new StorageError("InvalidLength", `length ${value.length}`);
    return { stream: value.stream.pipeThrough(exactly(value.length)), length: value.length };
  }
  if (value instanceof Blob) return { stream: value.stream(), length: value.size };
  const bytes = putValueBytes(value) ?? new Uint8Array(0);
  return { stream: bytesStream(bytes), length: bytes.byteLength };
}

function isSizedStream(value: PutValue): value is SizedStream {
  if (typeof value !== "object" || value === null || value instanceof Blob) return false;
  return "stream" in value && "length" in value;
}

/** Refuses a put over R2's single-put size cap. */
export function checkPutSize(length: number): void {
  if (length > MAX_PUT_BYTES) throw new StorageError("EntityTooLarge", `${length} bytes`);
}

function exactly(length: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > length) throw new StorageError("InvalidLength", `more than ${length} bytes`);
      controller.enqueue(chunk);
    },
    flush() {
      if (seen < length) throw new StorageError("InvalidLength", `${seen} of ${length} bytes`);
    },
  });
}

/** Reads a sized stream whole. */
export async function readSized(sized: SizedStream): Promise<Uint8Array> {
  const bytes = new Uint8Array(sized.length);
  const reader = sized.stream.getReader();
  for (let offset = 0; ; ) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes.set(value, offset);
    offset += value.byteLength;
  }
}

const STREAM_CHUNK = 64 * 1024;

/** A stream over bytes in memory, in chunks of a size a network write would use. */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + STREAM_CHUNK));
      offset += STREAM_CHUNK;
    },
  });
}

/** Adds a body, and the readers of it, to an object's description. */
export function withBody(
  object: StoredObject,
  body: ReadableStream<Uint8Array>,
  blob?: Blob,
): StoredObjectBody {
  const text = () => new Response(body).text();
  return {
    ...object,
    body,
    ...(blob && { blob }),
    arrayBuffer: () => new Response(body).arrayBuffer(),
    text,
    json: async <T>() => JSON.parse(await text()) as T,
  };
}
