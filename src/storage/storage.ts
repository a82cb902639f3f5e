/**
 * The storage interface: the subset of Cloudflare's R2 bucket binding that the registry needs.
 *
 * Every driver (filesystem, in-memory, R2) behaves like R2, including its rules, so that code
 * tested on one runs unchanged on the others:
 * - a put never takes a stream of unknown length: a stream comes with its exact length, and
 *   never more than `MAX_PUT_SIZE` bytes;
 * - multipart parts are at least `MIN_PART_SIZE` bytes and all of one size except the last,
 *   with at most `MAX_PARTS` parts; `complete` refuses anything else;
 * - listing is in lexicographic (UTF-8 byte) order, at most `MAX_LIST_LIMIT` keys a page;
 * - "not found" is `null`; exceptions are failures.
 *
 * Two departures from the binding: `SizedStream` (R2 learns a stream's length from a
 * `FixedLengthStream` or a request body, so the Worker's adapter turns it into one), and
 * `listKeys`, a listing of names alone for the listings that need nothing else: on R2 it is
 * `list`, but a filesystem can answer it without opening a file per key.
 */

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;
export const MAX_LIST_LIMIT = 1000;
export const MAX_KEY_BYTES = 1024;
/** The most one `put` may write (R2: 5 MiB less than 5 GiB); larger objects go multipart. */
export const MAX_PUT_SIZE = 5 * 1024 ** 3 - 5 * 1024 ** 2;

/** A stream whose exact length is known before the first byte is written. */
export interface SizedStream {
  stream: ReadableStream<Uint8Array>;
  length: number;
}

export type PutValue = SizedStream | ArrayBuffer | ArrayBufferView | string | Blob | null;

export interface HttpMetadata {
  contentType?: string;
}

/** Conditions on a write, compared with the stored object's etag; `"*"` means "any object". */
export interface Conditional {
  etagMatches?: string;
  etagDoesNotMatch?: string;
}

/** A byte range: from `offset` for `length` bytes (or to the end), or the last `suffix` bytes. */
export type ByteRange = { offset: number; length?: number } | { suffix: number };

export interface StoredObject {
  key: string;
  size: number;
  etag: string;
  uploaded: Date;
  httpMetadata: HttpMetadata;
  customMetadata: Record<string, string>;
  /** The range served, when the read asked for one. */
  range?: { offset: number; length: number };
}

export interface StoredObjectBody extends StoredObject {
  body: ReadableStream<Uint8Array>;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
  json<T>(): Promise<T>;
  /**
   * The same bytes as a `Blob` when the driver can hand them over without copying (a file
   * slice, which a server can send with `sendfile`). Optional: callers fall back to `body`.
   */
  blob?: Blob;
}

export interface GetOptions {
  range?: ByteRange;
}

export interface PutOptions {
  httpMetadata?: HttpMetadata;
  customMetadata?: Record<string, string>;
  /** When given and not met, nothing is written and `put` returns `null`. */
  onlyIf?: Conditional;
}

export interface ListOptions {
  prefix?: string;
  /** Keys strictly after this one. */
  startAfter?: string;
  cursor?: string;
  delimiter?: string;
  /** At most `MAX_LIST_LIMIT`, which is also the default. */
  limit?: number;
  /** Metadata to fill in on listed objects; without it both metadata fields are empty. */
  include?: ("httpMetadata" | "customMetadata")[];
}

export interface ListResult {
  objects: StoredObject[];
  /** With a delimiter: the distinct prefixes up to and including the delimiter. */
  delimitedPrefixes: string[];
  truncated: boolean;
  /** Present when `truncated`: pass it back to read the next page. */
  cursor?: string;
}

/** A page of `listKeys`: `list`'s page without the objects' metadata. */
export interface KeyListResult {
  keys: string[];
  delimitedPrefixes: string[];
  truncated: boolean;
  cursor?: string;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

export interface MultipartOptions {
  httpMetadata?: HttpMetadata;
  customMetadata?: Record<string, string>;
}

export interface MultipartUpload {
  readonly key: string;
  readonly uploadId: string;
  /** Writes (or replaces) part `partNumber`, from 1 to `MAX_PARTS`. */
  uploadPart(partNumber: number, value: PutValue): Promise<UploadedPart>;
  /** Drops the upload and its parts; a no-op for an upload already gone. */
  abort(): Promise<void>;
  /** Publishes the object from the listed parts, in order, without copying them. */
  complete(parts: UploadedPart[]): Promise<StoredObject>;
}

/** A bucket of objects addressed by key: what the registry stores everything in. */
export interface ObjectStorage {
  head(key: string): Promise<StoredObject | null>;
  get(key: string, options?: GetOptions): Promise<StoredObjectBody | null>;
  put(key: string, value: PutValue, options?: PutOptions): Promise<StoredObject | null>;
  delete(keys: string | string[]): Promise<void>;
  list(options?: ListOptions): Promise<ListResult>;
  /** The keys `list` would return for the same options (`include` aside), without metadata. */
  listKeys(options?: ListOptions): Promise<KeyListResult>;
  createMultipartUpload(key: string, options?: MultipartOptions): Promise<MultipartUpload>;
  resumeMultipartUpload(key: string, uploadId: string): MultipartUpload;
}
