/**
 * An `ObjectStorage` held in memory, for tests. It follows R2's rules (see rules/) in every
 * point, so that what passes here passes on R2: the same key limit, ranges, conditional puts,
 * list order and pages, and multipart part rules.
 */
import {
  bytesStream,
  checkKey,
  checkMetadata,
  checkPartNumber,
  checkPutSize,
  compareBytes,
  conditionHolds,
  ListPage,
  type PartInfo,
  planList,
  putValueBytes,
  putValueStream,
  readSized,
  resolveRange,
  StorageError,
  selectParts,
  startsWith,
  utf8,
  withBody,
} from "./rules";
import type {
  GetOptions,
  KeyListResult,
  ListOptions,
  ListResult,
  MultipartOptions,
  MultipartUpload,
  ObjectStorage,
  PutOptions,
  PutValue,
  StoredObject,
  StoredObjectBody,
  UploadedPart,
} from "./storage";

interface Entry {
  object: StoredObject;
  bytes: Uint8Array;
}

interface Upload {
  key: string;
  options: MultipartOptions;
  parts: Map<number, PartInfo & { bytes: Uint8Array }>;
}

/** Objects, their keys in R2's order, and uploads in progress, all in maps and arrays. */
export class MemoryStorage implements ObjectStorage {
  readonly #objects = new Map<string, Entry>();
  /** Every key with its UTF-8 bytes, in R2's order. */
  readonly #order: { key: string; bytes: Uint8Array }[] = [];
  readonly #uploads = new Map<string, Upload>();
  /** The clock objects' `uploaded` times come from (tests move it). */
  readonly #now: () => number;
  #serial = 0;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async head(key: string): Promise<StoredObject | null> {
    checkKey(key);
    const entry = this.#objects.get(key);
    return entry ? copyObject(entry.object) : null;
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObjectBody | null> {
    checkKey(key);
    const entry = this.#objects.get(key);
    if (entry === undefined) return null;

    const range = resolveRange(options.range, entry.object.size);
    const { offset, length } = range ?? { offset: 0, length: entry.object.size };
    const object = { ...copyObject(entry.object), ...(range && { range }) };
    return withBody(object, bytesStream(entry.bytes.subarray(offset, offset + length)));
  }

  async put(key: string, value: PutValue, options: PutOptions = {}): Promise<StoredObject | null> {
    checkKey(key);
    checkMetadata(options.customMetadata);
    const bytes = await readValue(value, checkPutSize);

    if (!conditionHolds(options.onlyIf, this.#objects.get(key)?.object)) return null;
    return this.#store(key, bytes, options);
  }

  async delete(keys: string | string[]): Promise<void> {
    const list = typeof keys === "string" ? [keys] : keys;
    for (const key of list) checkKey(key);

    for (const key of list) {
      if (!this.#objects.delete(key)) continue;
      const at = this.#position(utf8(key));
      this.#order.splice(at, 1);
    }
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    const page = this.#page(options);
    const include = new Set(options.include);
    return page.result(page.keys.map((key) => listed(this.#objects.get(key)?.object, include)));
  }

  async listKeys(options: ListOptions = {}): Promise<KeyListResult> {
    return this.#page(options).keyResult();
  }

  #page(options: ListOptions): ListPage {
    const page = new ListPage(planList(options));
    const { prefix } = page.plan;
    const start = Math.max(this.#position(prefix), page.after ? this.#position(page.after) : 0);

    for (let i = start; i < this.#order.length; i++) {
      const entry = this.#order[i];
      if (entry === undefined || !startsWith(entry.bytes, prefix)) break;
      if (page.offer(entry.bytes, entry.key) === "full") break;
    }
    return page;
  }

  async createMultipartUpload(
    key: string,
    options: MultipartOptions = {},
  ): Promise<MultipartUpload> {
    checkKey(key);
    checkMetadata(options.customMetadata);
    const uploadId = crypto.randomUUID();
    this.#uploads.set(uploadId, { key, options: structuredClone(options), parts: new Map() });
    return this.resumeMultipartUpload(key, uploadId);
  }

  resumeMultipartUpload(key: string, uploadId: string): MultipartUpload {
    return {
      key,
      uploadId,
      uploadPart: (partNumber, value) => this.#uploadPart(key, uploadId, partNumber, value),
      abort: async () => this.#abort(key, uploadId),
      complete: (parts) => this.#complete(key, uploadId, parts),
    };
  }

  async #uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    value: PutValue,
  ): Promise<UploadedPart> {
    checkPartNumber(partNumber);
    this.#upload(key, uploadId);
    const bytes = await readValue(value);

    const etag = this.#etag();
    this.#upload(key, uploadId).parts.set(partNumber, {
      partNumber,
      etag,
      size: bytes.byteLength,
      bytes,
    });
    return { partNumber, etag };
  }

  #abort(key: string, uploadId: string): void {
    if (this.#uploads.get(uploadId)?.key === key) this.#uploads.delete(uploadId);
  }

  async #complete(key: string, uploadId: string, listed: UploadedPart[]): Promise<StoredObject> {
    const upload = this.#upload(key, uploadId);
    const parts = selectParts(listed, upload.parts);

    this.#uploads.delete(uploadId);
    const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.size, 0));
    let offset = 0;
    for (const part of parts) {
      bytes.set(part.bytes, offset);
      offset += part.size;
    }
    return this.#store(key, bytes, upload.options);
  }

  #upload(key: string, uploadId: string): Upload {
    const upload = this.#uploads.get(uploadId);
    if (upload?.key !== key) throw new StorageError("NoSuchUpload", `upload ${uploadId}`);
    return upload;
  }

  #store(key: string, bytes: Uint8Array, options: MultipartOptions): StoredObject {
    const object: StoredObject = {
      key,
      size: bytes.byteLength,
      etag: this.#etag(),
      uploaded: new Date(this.#now()),
      httpMetadata: { ...options.httpMetadata },
      customMetadata: { ...options.customMetadata },
    };
    if (!this.#objects.has(key)) {
      const keyBytes = utf8(key);
      this.#order.splice(this.#position(keyBytes), 0, { key, bytes: keyBytes });
    }
    this.#objects.set(key, { object, bytes });
    return copyObject(object);
  }

  /** The index of the first key at or after `bytes`. */
  #position(bytes: Uint8Array): number {
    let low = 0;
    let high = this.#order.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const entry = this.#order[middle];
      if (entry && compareBytes(entry.bytes, bytes) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #etag(): string {
    this.#serial += 1;
    return `${this.#serial.toString(16)}-${crypto.randomUUID()}`;
  }
}

/** A value's bytes, copied: the caller may reuse its buffer once `put` returns. */
async function readValue(
  value: PutValue,
  checkSize: (length: number) => void = () => {},
): Promise<Uint8Array> {
  const sized = putValueStream(value);
  checkSize(sized.length);
  const bytes = putValueBytes(value);
  return bytes === undefined ? readSized(sized) : bytes.slice();
}

function copyObject(object: StoredObject): StoredObject {
  return {
    ...object,
    uploaded: new Date(object.uploaded),
    httpMetadata: { ...object.httpMetadata },
    customMetadata: { ...object.customMetadata },
  };
}

function listed(
  object: StoredObject | undefined,
  include: ReadonlySet<string>,
): StoredObject | undefined {
  if (object === undefined) return undefined;
  const copy = copyObject(object);
  if (!include.has("httpMetadata")) copy.httpMetadata = {};
  if (!include.has("customMetadata")) copy.customMetadata = {};
  return copy;
}
