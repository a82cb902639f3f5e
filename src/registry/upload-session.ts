/**
 * The persisted state of an upload session, and the lease that lets one request at a time
 * write to it.
 *
 * Every request may land in a different process or isolate, so the whole session lives in the
 * bucket as one small JSON object, written only with a conditional put on the etag last read.
 * A request that wants to write bytes first *claims* the session: it writes a lease naming
 * itself. A second request that finds a live lease, or loses the conditional put, is refused
 * with 416 before it writes anything, so two writers never interleave their parts. A lease
 * expires (a crashed writer does not block the session forever) and is renewed while a long
 * request streams; a writer that cannot renew stops before writing another part.
 */
import type { ObjectStorage, UploadedPart } from "../storage/storage";
import type { DigestAlgorithm } from "./digest";
import { BlobUploadUnknown, type UploadPosition, UploadRangeInvalid } from "./errors";
import { layout } from "./layout";

export interface UploadSession {
  id: string;
  repository: string;
  algorithm: DigestAlgorithm;
  startedAt: number;
  /** Bytes received so far. */
  size: number;
  partSize: number;
  /** The multipart upload at `layout.blobData(id)`, once a first full part exists. */
  multipartId?: string;
  /** Full parts written, in order: part n holds bytes [(n-1)·partSize, n·partSize). */
  parts: UploadedPart[];
  /** The bytes after the last full part, stored at `layout.uploadCarry(id, attempt)`. */
  carry?: { attempt: string; size: number };
  /** The hash state after `size` bytes, in the portable format. */
  hash: string;
  lease?: Lease;
}

interface Lease {
  owner: string;
  instance: string;
  expiresAt: number;
}

export interface SessionStoreOptions {
  leaseMs: number;
  now: () => number;
  /** This process's identity. */
  instance: string;
  /** True when this process is the only server: leases of other servers are then dead. */
  singleInstance: boolean;
}

/**
 * The instance named in the lease garbage collection takes on a session it is aborting. Every
 * server honours it, a single-instance one included: it belongs to no server process.
 */
export const COLLECTOR_INSTANCE = "gc";

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function positionOf(session: UploadSession): UploadPosition {
  return { repository: session.repository, id: session.id, size: session.size };
}

export class SessionStore {
  readonly #storage: ObjectStorage;
  readonly #options: SessionStoreOptions;

  constructor(storage: ObjectStorage, options: SessionStoreOptions) {
    this.#storage = storage;
    this.#options = options;
  }

  async create(session: UploadSession): Promise<void> {
    await this.#storage.put(layout.upload(session.id), JSON.stringify(session));
  }

  /** The session `id` of repository `name`, or `BLOB_UPLOAD_UNKNOWN`. */
  async load(name: string, id: string): Promise<{ session: UploadSession; etag: string }> {
    const object = ID.test(id) ? await this.#storage.get(layout.upload(id)) : null;
    if (!object) throw new BlobUploadUnknown(id);
    const session = await object.json<UploadSession>();
    if (session.repository !== name) throw new BlobUploadUnknown(id);
    return { session, etag: object.etag };
  }

  /** Takes the lease on a session just loaded, or refuses with 416. */
  async claim(session: UploadSession, etag: string): Promise<Claim> {
    if (session.lease && this.#alive(session.lease)) {
      throw new UploadRangeInvalid(positionOf(session), "another request is writing this session");
    }
    const claim = new Claim(this, session, etag, crypto.randomUUID());
    await claim.renew();
    return claim;
  }

  async delete(id: string): Promise<void> {
    await this.#storage.delete(layout.upload(id));
  }

  /** Writes `session` if the stored etag is still `etag`; returns the new etag or `null`. */
  async replace(session: UploadSession, etag: string): Promise<string | null> {
    const onlyIf = { etagMatches: etag };
    const written = await this.#storage.put(layout.upload(session.id), JSON.stringify(session), {
      onlyIf,
    });
    return written?.etag ?? null;
  }

  lease(owner: string): Lease {
    const { now, leaseMs, instance } = this.#options;
    return { owner, instance, expiresAt: now() + leaseMs };
  }

  /** True when less than half of a lease's time is left. */
  dueForRenewal(lease: Lease): boolean {
    return lease.expiresAt - this.#options.now() < this.#options.leaseMs / 2;
  }

  #alive(lease: Lease): boolean {
    const { now, singleInstance, instance } = this.#options;
    const otherServer = lease.instance !== instance && lease.instance !== COLLECTOR_INSTANCE;
    if (singleInstance && otherServer) return false;
    return lease.expiresAt > now();
  }
}

/** A session held by one request, until it commits or releases. */
export class Claim {
  readonly #store: SessionStore;
  readonly #owner: string;
  #session: UploadSession;
  #etag: string;

  constructor(store: SessionStore, session: UploadSession, etag: string, owner: string) {
    this.#store = store;
    this.#session = session;
    this.#etag = etag;
    this.#owner = owner;
  }

  get session(): UploadSession {
    return this.#session;
  }

  /** A unique name for what this claim writes (its carry object). */
  get attempt(): string {
    return this.#owner;
  }

  /** Extends the lease, or refuses with 416 when another writer took the session. */
  async renew(changes: Partial<UploadSession> = {}): Promise<void> {
    const next = { ...this.#session, ...changes, lease: this.#store.lease(this.#owner) };
    await this.#write(next);
  }

  /** Renews the lease only when it is running out. */
  async keepAlive(): Promise<void> {
    const lease = this.#session.lease;
    if (!lease || this.#store.dueForRenewal(lease)) await this.renew();
  }

  /** Stores the session's new state and gives up the lease. */
  async commit(changes: Partial<UploadSession>): Promise<UploadSession> {
    const { lease: _, ...rest } = { ...this.#session, ...changes };
    await this.#write(rest);
    return rest;
  }

  /** Gives up the lease without changing the session, when a request fails. */
  async release(): Promise<void> {
    const { lease: _, ...rest } = this.#session;
    await this.#store.replace(rest, this.#etag).catch(() => null);
  }

  async #write(next: UploadSession): Promise<void> {
    const etag = await this.#store.replace(next, this.#etag);
    if (etag === null) {
      throw new UploadRangeInvalid(positionOf(this.#session), "upload session changed meanwhile");
    }
    this.#session = next;
    this.#etag = etag;
  }
}
