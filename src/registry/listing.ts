/** Paging through key listings: the shape shared by tags, the catalog and referrers. */
import { MAX_LIST_LIMIT, type ObjectStorage, type StoredObject } from "../storage/storage";

export interface Page<T> {
  items: T[];
  /** True when more items follow the last one. */
  more: boolean;
}

export interface PageOptions {
  /** Start strictly after this name. */
  last?: string;
  /** At most this many items. */
  limit: number;
  include?: ("httpMetadata" | "customMetadata")[];
}

/** One batch of a listing: entries, and the cursor of the next batch when there is one. */
interface Batch<E> {
  entries: E[];
  cursor?: string;
}

/** Up to `limit` names of the keys under `prefix`, after `last`: names-only listings. */
export function listNames(
  storage: ObjectStorage,
  prefix: string,
  options: PageOptions,
): Promise<Page<string>> {
  return collect(
    options.limit,
    (cursor, limit) => {
      const list = storage.listKeys({ ...position(prefix, options, cursor), limit });
      return list.then(({ keys, cursor }) => ({ entries: keys, cursor }));
    },
    (key) => key.slice(prefix.length),
  );
}

/**
 * The objects under `prefix`, after `last`, mapped by `pick` (which may skip one by returning
 * `null`), until `limit` items are found.
 */
export function listPage<T>(
  storage: ObjectStorage,
  prefix: string,
  options: PageOptions,
  pick: (object: StoredObject, name: string) => T | null,
): Promise<Page<T>> {
  return collect(
    options.limit,
    (cursor, limit) => {
      const list = storage.list({
        ...position(prefix, options, cursor),
        limit,
        include: options.include,
      });
      return list.then(({ objects, cursor }) => ({ entries: objects, cursor }));
    },
    (object) => pick(object, object.key.slice(prefix.length)),
  );
}

/** Where a batch starts: after `last` for the first one, at the cursor for the others. */
function position(prefix: string, options: PageOptions, cursor: string | undefined) {
  if (cursor !== undefined) return { prefix, cursor };
  return { prefix, startAfter: options.last === undefined ? undefined : prefix + options.last };
}

/** Reads batches until `limit` items are found (asking one more, to know whether more follow). */
async function collect<E, T>(
  limit: number,
  read: (cursor: string | undefined, limit: number) => Promise<Batch<E>>,
  pick: (entry: E) => T | null,
): Promise<Page<T>> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const batch = await read(cursor, Math.min(MAX_LIST_LIMIT, limit - items.length + 1));
    for (const entry of batch.entries) {
      const item = pick(entry);
      if (item === null) continue;
      if (items.length === limit) return { items, more: true };
      items.push(item);
    }
    if (batch.cursor === undefined) return { items, more: false };
    cursor = batch.cursor;
  }
}
