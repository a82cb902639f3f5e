/**
 * The referrers index: for each subject digest, one entry per manifest that names it as its
 * `subject`, holding the descriptor the referrers API returns. Listing a subject's referrers is
 * one listing of its folder, whatever the size of the repository.
 */
import type { ObjectStorage, StoredObject } from "../storage/storage";
import type { Digest } from "./digest";
import { layout } from "./layout";
import { listPage } from "./listing";
import type { ParsedManifest } from "./manifest-parser";

export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ReferrersPage {
  descriptors: ReferrerDescriptor[];
  next?: string;
}

export interface ReferrersQuery {
  artifactType?: string;
  /** Start after the referrer with this digest. */
  last?: string;
  limit: number;
}

/** Descriptors up to this size travel in the entry's metadata, so a listing returns them. */
const METADATA_LIMIT = 1536;

export class Referrers {
  readonly #storage: ObjectStorage;

  constructor(storage: ObjectStorage) {
    this.#storage = storage;
  }

  /**
   * Records `manifest` (stored as `digest`, `size` bytes) as a referrer of its subject, and
   * returns the entry's key; `null` for a manifest without a subject.
   */
  async add(name: string, digest: Digest, size: number, manifest: ParsedManifest) {
    if (!manifest.subject) return null;
    const descriptor: ReferrerDescriptor = {
      mediaType: manifest.mediaType,
      digest: digest.value,
      size,
      ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}),
      ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    };
    const json = JSON.stringify(descriptor);
    const customMetadata: Record<string, string> =
      json.length <= METADATA_LIMIT ? { descriptor: json } : {};
    const key = layout.referrer(name, manifest.subject.digest, digest);
    await this.#storage.put(key, json, { customMetadata });
    return key;
  }

  async remove(name: string, subject: Digest, digest: Digest): Promise<void> {
    await this.#storage.delete(layout.referrer(name, subject, digest));
  }

  /**
   * A page of the referrers of `subject` in repository `name`. A filtered page may hold fewer
   * than `limit` descriptors; `next` (the digest to continue after) is set when more follow.
   */
  async list(name: string, subject: Digest, query: ReferrersQuery): Promise<ReferrersPage> {
    const prefix = layout.referrersPrefix(name, subject);
    const last = query.last?.replace(":", "/");
    const options = { last, limit: query.limit, include: ["customMetadata" as const] };
    const page = await listPage(this.#storage, prefix, options, (object) => object);

    const descriptors = await Promise.all(page.items.map((o) => this.#descriptor(o)));
    const wanted = query.artifactType;
    const items = wanted ? descriptors.filter((d) => d.artifactType === wanted) : descriptors;
    const next = page.more ? descriptors.at(-1)?.digest : undefined;
    return { descriptors: items, next };
  }

  async #descriptor(object: StoredObject): Promise<ReferrerDescriptor> {
    const inline = object.customMetadata.descriptor;
    if (inline) return JSON.parse(inline) as ReferrerDescriptor;
    const body = await this.#storage.get(object.key);
    if (!body) throw new Error(`referrer entry ${object.key} vanished`);
    return body.json<ReferrerDescriptor>();
  }
}
