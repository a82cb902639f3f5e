/**
 * Multipart uploads on the filesystem. An upload is a directory uploads/<id>/ holding
 * upload.json (its key and metadata) and its parts (see parts.ts); it is made in tmp/ and renamed
 * into place whole, and it survives restarts until completed, aborted or swept (startup.ts).
 *
 * `complete` claims the upload by renaming its directory into tmp/, so that a second `complete`
 * or an `abort` finds nothing; it then checks the parts and publishes them as one object, and on
 * a failure renames the directory back.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, truncate, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkMetadata, checkPartNumber, StorageError, selectParts } from "../rules";
import type { MultipartOptions, PutValue, StoredObject, UploadedPart } from "../storage";
import { isMissing, readJson, toSource } from "./files";
import type { Layout } from "./layout";
import { copyMetadata, newMeta } from "./meta";
import type { ObjectFiles } from "./object-files";
import { assemble, readRecords, releaseAssembly, storePart } from "./parts";

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const UPLOAD_FILE = "upload.json";

interface UploadInfo extends MultipartOptions {
  key: string;
}

export class MultipartUploads {
  readonly #layout: Layout;
  readonly #objects: ObjectFiles;
  readonly #ready: Promise<void>;

  /** `ready` settles when the data directory can be used; every operation awaits it. */
  constructor(layout: Layout, objects: ObjectFiles, ready: Promise<void>) {
    this.#layout = layout;
    this.#objects = objects;
    this.#ready = ready;
  }

  /** Starts an upload of `key` and returns its id. */
  async create(key: string, options: MultipartOptions): Promise<string> {
    this.#layout.objectPath(key);
    checkMetadata(options.customMetadata);
    await this.#ready;

    const uploadId = randomBytes(16).toString("hex");
    const staging = this.#layout.tempPath();
    await mkdir(staging);
    const info: UploadInfo = { key, ...copyMetadata(options) };
    await writeFile(join(staging, UPLOAD_FILE), JSON.stringify(info));
    await rename(staging, this.#layout.uploadDir(uploadId));
    return uploadId;
  }

  /** Writes (or replaces) a part; `NoSuchUpload` when the upload is unknown or gone meanwhile. */
  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    value: PutValue,
  ): Promise<UploadedPart> {
    checkPartNumber(partNumber);
    const sized = toSource(value);
    const { dir } = await this.#open(key, uploadId);

    const etag = randomBytes(16).toString("hex");
    try {
      await storePart(this.#layout, { dir, partNumber, etag, sized });
    } catch (error) {
      throw isMissing(error) ? noSuchUpload(uploadId) : error;
    }
    return { partNumber, etag };
  }

  /** Drops the upload and its parts; a no-op for an unknown upload. */
  async abort(key: string, uploadId: string): Promise<void> {
    const upload = await this.#open(key, uploadId).catch((error) => {
      if (error instanceof StorageError) return undefined;
      throw error;
    });
    if (upload !== undefined) await rm(upload.dir, { recursive: true, force: true });
  }

  /** Claims the upload, checks the listed parts, and publishes them; on failure puts it back. */
  async complete(key: string, uploadId: string, listed: UploadedPart[]): Promise<StoredObject> {
    const path = this.#layout.objectPath(key);
    const { dir, info } = await this.#open(key, uploadId);
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

  async #open(key: string, uploadId: string): Promise<{ dir: string; info: UploadInfo }> {
    await this.#ready;
    const dir = this.#layout.uploadDir(uploadId);
    const info = UPLOAD_ID.test(uploadId)
      ? await readJson<UploadInfo>(join(dir, UPLOAD_FILE))
      : null;
    if (info?.key !== key) throw noSuchUpload(uploadId);
    return { dir, info };
  }

  /** Moves an upload's directory into tmp/, fresh, so that no starting process sweeps it. */
  async #claim(dir: string, uploadId: string): Promise<string> {
    const claimed = this.#layout.tempPath();
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
    const assembled = await assemble(this.#layout, dir, parts);

    const meta = newMeta(size, info);
    const object = await this.#objects
      .publish(key, path, assembled.path, meta)
      .catch(async (error) => {
        await releaseAssembly(dir, assembled);
        throw error;
      });
    if (object === null) throw new Error("an unconditional publish was refused");
    // The spine may hold unlisted parts past `size`. Nothing reads there, so cutting them off
    // leaves the object's bytes as they are; it only returns the space, and may fail harmlessly.
    if (assembled.spine) await truncate(this.#layout.dataPath(meta.etag), size).catch(() => {});
    return object;
  }
}

function noSuchUpload(uploadId: string): StorageError {
  return new StorageError("NoSuchUpload", `upload ${JSON.stringify(uploadId)}`);
}
