/**
 * What a bucket does once, before its first operation: make its directories, and remove what
 * writers that died left behind: temporary files, uploads past R2's seven days, and locks.
 *
 * TODO(fs-orphans): a crash between writing a data file and publishing (or unpublishing) its
 * metadata (see object-files.ts) leaves an unreferenced data file; nothing sweeps those yet.
 * They cost disk space only.
 */
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Layout } from "./layout";
import { STALE_LOCK_MS } from "./lock";

const STALE_TEMP_MS = 24 * 60 * 60 * 1000;
/** R2 aborts an upload left incomplete for seven days. */
const STALE_UPLOAD_MS = 7 * 24 * 60 * 60 * 1000;

/** Makes the layout's directories and sweeps out stale leftovers. */
export async function startUp(layout: Layout): Promise<void> {
  await Promise.all(layout.dirs.map((dir) => mkdir(dir, { recursive: true })));
  await Promise.all([
    sweep(layout.tmp, STALE_TEMP_MS),
    sweep(layout.uploads, STALE_UPLOAD_MS),
    sweep(layout.locks, STALE_LOCK_MS * 100),
  ]);
}

/** Removes the entries of `dir` not modified for `maxAge` ms: leftovers of dead writers. */
async function sweep(dir: string, maxAge: number): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info !== undefined && now - info.mtimeMs > maxAge) {
      await rm(path, { recursive: true, force: true });
    }
  }
}
