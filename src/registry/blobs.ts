/**
 * Blobs: stored once per registry under their digest, and linked into each repository that
 * holds them. A blob is served in a repository only through a link, so mounting is writing a
 * link, and a base layer shared by many repositories costs its bytes once.
 */
import type { GcGuard } from "../gc/marks";
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
  readonly #guard: GcGuard;

  constructor(storage: ObjectStorage, guard: GcGuard) {
    this.#storage = storage;
    this.#guard = guard;
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

  /**
   * The objects a blob in repository `name` needs: its link, its record and its bytes. A write
   * that comes to depend on the blob protects these from garbage collection.
   */
  keysOf(name: string, info: BlobInfo): string[] {
    const keys = [layout.blobLink(name, info.digest), layout.blob(info.digest)];
    if (info.location !== keys[1]) keys.push(info.location);
    return keys;
  }

  /**
   * Links the blob into repository `name` and protects it from a collection in progress. When
   * the collection is deleting it, removes the link again and returns `false`: the blob is to
   * be uploaded anew.
   */
  async linkProtected(name: string, info: BlobInfo, fresh = false): Promise<boolean> {
    await this.link(name, info);
    const link = layout.blobLink(name, info.digest);
    // A record and bytes just written (`fresh`) are this upload's own: no collection has them.
    const lost = await this.#guard.protect(fresh ? [link] : this.keysOf(name, info));
    if (lost === null) return true;
    if (lost !== link) await this.#storage.delete(link);
    return false;
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
   * registry has it. With `mayPull`, only repositories it allows are sources; a source it
   * refuses is treated as not having the blob. Returns `null` when there is nothing to mount.
   */
  async mount(name: string, digest: Digest, options: MountOptions = {}): Promise<BlobInfo | null> {
    const info = await this.#mountSource(digest, options);
    if (!info) return null;
    return (await this.linkProtected(name, info)) ? info : null;
  }

  async #mountSource(digest: Digest, { from, mayPull }: MountOptions): Promise<BlobInfo | null> {
    if (from !== undefined) return mayPull && !mayPull(from) ? null : this.stat(from, digest);
    if (!mayPull) return this.statGlobal(digest);
    if (!(await this.statGlobal(digest))) return null;
    return this.#findPullableLink(digest, mayPull);
  }

  /**
   * The blob as linked in the first repository of the catalog that `mayPull` allows and that
   * links it. Looks into no more than `MOUNT_SEARCH_LIMIT` repositories, a few at a time, among
   * the first `MOUNT_SEARCH_PAGES` pages of the catalog.
   */
  async #findPullableLink(
    digest: Digest,
    mayPull: (repository: string) => boolean,
  ): Promise<BlobInfo | null> {
    const prefix = layout.catalogPrefix;
    let budget = MOUNT_SEARCH_LIMIT;
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await this.#storage.listKeys({ prefix, cursor });
      const names = page.keys.map((key) => key.slice(prefix.length)).filter(mayPull);
      for (const batch of batches(names, MOUNT_SEARCH_BATCH)) {
        const links = await Promise.all(batch.map((repository) => this.stat(repository, digest)));
        const found = links.find((info) => info !== null);
        if (found) return found;
        budget -= batch.length;
        if (budget <= 0) return null;
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor !== undefined && ++pages < MOUNT_SEARCH_PAGES);
    return null;
  }
}

export interface MountOptions {
  /** The repository the client names as the source. */
  from?: string;
  /** Whether the caller may pull from a repository; absent when every repository is readable. */
  mayPull?: (repository: string) => boolean;
}

/** The most repositories a mount without `from` looks into when not every one is readable. */
const MOUNT_SEARCH_LIMIT = 100;
const MOUNT_SEARCH_PAGES = 10;
const MOUNT_SEARCH_BATCH = 10;

function batches<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
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
