/**
 * `FSR2Bucket`: the `ObjectStorage` of the Bun server, kept in a local directory, with R2's rules.
 *
 * Layout under the data directory (paths in fs/layout.ts):
 *   keys/<segment>/…/<last>#   one small JSON file per object: etag, size, uploaded, metadata,
 *                              and the bytes of an object of at most 8 KiB
 *   data/<e0e1>/<etag>         a larger object's bytes, written once and never changed
 *   uploads/<id>/              a multipart upload: upload.json, part records, part bytes
 *   tmp/                       files being written, renamed into place when whole
 *   locks/<sha1 of key>        a key's write lock, shared by every process using the directory
 *
 * Invariants, each argued where it is kept:
 * - A reader sees an object whole or not at all, and the bytes at a data path never change
 *   (fs/object-files.ts).
 * - Writes to one key hold its lock, across processes, so a conditional put is atomic (fs/lock.ts).
 * - Keys map to paths one-to-one and never outside keys/ (fs/key-names.ts).
 * - `list` returns keys in UTF-8 byte order and reads only the directories its page needs
 *   (fs/list.ts).
 * - Multipart parts that arrive in order are appended to one "spine" file, so completing the
 *   usual upload is a rename (fs/parts.ts); an upload is claimed once (fs/multipart.ts).
 * - Leftovers of dead processes are swept at start (fs/startup.ts, which also says what is not).
 *
 * This class only checks arguments, waits for the start, and delegates to those modules.
 */
import { rm } from "node:fs/promises";
import { toSource, writeNewFile } from "./fs/files";
import { Layout } from "./fs/layout";
import { DirectoryCache, listKeys, listObjects } from "./fs/list";
import { describe, newMeta } from "./fs/meta";
import { MultipartUploads } from "./fs/multipart";
import { INLINE_STORE_MAX, ObjectFiles } from "./fs/object-files";
import { startUp } from "./fs/startup";
import { checkMetadata, checkPutSize, readSized, resolveRange, withBody } from "./rules";
import type {
  GetOptions,
  KeyListResult,
  ListOptions,
  ListResult,
  MultipartOptions,
  MultipartUpload,
  ObjectStorage,
  PutOptions,
  PutValue,
  StoredObject,
  StoredObjectBody,
} from "./storage";

const READ_ATTEMPTS = 5;

export class FSR2Bucket implements ObjectStorage {
  readonly #layout: Layout;
  readonly #objects: ObjectFiles;
  readonly #uploads: MultipartUploads;
  readonly #ready: Promise<void>;
  readonly #directories = new DirectoryCache();

  constructor(dataDir: string) {
    this.#layout = new Layout(dataDir);
    this.#objects = new ObjectFiles(this.#layout);
    this.#ready = startUp(this.#layout);
    // Every operation awaits #ready and reports a failure there; this only silences the orphan.
    this.#ready.catch(() => {});
    this.#uploads = new MultipartUploads(this.#layout, this.#objects, this.#ready);
  }

  /** The object's metadata, or `null`. */
  async head(key: string): Promise<StoredObject | null> {
    const path = this.#layout.objectPath(key);
    await this.#ready;
    const meta = await this.#objects.readMeta(path);
    return meta ? describe(key, meta) : null;
  }

  /** The object with a body (and a `blob` of the same bytes), or `null`; retries a lost race. */
  async get(key: string, options: GetOptions = {}): Promise<StoredObjectBody | null> {
    const path = this.#layout.objectPath(key);
    await this.#ready;
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const meta = await this.#objects.readMeta(path);
      if (meta === undefined) return null;

      const range = resolveRange(options.range, meta.size);
      const body = await this.#objects.open(meta, range ?? { offset: 0, length: meta.size });
      if (body === undefined) continue;
      return withBody({ ...describe(key, meta), ...(range && { range }) }, body.stream, body.blob);
    }
    throw new Error(`data of ${JSON.stringify(key)} kept disappearing while being read`);
  }

  /** Writes the object, or returns `null` when `onlyIf` fails; never leaves a partial object. */
  async put(key: string, value: PutValue, options: PutOptions = {}): Promise<StoredObject | null> {
    const path = this.#layout.objectPath(key);
    checkMetadata(options.customMetadata);
    const sized = toSource(value);
    checkPutSize(sized.length);
    await this.#ready;

    const meta = newMeta(sized.length, options);
    if (sized.length <= INLINE_STORE_MAX) {
      const bytes = sized.bytes ?? (await readSized(sized));
      meta.inline = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
        "base64",
      );
      return this.#objects.publish(key, path, undefined, meta, options.onlyIf);
    }
    const temp = this.#layout.tempPath();
    await writeNewFile(temp, sized);
    const published = await this.#objects
      .publish(key, path, temp, meta, options.onlyIf)
      .catch(async (error) => {
        await rm(temp, { force: true });
        throw error;
      });
    // A refused write moved nothing; a published one moved the file away.
    if (published === null) await rm(temp, { force: true });
    return published;
  }

  /** Removes the objects; a missing key is a no-op. Empty directories are pruned. */
  async delete(keys: string | string[]): Promise<void> {
    const list = typeof keys === "string" ? [keys] : keys;
    const paths = list.map((key) => this.#layout.objectPath(key));
    await this.#ready;

    for (const [i, key] of list.entries()) {
      const path = paths[i];
      if (path !== undefined && (await this.#objects.remove(key, path))) {
        await this.#objects.prune(path);
      }
    }
  }

  /** One page of keys in UTF-8 byte order, walking only the directories the page needs. */
  async list(options: ListOptions = {}): Promise<ListResult> {
    await this.#ready;
    return listObjects(this.#layout.keys, options, this.#directories);
  }

  /** The same page as `list`, names only: no object's file is read. */
  async listKeys(options: ListOptions = {}): Promise<KeyListResult> {
    await this.#ready;
    return listKeys(this.#layout.keys, options, this.#directories);
  }

  /** Starts a multipart upload; its state lives under uploads/ and survives restarts. */
  async createMultipartUpload(
    key: string,
    options: MultipartOptions = {},
  ): Promise<MultipartUpload> {
    const uploadId = await this.#uploads.create(key, options);
    return this.resumeMultipartUpload(key, uploadId);
  }

  /** A handle on an upload; an unknown one fails on use, as in R2. */
  resumeMultipartUpload(key: string, uploadId: string): MultipartUpload {
    const uploads = this.#uploads;
    return {
      key,
      uploadId,
      uploadPart: (partNumber, value) => uploads.uploadPart(key, uploadId, partNumber, value),
      abort: () => uploads.abort(key, uploadId),
      complete: (parts) => uploads.complete(key, uploadId, parts),
    };
  }
}
