/**
 * `FSR2Bucket`: the `ObjectStorage` of the Bun server, kept in a local directory, with R2's rules.
 *
 * Layout under the data directory:
 *   keys/<segment>/…/<last>#   one small JSON file per object: etag, size, uploaded, metadata
 *   data/<e0e1>/<etag>         the object's bytes, written once and never changed
 *   uploads/<id>/              a multipart upload: upload.json, part records, part bytes
 *   tmp/                       files being written, renamed into place when whole
 *   locks/<sha1 of key>        a key's write lock, shared by every process using the directory
 *
 * Invariants, and why they hold:
 * - A reader sees an object whole or not at all, data and metadata together: the bytes go to a
 *   fresh data file named by the new etag, then the key's metadata file, which names that etag,
 *   is renamed into place. That one rename publishes the object; before it nothing points at the
 *   new bytes. Metadata and data are plain files, so they survive restarts.
 * - The bytes at a data path never change: replacing or deleting an object removes its old data
 *   file, never rewrites it. A reader holding an old path (the `blob` slice, or the body of a
 *   large object, both opened lazily) gets that version whole or fails with ENOENT; it cannot
 *   see another version's bytes. Objects up to INLINE_MAX are read by `get` itself, so reading
 *   them never fails afterwards.
 * - Writes to one key hold its lock file (created with O_EXCL, so it works across processes),
 *   which makes a conditional put's check-and-write atomic; see `acquireLock` for stale locks.
 * - Keys map to paths one-to-one and never outside keys/: see `keyNames`.
 * - `list` returns keys in UTF-8 byte order and reads only the directories its page needs.
 * - Multipart parts that arrive in order (1, 2, 3, …) are appended to one "spine" file, so
 *   completing the usual upload is a rename; other parts get files of their own and are copied.
 *
 * TODO(fs-orphans): a crash between writing a data file and publishing (or unpublishing) its
 * metadata leaves an unreferenced data file; nothing sweeps those yet. They cost disk space only.
 */
import { createHash, randomBytes } from "node:crypto";
import { type BigIntStats, constants } from "node:fs";
import {
  type FileHandle,
  link,
  mkdir,
  open,
  opendir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  truncate,
  unlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import {
  bytesStream,
  checkMetadata,
  checkPartNumber,
  checkPortableKey,
  checkPutSize,
  compareBytes,
  concatBytes,
  conditionHolds,
  ListPage,
  type PartInfo,
  planList,
  putValueBytes,
  putValueStream,
  type ResolvedRange,
  resolveRange,
  StorageError,
  selectParts,
  utf8,
  withBody,
} from "./rules";
import type {
  Conditional,
  GetOptions,
  HttpMetadata,
  ListOptions,
  ListResult,
  MultipartOptions,
  MultipartUpload,
  ObjectStorage,
  PutOptions,
  PutValue,
  SizedStream,
  StoredObject,
  StoredObjectBody,
  UploadedPart,
} from "./storage";

/** Objects this small are read into memory by `get`. */
const INLINE_MAX = 256 * 1024;
const COPY_BUFFER = 1024 * 1024;
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;
/** R2 aborts an upload left incomplete for seven days. */
const STALE_UPLOAD_MS = 7 * 24 * 60 * 60 * 1000;
/** Key locks are held for milliseconds; one this old belongs to a hung or dead process. */
const STALE_LOCK_MS = 30 * 1000;
const READ_ATTEMPTS = 5;

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const UPLOAD_FILE = "upload.json";
const SPINE_DATA = "spine";
const SPINE_FILE = "spine.json";
const SPINE_LOCK = "spine.lock";

interface ObjectMeta {
  etag: string;
  size: number;
  uploaded: number;
  httpMetadata: HttpMetadata;
  customMetadata: Record<string, string>;
}

interface UploadInfo extends MultipartOptions {
  key: string;
}

/** A stored part; `offset` is where it starts in the spine, when it is there. */
interface PartRecord extends PartInfo {
  offset?: number;
}

/** The spine holds parts 1 to `next - 1` back to back, in its first `length` bytes. */
interface Spine {
  next: number;
  length: number;
}

export class FSR2Bucket implements ObjectStorage {
  readonly #keys: string;
  readonly #data: string;
  readonly #uploads: string;
  readonly #tmp: string;
  readonly #locks: string;
  readonly #ready: Promise<void>;
  readonly #dataDirs = new Set<string>();

  constructor(dataDir: string) {
    const root = resolve(dataDir);
    this.#keys = join(root, "keys");
    this.#data = join(root, "data");
    this.#uploads = join(root, "uploads");
    this.#tmp = join(root, "tmp");
    this.#locks = join(root, "locks");
    this.#ready = this.#start();
    // Every operation awaits #ready and reports a failure there; this only silences the orphan.
    this.#ready.catch(() => {});
  }

  /** The object's metadata, or `null`. */
  async head(key: string): Promise<StoredObject | null> {
    const path = this.#objectPath(key);
    await this.#ready;
    const meta = await readJson<ObjectMeta>(path);
    return meta ? describe(key, meta) : null;
  }

  /** The object with a body (and a `blob` of the same bytes), or `null`; retries a lost race. */
  async get(key: string, options: GetOptions = {}): Promise<StoredObjectBody | null> {
    const path = this.#objectPath(key);
    await this.#ready;
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const meta = await readJson<ObjectMeta>(path);
      if (meta === undefined) return null;

      const range = resolveRange(options.range, meta.size);
      const body = await this.#openData(meta, range ?? { offset: 0, length: meta.size });
      if (body === undefined) continue;
      return withBody({ ...describe(key, meta), ...(range && { range }) }, body.stream, body.blob);
    }
    throw new Error(`data of ${JSON.stringify(key)} kept disappearing while being read`);
  }

  /** Writes the object, or returns `null` when `onlyIf` fails; never leaves a partial object. */
  async put(key: string, value: PutValue, options: PutOptions = {}): Promise<StoredObject | null> {
    const path = this.#objectPath(key);
    checkMetadata(options.customMetadata);
    const sized = toSource(value);
    checkPutSize(sized.length);
    await this.#ready;

    const temp = this.#tempPath();
    await writeNewFile(temp, sized);
    try {
      return await this.#publish(key, path, temp, newMeta(sized.length, options), options.onlyIf);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Removes the objects; a missing key is a no-op. Empty directories are pruned. */
  async delete(keys: string | string[]): Promise<void> {
    const list = typeof keys === "string" ? [keys] : keys;
    const paths = list.map((key) => this.#objectPath(key));
    await this.#ready;

    for (const [i, key] of list.entries()) {
      const path = paths[i];
      if (path !== undefined && (await this.#deleteOne(key, path))) await this.#prune(path);
    }
  }

  /** One page of keys in UTF-8 byte order, walking only the directories the page needs. */
  async list(options: ListOptions = {}): Promise<ListResult> {
    await this.#ready;
    const page = new ListPage(planList(options));
    const start = prefixStart(page.plan.prefix);
    const found: { key: string; path: string }[] = [];

    if (start !== undefined) {
      for await (const entry of walk(join(this.#keys, ...start.names), start.base, page)) {
        const key = entry.object ? keyOf(entry.bytes) : "";
        if (key === undefined) continue;
        const taken = page.offer(entry.bytes, key);
        if (taken === "full") break;
        if (taken === "object") found.push({ key, path: entry.path });
      }
    }
    const include = new Set<string>(options.include);
    const objects = await Promise.all(found.map(({ key, path }) => listed(key, path, include)));
    return {
      objects: objects.filter((object) => object !== undefined),
      delimitedPrefixes: page.delimitedPrefixes,
      truncated: page.truncated,
      ...(page.cursor !== undefined && { cursor: page.cursor }),
    };
  }

  /** Starts a multipart upload; its state lives under uploads/ and survives restarts. */
  async createMultipartUpload(
    key: string,
    options: MultipartOptions = {},
  ): Promise<MultipartUpload> {
    this.#objectPath(key);
    checkMetadata(options.customMetadata);
    await this.#ready;

    const uploadId = randomBytes(16).toString("hex");
    const staging = this.#tempPath();
    await mkdir(staging);
    const info: UploadInfo = { key, ...copyMetadata(options) };
    await writeFile(join(staging, UPLOAD_FILE), JSON.stringify(info));
    await rename(staging, join(this.#uploads, uploadId));
    return this.resumeMultipartUpload(key, uploadId);
  }

  /** A handle on an upload; an unknown one fails on use, as in R2. */
  resumeMultipartUpload(key: string, uploadId: string): MultipartUpload {
    return {
      key,
      uploadId,
      uploadPart: (partNumber, value) => this.#uploadPart(key, uploadId, partNumber, value),
      abort: () => this.#abort(key, uploadId),
      complete: (parts) => this.#complete(key, uploadId, parts),
    };
  }

  // ---- Objects ------------------------------------------------------------------------------

  async #start(): Promise<void> {
    const dirs = [this.#keys, this.#data, this.#uploads, this.#tmp, this.#locks];
    await Promise.all(dirs.map((dir) => mkdir(dir, { recursive: true })));
    await Promise.all([
      sweep(this.#tmp, STALE_TEMP_MS),
      sweep(this.#uploads, STALE_UPLOAD_MS),
      sweep(this.#locks, STALE_LOCK_MS * 100),
    ]);
  }

  #objectPath(key: string): string {
    checkPortableKey(key);
    return join(this.#keys, ...keyNames(utf8(key)));
  }

  #dataPath(etag: string): string {
    return join(this.#data, etag.slice(0, 2), etag);
  }

  #tempPath(): string {
    return join(this.#tmp, `${Date.now().toString(36)}-${randomBytes(8).toString("hex")}`);
  }

  async #openData(meta: ObjectMeta, { offset, length }: ResolvedRange) {
    const path = this.#dataPath(meta.etag);
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

  /** Points the key at the data file made from `source`, under the key's lock. */
  async #publish(
    key: string,
    path: string,
    source: string,
    meta: ObjectMeta,
    onlyIf?: Conditional,
  ): Promise<StoredObject | null> {
    return this.#locked(key, async () => {
      const current = await readJson<ObjectMeta>(path);
      if (!conditionHolds(onlyIf, current)) return null;

      await this.#placeData(source, meta.etag);
      await this.#replaceFile(path, JSON.stringify(meta), true);
      if (current !== undefined) await unlinkQuietly(this.#dataPath(current.etag));
      return describe(key, meta);
    });
  }

  async #placeData(source: string, etag: string): Promise<void> {
    const target = this.#dataPath(etag);
    const dir = dirname(target);
    if (!this.#dataDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#dataDirs.add(dir);
    }
    await rename(source, target);
  }

  async #deleteOne(key: string, path: string): Promise<boolean> {
    return this.#locked(key, async () => {
      const meta = await readJson<ObjectMeta>(path);
      if (meta === undefined) return false;
      await unlinkQuietly(path);
      await unlinkQuietly(this.#dataPath(meta.etag));
      return true;
    });
  }

  /** Removes the now empty directories above a deleted key's file. */
  async #prune(path: string): Promise<void> {
    for (let dir = dirname(path); dir.startsWith(this.#keys + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }

  /** Writes `text` to a temporary file, then renames it over `path`. */
  async #replaceFile(path: string, text: string, makeParents = false): Promise<void> {
    const temp = this.#tempPath();
    await writeFile(temp, text, { flag: "wx" });
    try {
      await renameInto(temp, path, makeParents);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async #locked<T>(key: string, action: () => Promise<T>): Promise<T> {
    const lock = join(this.#locks, createHash("sha1").update(key).digest("hex"));
    await acquireLock(lock);
    try {
      return await action();
    } finally {
      await unlinkQuietly(lock);
    }
  }

  // ---- Multipart uploads --------------------------------------------------------------------

  async #openUpload(key: string, uploadId: string): Promise<{ dir: string; info: UploadInfo }> {
    await this.#ready;
    const dir = join(this.#uploads, uploadId);
    const info = UPLOAD_ID.test(uploadId)
      ? await readJson<UploadInfo>(join(dir, UPLOAD_FILE))
      : null;
    if (info?.key !== key) throw noSuchUpload(uploadId);
    return { dir, info };
  }

  async #uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    value: PutValue,
  ): Promise<UploadedPart> {
    checkPartNumber(partNumber);
    const sized = toSource(value);
    const { dir } = await this.#openUpload(key, uploadId);

    const etag = randomBytes(16).toString("hex");
    try {
      const appended = await this.#appendToSpine(dir, partNumber, etag, sized);
      if (!appended) await this.#writePart(dir, partNumber, etag, sized);
    } catch (error) {
      throw isMissing(error) ? noSuchUpload(uploadId) : error;
    }
    return { partNumber, etag };
  }

  /**
   * Appends the part to the spine when it is the next one and no one else is appending. A lock
   * left by a writer that crashed only sends the later parts of this upload to files of their own.
   */
  async #appendToSpine(dir: string, partNumber: number, etag: string, sized: Source) {
    const lock = join(dir, SPINE_LOCK);
    if (!(await tryCreate(lock))) return false;
    try {
      const spine = (await readJson<Spine>(join(dir, SPINE_FILE))) ?? { next: 1, length: 0 };
      if (spine.next !== partNumber) return false;

      const previous = await readJson<PartRecord>(recordPath(dir, partNumber));
      const size = await writeAt(join(dir, SPINE_DATA), spine.length, sized);
      const record: PartRecord = { partNumber, etag, size, offset: spine.length };
      await this.#replaceFile(recordPath(dir, partNumber), JSON.stringify(record));
      const next: Spine = { next: partNumber + 1, length: spine.length + size };
      await this.#replaceFile(join(dir, SPINE_FILE), JSON.stringify(next));
      if (previous !== undefined) await removePartFile(dir, previous);
      return true;
    } finally {
      await unlinkQuietly(lock);
    }
  }

  async #writePart(dir: string, partNumber: number, etag: string, sized: Source) {
    const previous = await readJson<PartRecord>(recordPath(dir, partNumber));
    const record: PartRecord = { partNumber, etag, size: sized.length };
    await writeNewFile(partPath(dir, record), sized);
    await this.#replaceFile(recordPath(dir, partNumber), JSON.stringify(record));
    if (previous !== undefined) await removePartFile(dir, previous);
  }

  async #abort(key: string, uploadId: string): Promise<void> {
    const upload = await this.#openUpload(key, uploadId).catch((error) => {
      if (error instanceof StorageError) return undefined;
      throw error;
    });
    if (upload !== undefined) await rm(upload.dir, { recursive: true, force: true });
  }

  /**
   * Claims the upload by renaming its directory (so a second `complete` or an `abort` finds
   * nothing), checks the parts, and publishes them; on a failure the upload is put back.
   */
  async #complete(key: string, uploadId: string, listed: UploadedPart[]): Promise<StoredObject> {
    const path = this.#objectPath(key);
    const { dir, info } = await this.#openUpload(key, uploadId);
    const claimed = await this.#claim(dir, uploadId);

    const object = await this.#publishParts(key, path, claimed, info, listed).catch(
      async (error) => {
        await rename(claimed, dir).catch(() => {});
        throw error;
      },
    );
    await rm(claimed, { recursive: true, force: true });
    return object;
  }

  /** Moves an upload's directory into tmp/, fresh, so that no starting process sweeps it. */
  async #claim(dir: string, uploadId: string): Promise<string> {
    const claimed = this.#tempPath();
    await rename(dir, claimed).catch((error) => {
      throw isMissing(error) ? noSuchUpload(uploadId) : error;
    });
    const now = new Date();
    await utimes(claimed, now, now);
    return claimed;
  }

  async #publishParts(
    key: string,
    path: string,
    dir: string,
    info: UploadInfo,
    listed: UploadedPart[],
  ): Promise<StoredObject> {
    const parts = selectParts(listed, await readRecords(dir, listed));
    const size = parts.reduce((sum, part) => sum + part.size, 0);
    const assembled = await this.#assemble(dir, parts);

    const meta = newMeta(size, info);
    const object = await this.#publish(key, path, assembled.path, meta).catch(async (error) => {
      if (assembled.spine) await unlinkQuietly(join(dir, SPINE_LOCK));
      else await rm(assembled.path, { force: true });
      throw error;
    });
    if (object === null) throw new Error("an unconditional publish was refused");
    // The spine may hold unlisted parts past `size`. Nothing reads there, so cutting them off
    // leaves the object's bytes as they are; it only returns the space, and may fail harmlessly.
    if (assembled.spine) await truncate(this.#dataPath(meta.etag), size).catch(() => {});
    return object;
  }

  /** A file holding the parts' bytes: the spine itself when it holds exactly them. */
  async #assemble(dir: string, parts: PartRecord[]): Promise<{ path: string; spine: boolean }> {
    if (inSpineOrder(parts) && (await tryCreate(join(dir, SPINE_LOCK)))) {
      return { path: join(dir, SPINE_DATA), spine: true };
    }
    const target = this.#tempPath();
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
}

// ---- Keys and paths -------------------------------------------------------------------------
//
// A key's UTF-8 bytes are split at "/" into segments. A segment is percent-encoded except for
// [a-z0-9._-], with lowercase hex, so names are the same on case-insensitive filesystems. A
// segment other than the last is a directory of that name; the last is a file named with a
// trailing "#". So key `a` (file `a#`) and key `a/b` (directory `a`) coexist. A segment longer
// than PIECE_BYTES becomes CHUNK_BYTES chunks, each a directory named with a trailing "+", then
// its remaining piece (a directory with an empty piece is "="): every name stays under 255
// bytes. Each entry stands for a byte string: a file for its key, a directory for its keys'
// common prefix ending in "/", a chunk for its prefix. Sorting a directory's entries by those
// strings lists keys in byte order: no entry's range of keys interleaves another's, because a
// chunk is longer than any piece beside it and so is never equal to one.

const PIECE_BYTES = 80;
const CHUNK_BYTES = PIECE_BYTES + 1;
const OBJECT_MARK = "#";
const CHUNK_MARK = "+";
const EMPTY_PIECE = "=";
const SLASH = Uint8Array.of(0x2f);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function keyNames(key: Uint8Array): string[] {
  const segments = splitAtSlash(key);
  return segments.flatMap((segment, i) => segmentNames(segment, i === segments.length - 1));
}

function segmentNames(segment: Uint8Array, last: boolean): string[] {
  const names: string[] = [];
  let rest = segment;
  while (rest.byteLength > PIECE_BYTES) {
    names.push(encodeName(rest.subarray(0, CHUNK_BYTES)) + CHUNK_MARK);
    rest = rest.subarray(CHUNK_BYTES);
  }
  if (last) names.push(encodeName(rest) + OBJECT_MARK);
  else names.push(rest.byteLength === 0 ? EMPTY_PIECE : encodeName(rest));
  return names;
}

function splitAtSlash(bytes: Uint8Array): Uint8Array[] {
  const segments: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.byteLength; i++) {
    if (i < bytes.byteLength && bytes[i] !== SLASH[0]) continue;
    segments.push(bytes.subarray(start, i));
    start = i + 1;
  }
  return segments;
}

function isSafeByte(byte: number): boolean {
  const lower = byte >= 0x61 && byte <= 0x7a;
  const digit = byte >= 0x30 && byte <= 0x39;
  return lower || digit || byte === 0x2d || byte === 0x2e || byte === 0x5f;
}

function encodeName(bytes: Uint8Array): string {
  let name = "";
  for (const byte of bytes) {
    name += isSafeByte(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, "0")}`;
  }
  return name;
}

/** The bytes a name encodes, or `undefined` for a name `encodeName` would never make. */
function decodeName(name: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code !== 0x25) {
      if (!isSafeByte(code)) return undefined;
      bytes.push(code);
      continue;
    }
    const hex = name.slice(i + 1, i + 3);
    const byte = Number.parseInt(hex, 16);
    if (!/^[0-9a-f]{2}$/.test(hex) || isSafeByte(byte)) return undefined;
    bytes.push(byte);
    i += 2;
  }
  return Uint8Array.from(bytes);
}

function keyOf(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

// ---- Listing --------------------------------------------------------------------------------

interface Entry {
  path: string;
  /** The key of a file; the common prefix of the keys under a directory. */
  bytes: Uint8Array;
  object: boolean;
}

/** The deepest directory holding every key that starts with `prefix`, and what it stands for. */
function prefixStart(prefix: Uint8Array): { names: string[]; base: Uint8Array } | undefined {
  const segments = splitAtSlash(prefix);
  let partial = segments.pop() ?? new Uint8Array(0);
  const names: string[] = [];
  for (const segment of segments) {
    const text = keyOf(segment);
    if (text === undefined || text === "" || text === "." || text === "..") return undefined;
    names.push(...segmentNames(segment, false));
  }
  while (partial.byteLength >= CHUNK_BYTES) {
    names.push(encodeName(partial.subarray(0, CHUNK_BYTES)) + CHUNK_MARK);
    partial = partial.subarray(CHUNK_BYTES);
  }
  return { names, base: prefix.subarray(0, prefix.byteLength - partial.byteLength) };
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
      if (name.endsWith(OBJECT_MARK) && decodeName(name.slice(0, -1)) !== undefined) return true;
      if (!name.endsWith(OBJECT_MARK) && (await holdsAnyKey(join(dir, name)))) return true;
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
  const path = join(dir, name);
  if (name === EMPTY_PIECE) return { path, bytes: concatBytes(base, SLASH), object: false };
  const mark = name.at(-1);
  const marked = mark === OBJECT_MARK || mark === CHUNK_MARK;
  const piece = decodeName(marked ? name.slice(0, -1) : name);
  if (piece === undefined) return undefined;
  if (mark === OBJECT_MARK) return { path, bytes: concatBytes(base, piece), object: true };
  if (mark === CHUNK_MARK) return { path, bytes: concatBytes(base, piece), object: false };
  return { path, bytes: concatBytes(base, piece, SLASH), object: false };
}

async function listed(
  key: string,
  path: string,
  include: ReadonlySet<string>,
): Promise<StoredObject | undefined> {
  const meta = await readJson<ObjectMeta>(path);
  return meta && describe(key, meta, include);
}

// ---- Metadata -------------------------------------------------------------------------------

const EVERYTHING: ReadonlySet<string> = new Set(["httpMetadata", "customMetadata"]);

function describe(key: string, meta: ObjectMeta, include = EVERYTHING): StoredObject {
  return {
    key,
    size: meta.size,
    etag: meta.etag,
    uploaded: new Date(meta.uploaded),
    httpMetadata: include.has("httpMetadata") ? { ...meta.httpMetadata } : {},
    customMetadata: include.has("customMetadata") ? { ...meta.customMetadata } : {},
  };
}

function newMeta(size: number, options: MultipartOptions): ObjectMeta {
  const etag = randomBytes(16).toString("hex");
  return { etag, size, uploaded: Date.now(), ...copyMetadata(options) };
}

function copyMetadata(options: MultipartOptions): Required<MultipartOptions> {
  return {
    httpMetadata: { ...options.httpMetadata },
    customMetadata: { ...options.customMetadata },
  };
}

function noSuchUpload(uploadId: string): StorageError {
  return new StorageError("NoSuchUpload", `upload ${JSON.stringify(uploadId)}`);
}

// ---- Parts ----------------------------------------------------------------------------------

function recordPath(dir: string, partNumber: number): string {
  return join(dir, `part-${partNumber}.json`);
}

function partPath(dir: string, part: PartRecord): string {
  return join(dir, `part-${part.partNumber}.${part.etag}`);
}

async function removePartFile(dir: string, part: PartRecord): Promise<void> {
  if (part.offset === undefined) await unlinkQuietly(partPath(dir, part));
}

/** The records of the listed parts that exist, read a batch at a time. */
async function readRecords(
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

/** Whether the parts lie back to back from the start of the spine, in order. */
function inSpineOrder(parts: readonly PartRecord[]): boolean {
  let offset = 0;
  for (const part of parts) {
    if (part.offset !== offset) return false;
    offset += part.size;
  }
  return true;
}

// ---- Locks ----------------------------------------------------------------------------------

const OWNER = { host: hostname(), pid: process.pid, token: randomBytes(8).toString("hex") };

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

/** Creates the file only if it does not exist: atomic, also between processes. */
async function tryCreate(path: string): Promise<boolean> {
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

// ---- Files ----------------------------------------------------------------------------------

/** A value to write: a sized stream, and its bytes when they are already in memory. */
interface Source extends SizedStream {
  bytes: Uint8Array | undefined;
}

function toSource(value: PutValue): Source {
  return { ...putValueStream(value), bytes: putValueBytes(value) };
}

/** Writes a sized stream to a new file; on any failure the file is removed. */
async function writeNewFile(path: string, sized: Source): Promise<void> {
  const handle = await open(path, "wx");
  try {
    await writeStream(handle, 0, sized);
  } catch (error) {
    await handle.close();
    await rm(path, { force: true });
    throw error;
  }
  await handle.close();
}

/** Writes a sized stream at `position`, first cutting the file there; a failure cuts it again. */
async function writeAt(path: string, position: number, sized: Source): Promise<number> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT);
  try {
    await handle.truncate(position);
    await writeStream(handle, position, sized).catch(async (error) => {
      await handle.truncate(position);
      throw error;
    });
    return sized.length;
  } finally {
    await handle.close();
  }
}

async function writeStream(handle: FileHandle, position: number, sized: Source) {
  if (sized.bytes !== undefined) return writeAll(handle, sized.bytes, position);
  const reader = sized.stream.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      await writeAll(handle, chunk.value, position);
      position += chunk.value.byteLength;
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position);
    done += bytesWritten;
    position += bytesWritten;
  }
}

async function readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const bytes = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${path}: shorter than its metadata says`);
      done += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

async function copyRange(
  source: string,
  offset: number,
  size: number,
  out: FileHandle,
  position: number,
  buffer: Uint8Array,
): Promise<void> {
  const handle = await open(source, "r");
  try {
    for (let done = 0; done < size; ) {
      const want = Math.min(buffer.byteLength, size - done);
      const { bytesRead } = await handle.read(buffer, 0, want, offset + done);
      if (bytesRead === 0) throw new Error(`${source}: shorter than its part record says`);
      await writeAll(out, buffer.subarray(0, bytesRead), position + done);
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Renames, creating the target's directories when asked and missing (a delete may prune them). */
async function renameInto(from: string, to: string, makeParents: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (error) {
      if (!makeParents || !isMissing(error) || attempt === 3) throw error;
    }
    await mkdir(dirname(to), { recursive: true });
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch((error) => {
    if (!isMissing(error)) throw error;
  });
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

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}
