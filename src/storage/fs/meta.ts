/** An object's metadata file: what it records, and the `StoredObject` described from it. */
import { randomBytes } from "node:crypto";
import type { HttpMetadata, MultipartOptions, StoredObject } from "../storage";

/**
 * The JSON in a key's file. A small object's bytes are in it, as base64 in `inline`; a larger
 * one's are in the data file named by `etag`.
 */
export interface ObjectMeta {
  etag: string;
  size: number;
  uploaded: number;
  httpMetadata: HttpMetadata;
  customMetadata: Record<string, string>;
  inline?: string;
}

const EVERYTHING: ReadonlySet<string> = new Set(["httpMetadata", "customMetadata"]);

/** The object as the interface returns it, with the metadata fields named in `include`. */
export function describe(key: string, meta: ObjectMeta, include = EVERYTHING): StoredObject {
  return {
    key,
    size: meta.size,
    etag: meta.etag,
    uploaded: new Date(meta.uploaded),
    httpMetadata: include.has("httpMetadata") ? { ...meta.httpMetadata } : {},
    customMetadata: include.has("customMetadata") ? { ...meta.customMetadata } : {},
  };
}

/** The metadata of a new version of `size` bytes, with a fresh random etag. */
export function newMeta(size: number, options: MultipartOptions): ObjectMeta {
  const etag = randomBytes(16).toString("hex");
  return { etag, size, uploaded: Date.now(), ...copyMetadata(options) };
}

export function copyMetadata(options: MultipartOptions): Required<MultipartOptions> {
  return {
    httpMetadata: { ...options.httpMetadata },
    customMetadata: { ...options.customMetadata },
  };
}
