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

/**
 * The objects under `prefix`, after `last`, mapped by `pick` (which may skip one by returning
 * `null`), until `limit` items are found.
 */
export async function listPage<T>(
  storage: ObjectStorage,
  prefix: string,
  options: PageOptions,
  pick: (object: StoredObject, name: string) => T | null,
): Promise<Page<T>> {
  const items: T[] = [];
  let cursor: string | undefined;
  const startAfter = options.last === undefined ? undefined : prefix + options.last;
  for (;;) {
    const batch = await storage.list({
      prefix,
      startAfter: cursor ? undefined : startAfter,
      cursor,
      limit: Math.min(MAX_LIST_LIMIT, options.limit - items.length + 1),
      include: options.include,
    });
    for (const object of batch.objects) {
      const item = pick(object, object.key.slice(prefix.length));
      if (item === null) continue;
      if (items.length === options.limit) return { items, more: true };
      items.push(item);
    }
    if (!batch.truncated) return { items, more: false };
    cursor = batch.cursor;
  }
}
