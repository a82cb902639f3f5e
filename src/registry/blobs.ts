/**
 * Blobs: stored once per registry under their digest, and linked into each repository that
 * holds them. A blob is served in a repository only through a link, so mounting is writing a
 * link, and a base layer shared by many repositories costs its bytes once.
 */
import type { ByteRange, ObjectStorage, StoredObjectBody } from "../storage/storage";
import type { Digest } from "./digest";
import { RegistryError } from "./errors";
import { layout } from "./layout";

export interface BlobInfo {
  digest: Digest;
  size: number;
  /** The key holding the bytes: the blob's own key, or the object a multipart upload built. */
  location: string;
}

export interface BlobContent {
  info: BlobInfo;
  /** The bytes served: all of them, or the requested range. */
  object: StoredObjectBody;
  range?: { offset: number; length: number };
}

/** 416 for a read range that starts past the end of the blob. */
export class RangeNotSatisfiable extends RegistryError {
  readonly size: number;

  constructor(size: number) {
    super(416, "SIZE_INVALID", "requested range not satisfiable", { size });
    this.size = size;
  }
}

export class BlobStore {
  readonly #storage: ObjectStorage;

  constructor(storage: ObjectStorage) {
    this.#storage = storage;
  }

  /** The blob as linked in repository `name`, or `null` when it is not linked there. */
  async stat(name: string, digest: Digest): Promise<BlobInfo | null> {
    const link = await this.#storage.head(layout.blobLink(name, digest));
    if (!link) return null;
    const size = Number(link.customMetadata.size);
    return { digest, size, location: link.customMetadata.location ?? layout.blob(digest) };
  }

  /** The blob anywhere in the registry, whatever repository links it, or `null`. */
  async statGlobal(digest: Digest): Promise<BlobInfo | null> {
    const record = await this.#storage.head(layout.blob(digest));
    if (!record) return null;
    const { location, size } = record.customMetadata;
    if (location === undefined) return { digest, size: record.size, location: layout.blob(digest) };
    return { digest, size: Number(size), location };
  }

  /** Opens the blob's bytes in repository `name`; `null` when it is unknown there. */
  async open(name: string, digest: Digest, range?: ByteRange): Promise<BlobContent | null> {
    const info = await this.stat(name, digest);
    if (!info) return null;
    const exact = range ? resolveRange(range, info.size) : undefined;

    const object = await this.#storage.get(info.location, exact ? { range: exact } : undefined);
    if (!object) return null;
    return { info, object, range: exact };
  }

  /** Makes the blob part of repository `name`. */
  async link(name: string, info: BlobInfo): Promise<void> {
    const customMetadata: Record<string, string> = { size: String(info.size) };
    if (info.location !== layout.blob(info.digest)) customMetadata.location = info.location;
    await this.#storage.put(layout.blobLink(name, info.digest), null, { customMetadata });
  }

  /** Records a blob whose bytes a multipart upload assembled at `info.location`. */
  async record(info: BlobInfo): Promise<void> {
    const customMetadata = { location: info.location, size: String(info.size) };
    await this.#storage.put(layout.blob(info.digest), null, { customMetadata });
  }

  /** Removes the blob from repository `name`; `false` when it was not linked there. */
  async unlink(name: string, digest: Digest): Promise<boolean> {
    const key = layout.blobLink(name, digest);
    if (!(await this.#storage.head(key))) return false;
    await this.#storage.delete(key);
    return true;
  }

  /**
   * Links a blob from another repository: from `from` when given, else from wherever the
   * registry has it. Returns `null` when there is nothing to mount.
   */
  async mount(name: string, digest: Digest, from?: string): Promise<BlobInfo | null> {
    const info = from === undefined ? await this.statGlobal(digest) : await this.stat(from, digest);
    if (!info) return null;
    await this.link(name, info);
    return info;
  }
}

/** The exact bytes a range asks for, clamped to the blob; 416 when none of it exists. */
function resolveRange(range: ByteRange, size: number): { offset: number; length: number } {
  if ("suffix" in range) {
    if (range.suffix <= 0 || size === 0) throw new RangeNotSatisfiable(size);
    const offset = Math.max(0, size - range.suffix);
    return { offset, length: size - offset };
  }
  if (range.offset >= size) throw new RangeNotSatisfiable(size);
  const rest = size - range.offset;
  return { offset: range.offset, length: Math.min(range.length ?? rest, rest) };
}
