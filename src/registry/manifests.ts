/**
 * Manifests: stored by digest in their exact bytes, with tags as copies (so resolving a tag is
 * one read), checked against the repository's blobs and manifests, and indexed by subject for
 * the referrers API.
 *
 * Writes go manifest and referrers entry first, then, once garbage collection is sure to keep
 * them and everything they refer to (see gc/marks.ts), the tags and the catalog entry: a tag
 * never names a manifest that is not there, or that is being collected.
 */
import type { GcGuard } from "../gc/marks";
import type { HashEngine } from "../hash/hasher";
import type { ObjectStorage, StoredObject, StoredObjectBody } from "../storage/storage";
import type { BlobStore } from "./blobs";
import { type Digest, looksLikeDigest, makeDigest, parseDigest } from "./digest";
import {
  CollectedManifest,
  DigestInvalid,
  ManifestBlobUnknown,
  ManifestUnknown,
  NameUnknown,
  type RegistryError,
} from "./errors";
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

/** Something a manifest refers to, and the objects that must stay for it to be pullable. */
interface Dependency {
  digest: Digest;
  keys: string[];
  /** For a blob: its link in the repository. */
  link?: string;
}

export interface ManifestStoreParts {
  blobs: BlobStore;
  referrers: Referrers;
  guard: GcGuard;
  hashEngine: HashEngine;
}

export class ManifestStore {
  readonly #storage: ObjectStorage;
  readonly #blobs: BlobStore;
  readonly #referrers: Referrers;
  readonly #guard: GcGuard;
  readonly #hashEngine: HashEngine;

  constructor(storage: ObjectStorage, parts: ManifestStoreParts) {
    this.#storage = storage;
    this.#blobs = parts.blobs;
    this.#referrers = parts.referrers;
    this.#guard = parts.guard;
    this.#hashEngine = parts.hashEngine;
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
    const key = layout.manifest(name, digest);
    const [dependencies, existed] = await Promise.all([
      this.#checkReferences(name, manifest),
      this.#storage.head(key),
    ]);
    const tags = [...new Set("tag" in reference ? [reference.tag, ...extraTags] : extraTags)];

    const httpMetadata = { contentType: manifest.mediaType };
    const customMetadata: Record<string, string> = {};
    if (manifest.subject) customMetadata.subject = manifest.subject.digest.value;
    await this.#storage.put(key, bytes, { httpMetadata, customMetadata });
    const entry = await this.#referrers.add(name, digest, bytes.length, manifest);
    const own = entry ? [key, entry] : [key];
    const lost = await this.#guard.protect([...own, ...dependencies.flatMap((d) => d.keys)]);
    if (lost !== null) {
      if (!existed) await this.#storage.delete(own);
      throw await this.#lost(lost, own, dependencies);
    }

    await Promise.all(tags.map((tag) => this.#putTag(name, tag, digest, bytes, manifest)));
    await this.#ensureCatalogEntry(name);
    return { digest, subject: manifest.subject?.digest, tags };
  }

  /**
   * The error for a manifest whose object `key` vanished or is being garbage collected. A blob
   * whose bytes are gone but whose link is not loses its link too, so that the client, which
   * asks whether the blob is there before it pushes again, uploads it anew.
   */
  async #lost(key: string, own: string[], dependencies: Dependency[]): Promise<RegistryError> {
    if (own.includes(key)) return new CollectedManifest();
    const dependency = dependencies.find((d) => d.keys.includes(key));
    if (dependency?.link && dependency.link !== key) await this.#storage.delete(dependency.link);
    return new ManifestBlobUnknown(dependency?.digest.value ?? key);
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

  /**
   * Every config, layer and child manifest must already be in the repository. Returns what the
   * manifest depends on, with the objects each needs.
   */
  async #checkReferences(name: string, manifest: ParsedManifest): Promise<Dependency[]> {
    const local = (d: Descriptor) => d.urls === undefined;
    const found = await Promise.all([
      ...manifest.blobs.filter(local).map(async (d): Promise<Dependency | Digest> => {
        const info = await this.#blobs.stat(name, d.digest);
        if (!info) return d.digest;
        const keys = this.#blobs.keysOf(name, info);
        return { digest: d.digest, keys, link: keys[0] };
      }),
      ...manifest.manifests.map(async (d): Promise<Dependency | Digest> => {
        const key = layout.manifest(name, d.digest);
        return (await this.#storage.head(key)) ? { digest: d.digest, keys: [key] } : d.digest;
      }),
    ]);
    const missing = found.find((entry): entry is Digest => !("keys" in entry));
    if (missing) throw new ManifestBlobUnknown(missing.value);
    return found as Dependency[];
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
