/**
 * Locks shared by every process using one data directory: a lock is a file created with O_EXCL,
 * holding its owner (host, pid, and a token unique to this process), so that a waiting writer can
 * tell a live holder from a dead one.
 */
import { randomBytes } from "node:crypto";
import type { BigIntStats } from "node:fs";
import { link, readFile, rename, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { errorCode, isMissing, unlinkQuietly } from "./files";

/** Locks are held for milliseconds; one this old belongs to a hung or dead process. */
export const STALE_LOCK_MS = 30 * 1000;

const OWNER = { host: hostname(), pid: process.pid, token: randomBytes(8).toString("hex") };

/** Runs `action` holding the lock file at `path`, and removes the file after. */
export async function withLock<T>(path: string, action: () => Promise<T>): Promise<T> {
  await acquireLock(path);
  try {
    return await action();
  } finally {
    await unlinkQuietly(path);
  }
}

/**
 * Takes the lock file at `path`, waiting while another holds it. A lock is stale when its holder
 * is a dead process on this host (or an earlier process that had this pid), or when it is older
 * than STALE_LOCK_MS. A stale lock is renamed aside, and put back if the file moved turns out to
 * be a newer lock. TODO(fs-locks): two processes breaking one stale lock at the same instant can
 * still, in a window of a few system calls, both go ahead; flock(2) would close it, but Bun
 * exposes no flock.
 */
async function acquireLock(path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(path)) return;
    const stale = await staleLock(path);
    if (stale !== undefined) await breakLock(path, stale);
    else await sleep(Math.random() * Math.min(1 + attempt, 20));
  }
}

/** Creates the lock file only if it does not exist: atomic, also between processes. */
export async function tryCreate(path: string): Promise<boolean> {
  try {
    await writeFile(path, JSON.stringify(OWNER), { flag: "wx" });
    return true;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
}

/** The identity of a lock file (inode and modification time) when it is stale. */
async function staleLock(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path, { bigint: true });
    const owner = parseOwner(await readFile(path, "utf8"));
    return isStale(owner, Date.now() - Number(info.mtimeMs)) ? identity(info) : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function isStale(owner: typeof OWNER | undefined, age: number): boolean {
  if (age > STALE_LOCK_MS) return true;
  if (owner === undefined || owner.host !== OWNER.host) return false;
  if (owner.pid === OWNER.pid) return owner.token !== OWNER.token;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return errorCode(error) !== "EPERM";
  }
}

async function breakLock(path: string, staleIdentity: string): Promise<void> {
  const aside = `${path}.${randomBytes(6).toString("hex")}.broken`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  const moved = identity(await stat(aside, { bigint: true }));
  if (moved !== staleIdentity) await link(aside, path).catch(() => {});
  await unlinkQuietly(aside);
}

function identity(info: BigIntStats): string {
  return `${info.ino}:${info.mtimeNs}`;
}

function parseOwner(text: string): typeof OWNER | undefined {
  try {
    const owner: Partial<typeof OWNER> = JSON.parse(text);
    const complete = typeof owner.host === "string" && typeof owner.pid === "number";
    return complete && typeof owner.token === "string" ? (owner as typeof OWNER) : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
