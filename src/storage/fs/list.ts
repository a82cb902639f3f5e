/**
 * `list` on the filesystem: keys in UTF-8 byte order, reading only the directories a page needs.
 * Names sort in key order (see key-names.ts), so a depth-first walk over each directory's sorted
 * entries meets keys in order; the page's `after` prunes what earlier pages took, and a directory
 * that falls wholly into one delimited group is yielded as soon as it is known to hold a key.
 */
import { opendir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { compareBytes, ListPage, planList } from "../rules";
import type { ListOptions, ListResult, StoredObject } from "../storage";
import { isMissing, readJson } from "./files";
import { isDirectoryName, isObjectName, keyOf, nameBytes, prefixStart } from "./key-names";
import { describe, type ObjectMeta } from "./meta";

interface Entry {
  path: string;
  /** The key of a file; the common prefix of the keys under a directory. */
  bytes: Uint8Array;
  object: boolean;
}

/** One page of the keys under `keysDir` (the layout's keys/), as `ObjectStorage.list`. */
export async function listObjects(keysDir: string, options: ListOptions): Promise<ListResult> {
  const page = new ListPage(planList(options));
  const start = prefixStart(page.plan.prefix);
  const found: { key: string; path: string }[] = [];

  if (start !== undefined) {
    for await (const entry of walk(join(keysDir, ...start.names), start.base, page)) {
      const key = entry.object ? keyOf(entry.bytes) : "";
      if (key === undefined) continue;
      const taken = page.offer(entry.bytes, key);
      if (taken === "full") break;
      if (taken === "object") found.push({ key, path: entry.path });
    }
  }
  const include = new Set<string>(options.include);
  return page.result(await Promise.all(found.map(({ key, path }) => listed(key, path, include))));
}

/**
 * Yields the files under `dir` in key order, skipping what the page no longer wants. A directory
 * whose keys all fall in one delimited group is yielded whole once it is known to hold a key.
 */
async function* walk(dir: string, base: Uint8Array, page: ListPage): AsyncGenerator<Entry> {
  for (const entry of await readEntries(dir, base, page)) {
    if (!page.wants(entry.bytes, !entry.object)) continue;
    if (entry.object) yield entry;
    else if (!page.takesWhole(entry.bytes)) yield* walk(entry.path, entry.bytes, page);
    else if (await holdsAnyKey(entry.path)) yield entry;
  }
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

async function readEntries(dir: string, base: Uint8Array, page: ListPage): Promise<Entry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  const entries: Entry[] = [];
  for (const name of names) {
    const entry = parseEntry(dir, name, base);
    if (entry !== undefined && page.wants(entry.bytes, !entry.object)) entries.push(entry);
  }
  return entries.sort((a, b) => compareBytes(a.bytes, b.bytes));
}

function parseEntry(dir: string, name: string, base: Uint8Array): Entry | undefined {
  const named = nameBytes(name, base);
  return named && { path: join(dir, name), ...named };
}

async function listed(
  key: string,
  path: string,
  include: ReadonlySet<string>,
): Promise<StoredObject | undefined> {
  const meta = await readJson<ObjectMeta>(path);
  return meta && describe(key, meta, include);
}
