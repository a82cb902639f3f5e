/**
 * The registry's domain, assembled over one bucket. Entry files build it with the storage and
 * hash engine of their runtime; the HTTP layer only talks to what this returns.
 */
import { Collector } from "../gc/collector";
import { GcGuard } from "../gc/marks";
import type { HashEngine } from "../hash/hasher";
import { MAX_PUT_SIZE, MIN_PART_SIZE, type ObjectStorage } from "../storage/storage";
import { BlobStore } from "./blobs";
import { Catalog } from "./catalog";
import { ManifestStore } from "./manifests";
import { Referrers } from "./referrers";
import { Tags } from "./tags";
import { Uploads } from "./uploads";

export interface RegistryOptions {
  storage: ObjectStorage;
  hashEngine: HashEngine;
  /** Size of the parts blobs are uploaded in; at least 5 MiB. */
  partSize?: number;
  /** Blobs up to this size sent whole are written with one put (default: R2's limit). */
  maxPutSize?: number;
  /** The platform's request-body limit, advertised as `OCI-Chunk-Max-Length`. */
  chunkMaxLength?: number;
  /** How long an upload request may hold a session without renewing its claim. */
  leaseMs?: number;
  /** True when this process is the bucket's only writer (the Bun server). */
  singleInstance?: boolean;
  now?: () => number;
}

export interface Registry {
  blobs: BlobStore;
  uploads: Uploads;
  manifests: ManifestStore;
  tags: Tags;
  referrers: Referrers;
  catalog: Catalog;
  /** The writers' side of garbage collection. */
  guard: GcGuard;
  gc: Collector;
}

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

export function createRegistry(options: RegistryOptions): Registry {
  const { storage, hashEngine } = options;
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (partSize < MIN_PART_SIZE) throw new Error(`part size must be at least ${MIN_PART_SIZE}`);

  const guard = new GcGuard(storage);
  const blobs = new BlobStore(storage, guard);
  const referrers = new Referrers(storage);
  const manifests = new ManifestStore(storage, { blobs, referrers, guard, hashEngine });
  const uploads = new Uploads(storage, blobs, {
    partSize,
    hashEngine,
    chunkMaxLength: options.chunkMaxLength,
    maxPutSize: Math.min(options.maxPutSize ?? MAX_PUT_SIZE, MAX_PUT_SIZE),
    leaseMs: options.leaseMs ?? 60_000,
    now: options.now ?? Date.now,
    instance: crypto.randomUUID(),
    singleInstance: options.singleInstance ?? false,
  });
  const tags = new Tags(storage, manifests);
  const catalog = new Catalog(storage);
  const gc = new Collector(storage, { hashEngine, now: options.now });
  return { blobs, uploads, manifests, tags, referrers, catalog, guard, gc };
}
