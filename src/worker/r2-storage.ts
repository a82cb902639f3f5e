/**
 * The Worker's storage: the R2 bucket binding behind the registry's storage interface. The two
 * have one shape, so this only maps types, and gives a stream of known length to R2 as the
 * `FixedLengthStream` it requires.
 */
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
} from "../storage/storage";

type R2Value = ReadableStream | ArrayBuffer | ArrayBufferView | string | null | Blob;

export class R2Storage implements ObjectStorage {
  readonly #bucket: R2Bucket;

  constructor(bucket: R2Bucket) {
    this.#bucket = bucket;
  }

  async head(key: string): Promise<StoredObject | null> {
    const object = await this.#bucket.head(key);
    return object ? stored(object) : null;
  }

  async get(key: string, options?: GetOptions): Promise<StoredObjectBody | null> {
    const object = await this.#bucket.get(key, options?.range ? { range: options.range } : {});
    if (!object) return null;
    return {
      ...stored(object),
      body: object.body,
      arrayBuffer: () => object.arrayBuffer(),
      text: () => object.text(),
      json: <T>() => object.json<T>(),
    };
  }

  async put(key: string, value: PutValue, options: PutOptions = {}): Promise<StoredObject | null> {
    const { httpMetadata, customMetadata, onlyIf } = options;
    const object = await this.#bucket.put(key, r2Value(value), {
      httpMetadata,
      customMetadata,
      ...(onlyIf ? { onlyIf } : {}),
    });
    return object ? stored(object) : null;
  }

  delete(keys: string | string[]): Promise<void> {
    return this.#bucket.delete(keys);
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    const result = await this.#bucket.list(options);
    return {
      objects: result.objects.map(stored),
      delimitedPrefixes: result.delimitedPrefixes,
      truncated: result.truncated,
      cursor: result.truncated ? result.cursor : undefined,
    };
  }

  /** R2 lists metadata at no extra cost: this is `list` with the names kept. */
  async listKeys(options: ListOptions = {}): Promise<KeyListResult> {
    const { objects, ...rest } = await this.list(options);
    return { keys: objects.map((object) => object.key), ...rest };
  }

  async createMultipartUpload(key: string, options?: MultipartOptions): Promise<MultipartUpload> {
    return multipart(await this.#bucket.createMultipartUpload(key, options));
  }

  resumeMultipartUpload(key: string, uploadId: string): MultipartUpload {
    return multipart(this.#bucket.resumeMultipartUpload(key, uploadId));
  }
}

function multipart(upload: R2MultipartUpload): MultipartUpload {
  return {
    key: upload.key,
    uploadId: upload.uploadId,
    uploadPart: (partNumber, value) => upload.uploadPart(partNumber, r2Value(value) ?? ""),
    abort: () => upload.abort(),
    complete: async (parts) => stored(await upload.complete(parts)),
  };
}

/** R2 takes streams only when it knows their length: a `FixedLengthStream` tells it. */
function r2Value(value: PutValue): R2Value {
  if (value === null || typeof value !== "object" || value instanceof Blob) return value;
  if (!("stream" in value)) return value;
  return value.stream.pipeThrough(new FixedLengthStream(value.length));
}

function stored(object: R2Object): StoredObject {
  const range = object.range;
  return {
    key: object.key,
    size: object.size,
    etag: object.etag,
    uploaded: object.uploaded,
    httpMetadata: { contentType: object.httpMetadata?.contentType },
    customMetadata: object.customMetadata ?? {},
    range:
      range && "offset" in range
        ? { offset: range.offset ?? 0, length: range.length ?? 0 }
        : undefined,
  };
}
