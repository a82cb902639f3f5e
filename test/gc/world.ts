/**
 * A registry in memory for garbage collection tests: push blobs, images, indexes and referrers
 * through the registry's own API, move the clock, collect, and look at what is left.
 */
import { expect } from "bun:test";
import { type CollectionOptions, Collector } from "../../src/gc/collector";
import type { Report } from "../../src/gc/report";
import { typescriptHashEngine } from "../../src/hash/typescript-engine";
import { parseDigest } from "../../src/registry/digest";
import { layout } from "../../src/registry/layout";
import { createRegistry, type Registry } from "../../src/registry/registry";
import { MemoryStorage } from "../../src/storage/memory";
import type { ObjectStorage } from "../../src/storage/storage";
import {
  descriptor,
  type Descriptor,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  randomBytes,
  utf8,
} from "../support/client";

export const HOUR = 60 * 60 * 1000;

export interface Image {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  bytes: Uint8Array;
}

export class World {
  readonly storage: ObjectStorage;
  readonly registry: Registry;
  /** Added to the real clock: what the collector (and the memory bucket) take for now. */
  offset = 0;

  constructor(storage?: ObjectStorage) {
    this.storage = storage ?? new MemoryStorage({ now: () => Date.now() + this.offset });
    this.registry = createRegistry({ storage: this.storage, hashEngine: typescriptHashEngine });
  }

  collector(): Collector {
    return new Collector(this.storage, {
      hashEngine: typescriptHashEngine,
      now: () => Date.now() + this.offset,
    });
  }

  /** Lets `hours` pass: what was written before is that much older. */
  later(hours = 2): void {
    this.offset += hours * HOUR;
  }

  async blob(name: string, bytes: Uint8Array, mediaType = OCI_LAYER): Promise<Descriptor> {
    const d = descriptor(bytes, mediaType);
    const body = new Blob([bytes]).stream();
    await this.registry.uploads.uploadWhole(name, parseDigest(d.digest), {
      body,
      length: bytes.byteLength,
    });
    return d;
  }

  /** Pushes an image: its layers (given, or one new random one), a config, the manifest. */
  async image(
    name: string,
    options: {
      tag?: string;
      layers?: Descriptor[];
      subject?: Descriptor;
      artifactType?: string;
    } = {},
  ): Promise<Image> {
    const layers = options.layers ?? [await this.blob(name, randomBytes(1000))];
    const config = await this.blob(name, utf8(JSON.stringify({ n: Math.random() })), OCI_CONFIG);
    const manifest: Record<string, unknown> = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers,
    };
    if (options.subject) manifest.subject = options.subject;
    if (options.artifactType) manifest.artifactType = options.artifactType;
    const bytes = utf8(JSON.stringify(manifest));
    const d = await this.manifest(name, bytes, OCI_MANIFEST, options.tag);
    return { manifest: d, config, layers, bytes };
  }

  async index(name: string, children: Descriptor[], tag?: string): Promise<Descriptor> {
    const bytes = utf8(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children }),
    );
    return this.manifest(name, bytes, OCI_INDEX, tag);
  }

  async manifest(
    name: string,
    bytes: Uint8Array,
    mediaType: string,
    tag?: string,
  ): Promise<Descriptor> {
    const d = descriptor(bytes, mediaType);
    const reference = tag ? { tag } : { digest: parseDigest(d.digest) };
    await this.registry.manifests.put(name, reference, bytes, mediaType);
    return d;
  }

  async untag(name: string, tag: string): Promise<void> {
    await this.registry.manifests.delete(name, { tag });
  }

  async deleteManifest(name: string, digest: string): Promise<void> {
    await this.registry.manifests.delete(name, { digest: parseDigest(digest) });
  }

  /** Runs a whole collection and returns its report. */
  async collect(options: CollectionOptions = {}): Promise<Report> {
    const collector = this.collector();
    expect(await collector.start(options)).toBe(true);
    expect(await collector.runToEnd()).toBe("done");
    const report = (await collector.status()).last;
    if (!report) throw new Error("no report");
    return report;
  }

  async has(key: string): Promise<boolean> {
    return (await this.storage.head(key)) !== null;
  }

  /** Whether the manifest is in the repository. */
  hasManifest(name: string, digest: string): Promise<boolean> {
    return this.has(layout.manifest(name, parseDigest(digest)));
  }

  /** Whether the blob is linked in the repository. */
  hasLink(name: string, digest: string): Promise<boolean> {
    return this.has(layout.blobLink(name, parseDigest(digest)));
  }

  /** Whether the blob's record (its bytes, or the pointer to them) is in the registry. */
  hasBlob(digest: string): Promise<boolean> {
    return this.has(layout.blob(parseDigest(digest)));
  }

  /** Whether the image pulls whole: manifest, config and every layer, bytes intact. */
  async pulls(name: string, image: Image): Promise<boolean> {
    const reference = { digest: parseDigest(image.manifest.digest) };
    const manifest = await this.registry.manifests.get(name, reference).catch(() => null);
    if (!manifest) return false;
    for (const d of [image.config, ...image.layers]) {
      const content = await this.registry.blobs.open(name, parseDigest(d.digest));
      if (!content) return false;
      const bytes = new Uint8Array(await new Response(content.object.body).arrayBuffer());
      if (bytes.byteLength !== d.size) return false;
    }
    return true;
  }

  async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.storage.listKeys({ prefix, cursor });
      keys.push(...page.keys);
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return keys;
  }
}
