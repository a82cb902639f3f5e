/**
 * The parts of one multipart upload, in its directory under uploads/.
 *
 * Parts that arrive in order (1, 2, 3, …) are appended to one "spine" file, so completing the
 * usual upload is a rename; other parts get files of their own and are copied at completion.
 * spine.json says how far the spine goes; part-<n>.json records a part's etag and size, and its
 * offset when it lies in the spine. A record is replaced by rename after its bytes are written,
 * so a part's record always describes bytes that are whole. Appending holds spine.lock, taken
 * with O_EXCL and never waited for: a lock left by a writer that crashed only sends the later
 * parts of this upload to files of their own.
 */
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { PartInfo } from "../rules";
import type { UploadedPart } from "../storage";
import {
  copyRange,
  readJson,
  replaceFile,
  type Source,
  unlinkQuietly,
  writeAt,
  writeNewFile,
} from "./files";
import type { Layout } from "./layout";
import { tryCreate } from "./lock";

const COPY_BUFFER = 1024 * 1024;
const SPINE_DATA = "spine";
const SPINE_FILE = "spine.json";
const SPINE_LOCK = "spine.lock";

/** A stored part; `offset` is where it starts in the spine, when it is there. */
export interface PartRecord extends PartInfo {
  offset?: number;
}

/** The spine holds parts 1 to `next - 1` back to back, in its first `length` bytes. */
interface Spine {
  next: number;
  length: number;
}

/** A file holding an upload's parts, ready to publish; `spine` when it is the spine itself. */
export interface Assembly {
  path: string;
  spine: boolean;
}

/** A part being stored: its upload's directory, its number, its new etag, and its bytes. */
export interface NewPart {
  dir: string;
  partNumber: number;
  etag: string;
  sized: Source;
}

/** Stores (or replaces) a part: appended to the spine when it can be, else in a file of its own. */
export async function storePart(layout: Layout, part: NewPart): Promise<void> {
  const appended = await appendToSpine(layout, part);
  if (!appended) await writePart(layout, part);
}

/** Appends the part to the spine when it is the next one and no one else is appending. */
async function appendToSpine(layout: Layout, part: NewPart): Promise<boolean> {
  const { dir, partNumber, etag, sized } = part;
  const lock = join(dir, SPINE_LOCK);
  if (!(await tryCreate(lock))) return false;
  try {
    const spine = (await readJson<Spine>(join(dir, SPINE_FILE))) ?? { next: 1, length: 0 };
    if (spine.next !== partNumber) return false;

    const previous = await readJson<PartRecord>(recordPath(dir, partNumber));
    const size = await writeAt(join(dir, SPINE_DATA), spine.length, sized);
    const record: PartRecord = { partNumber, etag, size, offset: spine.length };
    await replaceFile(layout.tempPath(), recordPath(dir, partNumber), JSON.stringify(record));
    const next: Spine = { next: partNumber + 1, length: spine.length + size };
    await replaceFile(layout.tempPath(), join(dir, SPINE_FILE), JSON.stringify(next));
    if (previous !== undefined) await removePartFile(dir, previous);
    return true;
  } finally {
    await unlinkQuietly(lock);
  }
}

async function writePart(layout: Layout, part: NewPart): Promise<void> {
  const { dir, partNumber, etag, sized } = part;
  const previous = await readJson<PartRecord>(recordPath(dir, partNumber));
  const record: PartRecord = { partNumber, etag, size: sized.length };
  await writeNewFile(partPath(dir, record), sized);
  await replaceFile(layout.tempPath(), recordPath(dir, partNumber), JSON.stringify(record));
  if (previous !== undefined) await removePartFile(dir, previous);
}

/** The records of the listed parts that exist, read a batch at a time. */
export async function readRecords(
  dir: string,
  listed: readonly UploadedPart[],
): Promise<Map<number, PartRecord>> {
  const numbers = listed.map((part) => part.partNumber).filter(Number.isInteger);
  const records = new Map<number, PartRecord>();
  for (let i = 0; i < numbers.length; i += 64) {
    const batch = numbers.slice(i, i + 64);
    const found = await Promise.all(batch.map((n) => readJson<PartRecord>(recordPath(dir, n))));
    for (const record of found) if (record !== undefined) records.set(record.partNumber, record);
  }
  return records;
}

/**
 * A file holding the parts' bytes: the spine itself when it holds exactly them (its lock is then
 * taken, so no part is appended meanwhile), else a copy in tmp/.
 */
export async function assemble(
  layout: Layout,
  dir: string,
  parts: PartRecord[],
): Promise<Assembly> {
  if (inSpineOrder(parts) && (await tryCreate(join(dir, SPINE_LOCK)))) {
    return { path: join(dir, SPINE_DATA), spine: true };
  }
  const target = layout.tempPath();
  const out = await open(target, "wx");
  try {
    const buffer = new Uint8Array(COPY_BUFFER);
    let position = 0;
    for (const part of parts) {
      const source = part.offset === undefined ? partPath(dir, part) : join(dir, SPINE_DATA);
      await copyRange(source, part.offset ?? 0, part.size, out, position, buffer);
      position += part.size;
    }
  } catch (error) {
    await out.close();
    await rm(target, { force: true });
    throw error;
  }
  await out.close();
  return { path: target, spine: false };
}

/** Undoes `assemble` when publishing failed: frees the spine, or removes the copy. */
export async function releaseAssembly(dir: string, assembled: Assembly): Promise<void> {
  if (assembled.spine) await unlinkQuietly(join(dir, SPINE_LOCK));
  else await rm(assembled.path, { force: true });
}

/** Whether the parts lie back to back from the start of the spine, in order. */
function inSpineOrder(parts: readonly PartRecord[]): boolean {
  let offset = 0;
  for (const part of parts) {
    if (part.offset !== offset) return false;
    offset += part.size;
  }
  return true;
}

function recordPath(dir: string, partNumber: number): string {
  return join(dir, `part-${partNumber}.json`);
}

function partPath(dir: string, part: PartRecord): string {
  return join(dir, `part-${part.partNumber}.${part.etag}`);
}

async function removePartFile(dir: string, part: PartRecord): Promise<void> {
  if (part.offset === undefined) await unlinkQuietly(partPath(dir, part));
}
