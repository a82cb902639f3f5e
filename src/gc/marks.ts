/**
 * The marks garbage collection puts on the objects it means to delete, and the writers' side of
 * the protocol: `protect`, which every write that makes an object needed again runs after the
 * write. The invariant they keep, and why it holds, is told at the top of collector.ts.
 *
 * A mark lives at `gc/marks/<key>` while a collection runs (`gc/run` exists) and holds one
 * state in its metadata:
 *
 *   condemned  GC found the object unused; it is not deleted yet
 *   rescued    a writer needed it after that: GC leaves it alone
 *   claimed    GC committed to deleting it: a writer that needs it fails
 *   deleted    GC deleted it: an object at that key now was written since, and is not GC's
 *
 * Every change of state is a conditional put on the mark's etag, so between a writer rescuing
 * an object and GC claiming it exactly one wins.
 */
import type { ObjectStorage, StoredObject } from "../storage/storage";
import { layout } from "../registry/layout";

export type MarkState = "condemned" | "rescued" | "claimed" | "deleted";

export interface Mark {
  state: MarkState;
  etag: string;
}

export function markOf(object: StoredObject | null): Mark | null {
  if (!object) return null;
  return { state: object.customMetadata.state as MarkState, etag: object.etag };
}

/** Writes `state` on the mark of `key`; with `from`, only over the mark with that etag. */
export async function setMark(
  storage: ObjectStorage,
  key: string,
  state: MarkState,
  from?: string,
): Promise<Mark | null> {
  const onlyIf = from === undefined ? undefined : { etagMatches: from };
  const written = await storage.put(layout.gcMark(key), null, {
    customMetadata: { state },
    onlyIf,
  });
  return written ? { state, etag: written.etag } : null;
}

export class GcGuard {
  readonly #storage: ObjectStorage;

  constructor(storage: ObjectStorage) {
    this.#storage = storage;
  }

  /**
   * Makes sure the objects at `keys`, which the caller has just written or made use of, are
   * there and stay: rescues those a running collection has condemned. Returns the first key
   * that is missing or that the collection is deleting, or `null` when all of them are safe.
   *
   * The order matters: first whether a collection runs, then the marks, then the objects
   * themselves. A collection deletes only objects it claimed, and removes `gc/run` only after
   * its deletions; so a writer that finds no run, or no claim, and then finds the object, has
   * an object that no collection running or finished will delete.
   */
  async protect(keys: readonly string[]): Promise<string | null> {
    if (await this.#storage.head(layout.gcRun)) {
      const safe = await Promise.all(keys.map((key) => this.#rescue(key)));
      const lost = safe.indexOf(false);
      if (lost >= 0) return keys[lost] ?? null;
    }
    const objects = await Promise.all(keys.map((key) => this.#storage.head(key)));
    const missing = objects.indexOf(null);
    return missing >= 0 ? (keys[missing] ?? null) : null;
  }

  /** False when the collection has claimed the object; rescues it when only condemned. */
  async #rescue(key: string): Promise<boolean> {
    for (;;) {
      const mark = markOf(await this.#storage.head(layout.gcMark(key)));
      if (!mark || mark.state === "rescued" || mark.state === "deleted") return true;
      if (mark.state === "claimed") return false;
      if (await setMark(this.#storage, key, "rescued", mark.etag)) return true;
    }
  }
}
