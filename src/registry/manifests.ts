/**
 * Manifests: stored by digest in their exact bytes, with tags as copies (so resolving a tag is
 * one read), checked against the repository's blobs and manifests, and indexed by subject for
 * the referrers API.
 *
 * Writes go manifest first, then tags, then the referrers entry and the catalog entry: a tag
 * never names a manifest that is not there yet.
 */
import type { HashEngine } from "../hash/hasher";
import type { ObjectStorage, StoredObject, StoredObjectBody } from "../storage/storage";
import type { BlobStore } from "./blobs";
import { type Digest, looksLikeDigest, makeDigest, parseDigest } from "./digest";
import { DigestInvalid, ManifestBlobUnknown, ManifestUnknown, NameUnknown } from "./errors";
import { layout } from "./layout";
import { type Descriptor, type ParsedManifest, parseManifest } from "./manifest-parser";
import { checkTag } from "./names";
import type { Referrers } from "./referrers";

export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;

/** A manifest reference from a URL: a tag or a digest. */
export type Reference = { tag: string } | { digest: Digest };

export interface ManifestInfo {
  digest: Digest;
  mediaType: string;
  size: number;
}

export interface PutManifestResult {
  digest: Digest;
  subject?: Digest;
  tags: string[];
}

export function parseReference(value: string): Reference {
  if (looksLikeDigest(value)) return { digest: parseDigest(value) };
  return { tag: checkTag(value) };
}

export class ManifestStore {
  readonly #storage: ObjectStorage;
  readonly #blobs: BlobStore;
  readonly #referrers: Referrers;
  readonly #hashEngine: HashEngine;

  constructor(storage: ObjectStorage, blobs: BlobStore, referrers: Referrers, engine: HashEngine) {
    this.#storage = storage;
    this.#blobs = blobs;
    this.#referrers = referrers;
    this.#hashEngine = engine;
  }

  /** Stores a manifest under `reference`, plus `extraTags`, after validating it. */
  async put(
    name: string,
    reference: Reference,
    bytes: Uint8Array,
    contentType: string | undefined,
    extraTags: string[] = [],
  ): Promise<PutManifestResult> {
    const digest = this.#digestOf(bytes, reference);
    const manifest = parseManifest(bytes, contentType);
    await this.#checkReferences(name, manifest);
    const tags = [...new Set("tag" in reference ? [reference.tag, ...extraTags] : extraTags)];

    const httpMetadata = { contentType: manifest.mediaType };
    const customMetadata: Record<string, string> = {};
    if (manifest.subject) customMetadata.subject = manifest.subject.digest.value;
    await this.#storage.put(layout.manifest(name, digest), bytes, { httpMetadata, customMetadata });
    await Promise.all(tags.map((tag) => this.#putTag(name, tag, digest, bytes, manifest)));
    if (manifest.subject) await this.#referrers.add(name, digest, bytes.length, manifest);
    await this.#ensureCatalogEntry(name);
    return { digest, subject: manifest.subject?.digest, tags };
  }

  /** The manifest's bytes and facts, or `MANIFEST_UNKNOWN`/`NAME_UNKNOWN`. */
  async get(
    name: string,
    reference: Reference,
  ): Promise<ManifestInfo & { body: StoredObjectBody }> {
    const object = await this.#storage.get(this.#key(name, reference));
    if (!object) throw await this.#unknown(name, reference);
    return { ...infoOf(object, reference), body: object };
  }

  async head(name: string, reference: Reference): Promise<ManifestInfo> {
    const object = await this.#storage.head(this.#key(name, reference));
    if (!object) throw await this.#unknown(name, reference);
    return infoOf(object, reference);
  }

  /** Deletes a tag, or a manifest with every tag pointing at it and its referrers entry. */
  async delete(name: string, reference: Reference): Promise<void> {
    const key = this.#key(name, reference);
    const object = await this.#storage.head(key);
    if (!object) throw await this.#unknown(name, reference);
    if ("tag" in reference) return this.#storage.delete(key);

    await this.#deleteTagsOf(name, reference.digest);
    await this.#storage.delete(key);
    const subject = object.customMetadata.subject;
    if (subject) await this.#referrers.remove(name, parseDigest(subject), reference.digest);
  }

  /** True when the repository has had a manifest pushed to it. */
  async repositoryExists(name: string): Promise<boolean> {
    return (await this.#storage.head(layout.catalogEntry(name))) !== null;
  }

  #key(name: string, reference: Reference): string {
    return "tag" in reference
      ? layout.tag(name, reference.tag)
      : layout.manifest(name, reference.digest);
  }

  #digestOf(bytes: Uint8Array, reference: Reference): Digest {
    const algorithm = "digest" in reference ? reference.digest.algorithm : "sha256";
    const hasher = this.#hashEngine.create(algorithm);
    hasher.update(bytes);
    const digest = makeDigest(algorithm, hasher.digestHex());
    if ("digest" in reference && reference.digest.hex !== digest.hex) {
      throw new DigestInvalid("manifest digest does not match the reference", {
        expected: reference.digest.value,
        actual: digest.value,
      });
    }
    return digest;
  }

  /** Every config, layer and child manifest must already be in the repository. */
  async #checkReferences(name: string, manifest: ParsedManifest): Promise<void> {
    const local = (d: Descriptor) => d.urls === undefined;
    const missing = await Promise.all([
      ...manifest.blobs.filter(local).map(async (d) => {
        return (await this.#blobs.stat(name, d.digest)) ? null : d.digest;
      }),
      ...manifest.manifests.map(async (d) => {
        return (await this.#storage.head(layout.manifest(name, d.digest))) ? null : d.digest;
      }),
    ]);
    const first = missing.find((digest) => digest !== null);
    if (first) throw new ManifestBlobUnknown(first.value);
  }

  async #putTag(name: string, tag: string, digest: Digest, bytes: Uint8Array, m: ParsedManifest) {
    await this.#storage.put(layout.tag(name, tag), bytes, {
      httpMetadata: { contentType: m.mediaType },
      customMetadata: { digest: digest.value },
    });
  }

  async #deleteTagsOf(name: string, digest: Digest): Promise<void> {
    const prefix = layout.tagsPrefix(name);
    let cursor: string | undefined;
    do {
      const page = await this.#storage.list({ prefix, cursor, include: ["customMetadata"] });
      const keys = page.objects.filter((o) => o.customMetadata.digest === digest.value);
      if (keys.length) await this.#storage.delete(keys.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }

  async #ensureCatalogEntry(name: string): Promise<void> {
    if (await this.repositoryExists(name)) return;
    await this.#storage.put(layout.catalogEntry(name), null);
  }

  async #unknown(name: string, reference: Reference) {
    if (!(await this.repositoryExists(name))) return new NameUnknown(name);
    const value = "tag" in reference ? reference.tag : reference.digest.value;
    return new ManifestUnknown(value);
  }
}

function infoOf(object: StoredObject, reference: Reference): ManifestInfo {
  const digest = "digest" in reference ? reference.digest : tagDigest(object);
  const mediaType = object.httpMetadata.contentType ?? "application/octet-stream";
  return { digest, mediaType, size: object.size };
}

function tagDigest(object: StoredObject): Digest {
  const value = object.customMetadata.digest;
  if (!value) throw new Error(`tag object ${object.key} has no digest`);
  return parseDigest(value);
}
