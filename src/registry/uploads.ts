/**
 * Blob upload sessions: POST opens one, PATCHes append, PUT closes it, DELETE cancels it.
 *
 * Design. The bucket only takes objects of known length, and multipart parts of one fixed size
 * (but the last). Clients send chunks of any size, with or without a length. So the bytes of a
 * session flow through a `PartWriter`: every full part goes straight into the session's
 * multipart upload (`layout.blobData(id)`), and what is left at the end of a request, less than
 * a part, is stored as the session's *carry* and put in front of the next request's bytes. No
 * request holds more than about one part in memory, and the final object is completed in place:
 * no blob is copied after upload. A blob smaller than a part never becomes a multipart upload:
 * it is written once, to its own key, when the session closes.
 *
 * The digest is computed as the bytes arrive, and the hash state is saved with the session
 * after every request, so closing a session never re-reads it and any process can continue it.
 *
 * Invariants:
 * - `session.size` = full parts × part size + carry size, and the hash state covers exactly
 *   `session.size` bytes: both change only in one conditional write of the session.
 * - Only the request holding the session's lease writes parts or carries (see
 *   `upload-session.ts`), so a replayed or concurrent request cannot corrupt the session.
 * - A blob becomes visible (its key, then the repository's link) only after its digest matched.
 */
import type { HashEngine, ResumableHasher } from "../hash/hasher";
import type { MultipartUpload, ObjectStorage, UploadedPart } from "../storage/storage";
import type { BlobInfo, BlobStore } from "./blobs";
import type { Digest, DigestAlgorithm } from "./digest";
import {
  CollectedMeanwhile,
  DigestInvalid,
  SizeInvalid,
  type UploadPosition,
  UploadRangeInvalid,
} from "./errors";
import { layout } from "./layout";
import { PartWriter } from "./part-writer";
import { drain, emptyStream, VerifyingStream } from "./streams";
import {
  type Claim,
  positionOf,
  SessionStore,
  type SessionStoreOptions,
  type UploadSession,
} from "./upload-session";

/** The bytes of one request, with what the client declared about them. */
export interface IncomingBytes {
  body: ReadableStream<Uint8Array> | null;
  /** `Content-Length`, when sent. */
  length?: number;
  /** `Content-Range`, when sent: inclusive byte offsets in the blob. */
  range?: { start: number; end: number };
}

export interface UploadsOptions extends SessionStoreOptions {
  partSize: number;
  hashEngine: HashEngine;
  /** The largest request body the platform lets through, when it has a limit. */
  chunkMaxLength?: number;
  /** Blobs up to this size that arrive whole are written with one put; larger ones in parts. */
  maxPutSize: number;
}

/** What one request added to a session, not yet committed. */
interface Received {
  bytes: number;
  parts: UploadedPart[];
  multipart: MultipartUpload | null;
  remainder: Uint8Array;
  hasher: ResumableHasher;
}

export class Uploads {
  readonly #storage: ObjectStorage;
  readonly #blobs: BlobStore;
  readonly #sessions: SessionStore;
  readonly #options: UploadsOptions;

  constructor(storage: ObjectStorage, blobs: BlobStore, options: UploadsOptions) {
    this.#storage = storage;
    this.#blobs = blobs;
    this.#sessions = new SessionStore(storage, options);
    this.#options = options;
  }

  /** The chunk lengths clients are told: at least a part is worth sending, at most the limit. */
  get chunkLengths(): { min: number; max?: number } {
    return { min: this.#options.partSize, max: this.#options.chunkMaxLength };
  }

  /** Opens a session in repository `name`. */
  async start(name: string, algorithm: DigestAlgorithm): Promise<UploadPosition> {
    const session: UploadSession = {
      id: crypto.randomUUID(),
      repository: name,
      algorithm,
      startedAt: this.#options.now(),
      size: 0,
      partSize: this.#options.partSize,
      parts: [],
      hash: this.#options.hashEngine.create(algorithm).save(),
    };
    await this.#sessions.create(session);
    return positionOf(session);
  }

  async status(name: string, id: string): Promise<UploadPosition> {
    const { session } = await this.#sessions.load(name, id);
    return positionOf(session);
  }

  /** Appends one chunk (PATCH). */
  async append(name: string, id: string, bytes: IncomingBytes): Promise<UploadPosition> {
    const { session, etag } = await this.#sessions.load(name, id);
    checkDeclared(session, bytes);
    const claim = await this.#sessions.claim(session, etag);

    try {
      return await this.#receive(claim, bytes, async (received) => {
        if (received.bytes > 0) return positionOf(await this.#commit(claim, received));
        await claim.release();
        return positionOf(session);
      });
    } catch (error) {
      await claim.release();
      throw error;
    }
  }

  /** Closes the session (PUT), with an optional last chunk, and publishes the blob. */
  async finish(name: string, id: string, digest: Digest, bytes: IncomingBytes): Promise<BlobInfo> {
    const { session, etag } = await this.#sessions.load(name, id);
    if (digest.algorithm !== session.algorithm) {
      throw new DigestInvalid(`this session computes a ${session.algorithm} digest`);
    }
    checkDeclared(session, bytes);
    const claim = await this.#sessions.claim(session, etag);

    try {
      const info =
        session.size === 0 && this.#fitsOnePut(bytes)
          ? await this.#putWhole(name, digest, bytes, bytes.length ?? 0)
          : await this.#receive(claim, bytes, (r) => this.#publish(name, claim, digest, r));
      await this.#discard(session, { abort: false });
      return info;
    } catch (error) {
      if (error instanceof DigestInvalid) await this.#discard(claim.session, { abort: true });
      else if (error instanceof CollectedMeanwhile)
        await this.#discard(claim.session, { abort: false });
      else await claim.release();
      throw error;
    }
  }

  /** Stores a whole blob sent in one request (POST `?digest=`). */
  async uploadWhole(name: string, digest: Digest, bytes: IncomingBytes): Promise<BlobInfo> {
    if (this.#fitsOnePut(bytes)) return this.#putWhole(name, digest, bytes, bytes.length ?? 0);

    const { id } = await this.start(name, digest.algorithm);
    try {
      return await this.finish(name, id, digest, bytes);
    } catch (error) {
      await this.cancel(name, id).catch(() => undefined);
      throw error;
    }
  }

  /** Cancels the session (DELETE) and frees what it stored. */
  async cancel(name: string, id: string): Promise<void> {
    const { session } = await this.#sessions.load(name, id);
    await this.#discard(session, { abort: true });
  }

  /**
   * Streams a request's bytes into the session's parts and hands what was received to `use`,
   * which commits it or not; the remainder is valid only until `use` resolves.
   */
  async #receive<T>(
    claim: Claim,
    bytes: IncomingBytes,
    use: (received: Received) => Promise<T>,
  ): Promise<T> {
    const session = claim.session;
    const hasher = this.#options.hashEngine.restore(session.hash);
    const parts = [...session.parts];
    let multipart = this.#resumeMultipart(session);
    const writer = new PartWriter(session.partSize, async (part) => {
      await claim.keepAlive();
      multipart ??= await this.#createMultipart(claim);
      parts.push(await multipart.uploadPart(parts.length + 1, part));
    });

    let received = 0;
    let carried = false;
    for await (const chunk of bytes.body ?? emptyStream()) {
      if (!carried) await this.#writeCarry(session, writer);
      carried = true;
      hasher.update(chunk);
      received += chunk.length;
      await writer.write(chunk);
    }
    checkReceived(bytes, received);
    if (!carried) await this.#writeCarry(session, writer);
    try {
      return await use({
        bytes: received,
        parts,
        multipart,
        remainder: writer.remainder(),
        hasher,
      });
    } finally {
      writer.release();
    }
  }

  /** Feeds the session's carried bytes (already hashed) to the writer, ahead of new ones. */
  async #writeCarry(session: UploadSession, writer: PartWriter): Promise<void> {
    if (!session.carry) return;
    const carry = await this.#storage.get(layout.uploadCarry(session.id, session.carry.attempt));
    if (!carry) throw new Error(`upload ${session.id} lost its carried bytes`);
    for await (const chunk of carry.body) await writer.write(chunk);
  }

  async #commit(claim: Claim, received: Received): Promise<UploadSession> {
    const before = claim.session;
    const carry = received.remainder.length
      ? { attempt: claim.attempt, size: received.remainder.length }
      : undefined;
    if (carry) {
      await this.#storage.put(layout.uploadCarry(before.id, carry.attempt), received.remainder);
    }

    const after = await claim.commit({
      size: before.size + received.bytes,
      parts: received.parts,
      multipartId: received.multipart?.uploadId,
      carry,
      hash: received.hasher.save(),
    });
    if (before.carry)
      await this.#storage.delete(layout.uploadCarry(before.id, before.carry.attempt));
    return after;
  }

  /** Checks the digest and makes the blob visible in repository `name`. */
  async #publish(name: string, claim: Claim, digest: Digest, received: Received) {
    if (received.hasher.digestHex() !== digest.hex) throw new DigestInvalid();
    const size = claim.session.size + received.bytes;
    const existing = await this.#blobs.statGlobal(digest);
    if (existing) await received.multipart?.abort();
    const info = existing ?? (await this.#store(digest, size, received));
    await this.#linkOrFail(name, info, !existing);
    return info;
  }

  /**
   * Links the blob, unless garbage collection is deleting it (or, for a new blob, its link in
   * this repository): then the upload fails, and its retry stores the blob anew.
   */
  async #linkOrFail(name: string, info: BlobInfo, fresh: boolean): Promise<void> {
    if (await this.#blobs.linkProtected(name, info, fresh)) return;
    throw new CollectedMeanwhile(info.digest);
  }

  /** Writes a new blob: small ones to their own key, others by completing the multipart. */
  async #store(digest: Digest, size: number, received: Received): Promise<BlobInfo> {
    const { multipart, parts, remainder } = received;
    if (!multipart) {
      await this.#storage.put(layout.blob(digest), remainder);
      return { digest, size, location: layout.blob(digest) };
    }

    if (remainder.length > 0) parts.push(await multipart.uploadPart(parts.length + 1, remainder));
    await multipart.complete(parts);
    const info = { digest, size, location: multipart.key };
    await this.#blobs.record(info);
    return info;
  }

  /** Stores a blob that arrives whole, verifying it on the way in. */
  async #putWhole(name: string, digest: Digest, bytes: IncomingBytes, length: number) {
    const verifier = new VerifyingStream(
      this.#options.hashEngine.create(digest.algorithm),
      digest.hex,
    );
    const stream = (bytes.body ?? emptyStream()).pipeThrough(verifier);
    const existing = await this.#blobs.statGlobal(digest);

    try {
      if (existing) await drain(stream);
      else await this.#storage.put(layout.blob(digest), { stream, length });
    } catch (error) {
      if (verifier.mismatch) throw new DigestInvalid();
      throw error;
    }
    const info = existing ?? { digest, size: length, location: layout.blob(digest) };
    await this.#linkOrFail(name, info, !existing);
    return info;
  }

  /** True when the request's bytes can go to storage in one put: known and small enough. */
  #fitsOnePut(bytes: IncomingBytes): boolean {
    return bytes.length !== undefined && bytes.length <= this.#options.maxPutSize;
  }

  #resumeMultipart(session: UploadSession): MultipartUpload | null {
    if (!session.multipartId) return null;
    return this.#storage.resumeMultipartUpload(layout.blobData(session.id), session.multipartId);
  }

  /** Starts the session's multipart upload and records it at once, so it is never lost. */
  async #createMultipart(claim: Claim): Promise<MultipartUpload> {
    const upload = await this.#storage.createMultipartUpload(layout.blobData(claim.session.id));
    await claim.renew({ multipartId: upload.uploadId });
    return upload;
  }

  /** Deletes the session and its carries; with `abort`, its unfinished multipart upload too. */
  async #discard(session: UploadSession, options: { abort: boolean }): Promise<void> {
    await this.#sessions.delete(session.id);
    if (options.abort)
      await this.#resumeMultipart(session)
        ?.abort()
        .catch(() => undefined);
    const carries = await this.#storage.listKeys({ prefix: `${layout.upload(session.id)}/` });
    if (carries.keys.length) await this.#storage.delete(carries.keys);
  }
}

/** Refuses a chunk that does not start where the session stands, or whose lengths disagree. */
function checkDeclared(session: UploadSession, bytes: IncomingBytes): void {
  const { range, length } = bytes;
  if (!range) return;
  if (range.start !== session.size) throw new UploadRangeInvalid(positionOf(session));
  if (length !== undefined && length !== range.end - range.start + 1) {
    throw new SizeInvalid("Content-Length differs from Content-Range");
  }
}

function checkReceived(bytes: IncomingBytes, received: number): void {
  const { range, length } = bytes;
  if (range && received !== range.end - range.start + 1) {
    throw new SizeInvalid("body length differs from Content-Range");
  }
  if (length !== undefined && received !== length) {
    throw new SizeInvalid("body length differs from Content-Length");
  }
}
