/**
 * An object on disk: its metadata file under keys/ and, unless it is small, its data file under
 * data/, named by etag. An object of at most INLINE_STORE_MAX bytes (a manifest, a tag, a link,
 * an upload session, a small blob: most writes of a push) keeps them in its metadata file, so
 * writing it creates one file instead of two and reading it opens one.
 *
 * Invariants, and why they hold:
 * - A reader sees an object whole or not at all, data and metadata together: the bytes go to a
 *   fresh data file named by the new etag (or into the metadata itself), then the key's metadata
 *   file, which names that etag, is renamed into place. That one rename publishes the object;
 *   before it nothing points at the new bytes. Metadata and data are plain files, so they survive
 *   restarts.
 * - The bytes at a data path never change: replacing or deleting an object removes its old data
 *   file, never rewrites it. A reader holding an old path (the `blob` slice, or the body of a
 *   large object, both opened lazily) gets that version whole or fails with ENOENT; it cannot
 *   see another version's bytes. Objects up to INLINE_MAX are read by `open` itself, so reading
 *   them never fails afterwards.
 * - Writes to one key hold its lock (see lock.ts), which makes a conditional put's check-and-write
 *   atomic, also between processes.
 */
import { mkdir, rename, rmdir, stat } from "node:fs/promises";
import { dirname, sep } from "node:path";
import { bytesStream, conditionHolds, type ResolvedRange } from "../rules";
import type { Conditional, StoredObject } from "../storage";
import { isMissing, readJson, readRange, replaceFile, unlinkQuietly } from "./files";
import type { Layout } from "./layout";
import { withLock } from "./lock";
import { describe, type ObjectMeta } from "./meta";

/** Objects this small are read into memory by `open`. */
const INLINE_MAX = 256 * 1024;
/** Objects this small are stored in their metadata file. */
export const INLINE_STORE_MAX = 8 * 1024;

export class ObjectFiles {
  readonly #layout: Layout;
  /** The data/ subdirectories known to exist, so each is made once. */
  readonly #dataDirs = new Set<string>();

  constructor(layout: Layout) {
    this.#layout = layout;
  }

  /** The metadata in the key's file at `path`, or `undefined`. */
  readMeta(path: string): Promise<ObjectMeta | undefined> {
    return readJson<ObjectMeta>(path);
  }

  /**
   * The bytes of `range` of the version `meta` names, as a stream and a blob; `undefined` when
   * its data file is gone (the key was replaced or deleted meanwhile).
   */
  async open(meta: ObjectMeta, { offset, length }: ResolvedRange) {
    if (meta.inline !== undefined) {
      const bytes = Buffer.from(meta.inline, "base64").subarray(offset, offset + length);
      return { stream: bytesStream(bytes), blob: new Blob([bytes]) };
    }
    const path = this.#layout.dataPath(meta.etag);
    try {
      if (length <= INLINE_MAX) {
        const bytes = await readRange(path, offset, length);
        return { stream: bytesStream(bytes), blob: new Blob([bytes]) };
      }
      await stat(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    const blob = Bun.file(path).slice(offset, offset + length);
    return { stream: blob.stream(), blob };
  }

  /**
   * Points the key at `meta`, under the key's lock: at the data file made from `source` (moved
   * into data/), or at the bytes in `meta.inline` when there is no source. `null`, with nothing
   * moved, when `onlyIf` fails.
   */
  async publish(
    key: string,
    path: string,
    source: string | undefined,
    meta: ObjectMeta,
    onlyIf?: Conditional,
  ): Promise<StoredObject | null> {
    return withLock(this.#layout.lockPath(key), async () => {
      const current = await this.readMeta(path);
      if (!conditionHolds(onlyIf, current)) return null;

      if (source !== undefined) await this.#placeData(source, meta.etag);
      await replaceFile(this.#layout.tempPath(), path, JSON.stringify(meta), true);
      if (current !== undefined) await this.#removeData(current);
      return describe(key, meta);
    });
  }

  /** Removes the key's files, under its lock; whether there was an object. */
  async remove(key: string, path: string): Promise<boolean> {
    return withLock(this.#layout.lockPath(key), async () => {
      const meta = await this.readMeta(path);
      if (meta === undefined) return false;
      await unlinkQuietly(path);
      await this.#removeData(meta);
      return true;
    });
  }

  /** Removes the now empty directories above a deleted key's file. */
  async prune(path: string): Promise<void> {
    const keys = this.#layout.keys;
    for (let dir = dirname(path); dir.startsWith(keys + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }

  async #removeData(meta: ObjectMeta): Promise<void> {
    if (meta.inline === undefined) await unlinkQuietly(this.#layout.dataPath(meta.etag));
  }

  async #placeData(source: string, etag: string): Promise<void> {
    const target = this.#layout.dataPath(etag);
    const dir = dirname(target);
    if (!this.#dataDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#dataDirs.add(dir);
    }
    await rename(source, target);
  }
}
