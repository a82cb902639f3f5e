/**
 * `list` on the filesystem: keys in UTF-8 byte order, reading only the directories a page needs.
 * Names sort in key order (see key-names.ts), so a depth-first walk over each directory's sorted
 * entries meets keys in order; the page's `after` prunes what earlier pages took, and a directory
 * that falls wholly into one delimited group is yielded as soon as it is known to hold a key.
 *
 * A directory's sorted entries are kept in a `DirectoryCache` while its modification time stays
 * the same, so paging through a large directory decodes and sorts it once, not once a page.
 */
import { opendir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { compareBytes, ListPage, planList, startsWith } from "../rules";
import type { KeyListResult, ListOptions, ListResult, StoredObject } from "../storage";
import { isMissing, readJson } from "./files";
import { isDirectoryName, isObjectName, keyOf, nameBytes, prefixStart } from "./key-names";
import { describe, type ObjectMeta } from "./meta";

interface Entry {
  path: string;
  /** The key of a file; the common prefix of the keys under a directory. */
  bytes: Uint8Array;
  object: boolean;
  /** The key as a string, decoded once (`null`: not UTF-8); kept with the cached entry. */
  key?: string | null;
}

/** One page of the keys under `keysDir` (the layout's keys/), as `ObjectStorage.list`. */
export async function listObjects(
  keysDir: string,
  options: ListOptions,
  cache: DirectoryCache,
): Promise<ListResult> {
  const { page, found } = await walkPage(keysDir, options, cache, true);
  const include = new Set<string>(options.include);
  return page.result(await Promise.all(found.map(({ key, path }) => listed(key, path, include))));
}

/** The same page as `listObjects`, names only: no object's file is opened. */
export async function listKeys(
  keysDir: string,
  options: ListOptions,
  cache: DirectoryCache,
): Promise<KeyListResult> {
  return (await walkPage(keysDir, options, cache, false)).page.keyResult();
}

async function walkPage(
  keysDir: string,
  options: ListOptions,
  cache: DirectoryCache,
  withPaths: boolean,
) {
  const page = new ListPage(planList(options));
  const start = prefixStart(page.plan.prefix);
  const found: { key: string; path: string }[] = [];
  if (start === undefined) return { page, found };

  await walk(join(keysDir, ...start.names), start.base, page, cache, (entry) => {
    const key = entry.object ? keyOfEntry(entry) : "";
    if (key === null) return false;
    const taken = page.offer(entry.bytes, key, true);
    if (taken === "object" && withPaths) found.push({ key, path: entry.path });
    return taken === "full";
  });
  return { page, found };
}

/**
 * Visits the files under `dir` in key order, skipping what the page no longer wants, until
 * `visit` says stop (returns `true`); whether it did. A directory whose keys all fall in one
 * delimited group is visited whole once it is known to hold a key. Only descending into a
 * directory waits: the entries of one directory are visited in a plain loop, and where the whole
 * directory lies inside the prefix and nothing is grouped, a file needs only to lie past
 * `after`, and once one does, so do all the entries after it (`after` moves through them).
 */
async function walk(
  dir: string,
  base: Uint8Array,
  page: ListPage,
  cache: DirectoryCache,
  visit: (entry: Entry) => boolean,
): Promise<boolean> {
  const entries = await cache.entries(dir, base);
  const plain = page.plan.delimiter === undefined && startsWith(base, page.plan.prefix);
  let past = plain && page.after === undefined;
  for (let i = firstWanted(entries, page); i < entries.length; i++) {
    const entry = entries[i] as Entry;
    if (!past || !entry.object) {
      if (!page.wants(entry.bytes, !entry.object)) continue;
      past = plain;
    }
    if (entry.object) {
      if (visit(entry)) return true;
    } else if (!page.takesWhole(entry.bytes)) {
      if (await walk(entry.path, entry.bytes, page, cache, visit)) return true;
    } else if ((await holdsAnyKey(entry.path)) && visit(entry)) {
      return true;
    }
  }
  return false;
}

function keyOfEntry(entry: Entry): string | null {
  if (entry.key === undefined) entry.key = keyOf(entry.bytes) ?? null;
  return entry.key;
}

/**
 * The index of the first entry the page may still want: entries are sorted, and a page never
 * wants an object at or before `after` (a directory there may still hold later keys).
 */
function firstWanted(entries: Entry[], page: ListPage): number {
  const after = page.after;
  if (after === undefined) return 0;
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const entry = entries[middle] as Entry;
    if (compareBytes(entry.bytes, after) < 0 && !isAncestor(entry, after)) low = middle + 1;
    else high = middle;
  }
  return low;
}

function isAncestor(entry: Entry, bytes: Uint8Array): boolean {
  if (entry.object || entry.bytes.byteLength > bytes.byteLength) return false;
  return compareBytes(entry.bytes, bytes.subarray(0, entry.bytes.byteLength)) === 0;
}

/** Whether any object lies under `dir`: a depth-first search that stops at the first one. */
async function holdsAnyKey(dir: string): Promise<boolean> {
  try {
    for await (const entry of await opendir(dir)) {
      const name = entry.name;
      if (isObjectName(name)) return true;
      if (isDirectoryName(name) && (await holdsAnyKey(join(dir, name)))) return true;
    }
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  return false;
}

async function listed(
  key: string,
  path: string,
  include: ReadonlySet<string>,
): Promise<StoredObject | undefined> {
  const meta = await readJson<ObjectMeta>(path);
  return meta && describe(key, meta, include);
}

/**
 * Directories' entries, decoded and sorted, kept while the directory's modification time is the
 * one seen when they were read. File times are coarse (a clock tick), so a change made in the
 * same tick as the read could keep the time: entries are kept only when the directory had not
 * changed for `SETTLED_MS` before they were read.
 */
export class DirectoryCache {
  static readonly SETTLED_MS = 200;
  static readonly MAX_DIRECTORIES = 256;
  readonly #entries = new Map<string, { mtimeNs: bigint; entries: Entry[] }>();

  /** The sorted entries of `dir`, a directory standing for the key bytes `base`. */
  async entries(dir: string, base: Uint8Array): Promise<Entry[]> {
    const readAt = Date.now();
    const mtimeNs = await modified(dir);
    if (mtimeNs === undefined) return [];
    const cached = this.#entries.get(dir);
    if (cached?.mtimeNs === mtimeNs) return cached.entries;

    const entries = await readEntries(dir, base);
    const settled = Number(mtimeNs / 1_000_000n) < readAt - DirectoryCache.SETTLED_MS;
    if (settled) this.#keep(dir, mtimeNs, entries);
    return entries;
  }

  #keep(dir: string, mtimeNs: bigint, entries: Entry[]): void {
    this.#entries.delete(dir);
    this.#entries.set(dir, { mtimeNs, entries });
    const oldest = this.#entries.keys().next().value;
    if (this.#entries.size > DirectoryCache.MAX_DIRECTORIES && oldest !== undefined) {
      this.#entries.delete(oldest);
    }
  }
}

async function modified(dir: string): Promise<bigint | undefined> {
  try {
    return (await stat(dir, { bigint: true })).mtimeNs;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

async function readEntries(dir: string, base: Uint8Array): Promise<Entry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  const entries: Entry[] = [];
  for (const name of names) {
    const named = nameBytes(name, base);
    if (named) entries.push({ path: join(dir, name), ...named });
  }
  return entries.sort((a, b) => compareBytes(a.bytes, b.bytes));
}
