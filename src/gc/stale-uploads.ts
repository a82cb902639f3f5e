/**
 * Abandoned uploads: sessions no request has written to for longer than their time to live are
 * aborted, with their multipart upload and carried bytes; carried bytes whose session is gone
 * are deleted once as old.
 *
 * A session is taken from its clients before it is dropped: GC writes it back with a lease of
 * its own, conditionally on the etag it read, so a request that renewed the session meanwhile
 * wins and the session stays.
 */
import { layout } from "../registry/layout";
import { COLLECTOR_INSTANCE, type UploadSession } from "../registry/upload-session";
import type { ObjectStorage } from "../storage/storage";

export interface StaleUploadsOptions {
  /** Sessions last written before this instant are abandoned. */
  idleSince: number;
  dryRun: boolean;
  /** Called once per storage operation, for the caller's budget. */
  count: () => void;
}

export interface SweepResult {
  aborted: number;
  /** The last session seen that is still there, to tell its carries from orphans. */
  lastSession?: string;
  /** Where the next page starts; `undefined` when the listing is done. */
  cursor?: string;
}

const NEVER = Number.MAX_SAFE_INTEGER;

export class StaleUploads {
  readonly #storage: ObjectStorage;
  readonly #options: StaleUploadsOptions;

  constructor(storage: ObjectStorage, options: StaleUploadsOptions) {
    this.#storage = storage;
    this.#options = options;
  }

  /** Handles one page of `uploads/`. */
  async sweepPage(cursor: string | undefined, lastSession?: string): Promise<SweepResult> {
    const prefix = layout.uploadsPrefix;
    this.#options.count();
    const page = await this.#storage.list({ prefix, cursor });
    let aborted = 0;
    let current = lastSession;
    for (const object of page.objects) {
      const [id, ...rest] = object.key.slice(prefix.length).split("/");
      const old = object.uploaded.getTime() < this.#options.idleSince;
      if (rest.length === 0) {
        current = id;
        if (!old) continue;
        if (this.#options.dryRun) aborted++;
        else if (await this.#abort(object.key)) {
          aborted++;
          current = undefined;
        }
      } else if (id !== current && old && !this.#options.dryRun) {
        this.#options.count();
        await this.#storage.delete(object.key);
      }
    }
    return { aborted, lastSession: current, cursor: page.truncated ? page.cursor : undefined };
  }

  /** Takes the session and drops it with all it stored; false when a client renewed it. */
  async #abort(key: string): Promise<boolean> {
    const { count } = this.#options;
    count();
    const object = await this.#storage.get(key);
    if (!object) return true;
    const session = await object.json<UploadSession>();
    session.lease = { owner: COLLECTOR_INSTANCE, instance: COLLECTOR_INSTANCE, expiresAt: NEVER };
    count();
    const taken = await this.#storage.put(key, JSON.stringify(session), {
      onlyIf: { etagMatches: object.etag },
    });
    if (!taken) return false;

    if (session.multipartId) {
      count();
      const upload = this.#storage.resumeMultipartUpload(
        layout.blobData(session.id),
        session.multipartId,
      );
      await upload.abort().catch(() => undefined);
    }
    count();
    const carries = await this.#storage.listKeys({ prefix: `${key}/` });
    count();
    await this.#storage.delete([...carries.keys, key]);
    return true;
  }
}
