/**
 * Where everything lives in the bucket. One module owns the key layout so that the rest of the
 * registry (and the garbage collector) never builds a key by hand.
 *
 *   blobs/<alg>/<hex>                          a blob, stored once for the whole registry: its
 *                                              bytes, or a record pointing at `data/<id>` where
 *                                              an upload assembled it from parts
 *   data/<id>                                  blob bytes assembled by a multipart upload
 *   repositories/<name>/_blobs/<alg>/<hex>     link: the blob is part of this repository
 *   repositories/<name>/_manifests/<alg>/<hex> a manifest's exact bytes
 *   repositories/<name>/_tags/<tag>            a copy of the tagged manifest, so that resolving a
 *                                              tag is one read
 *   repositories/<name>/_referrers/<subject alg>/<subject hex>/<alg>/<hex>
 *                                              a referrer's descriptor, listed per subject
 *   catalog/<name>                             the repository index the catalog lists
 *   uploads/<id>                               an upload session's state
 *   uploads/<id>/carry/<attempt>               bytes received but not yet in a full part
 *   gc/run                                     the garbage collection in progress, if any
 *   gc/marks/<key>                             GC's mark on an object it may delete
 *   gc/report                                  the last collection's report
 *
 * Repository names cannot contain a component starting with `_`, so the `_blobs`, `_manifests`,
 * `_tags` and `_referrers` folders never collide with a nested repository.
 */
import type { Digest } from "./digest";

const digestPath = (digest: Digest) => `${digest.algorithm}/${digest.hex}`;
const repository = (name: string) => `repositories/${name}`;

export const layout = {
  blob: (digest: Digest) => `blobs/${digestPath(digest)}`,
  blobData: (id: string) => `data/${id}`,

  blobLink: (name: string, digest: Digest) => `${repository(name)}/_blobs/${digestPath(digest)}`,
  manifest: (name: string, digest: Digest) =>
    `${repository(name)}/_manifests/${digestPath(digest)}`,
  tag: (name: string, tag: string) => `${repository(name)}/_tags/${tag}`,
  tagsPrefix: (name: string) => `${repository(name)}/_tags/`,
  referrer: (name: string, subject: Digest, digest: Digest) =>
    `${layout.referrersPrefix(name, subject)}${digestPath(digest)}`,
  referrersPrefix: (name: string, subject: Digest) =>
    `${repository(name)}/_referrers/${digestPath(subject)}/`,

  catalogEntry: (name: string) => `catalog/${name}`,
  catalogPrefix: "catalog/",

  uploadsPrefix: "uploads/",
  upload: (id: string) => `uploads/${id}`,
  uploadCarry: (id: string, attempt: string) => `uploads/${id}/carry/${attempt}`,

  repositoriesPrefix: "repositories/",
  blobsPrefix: "blobs/",
  blobDataPrefix: "data/",
  gcRun: "gc/run",
  gcReport: "gc/report",
  gcMarksPrefix: "gc/marks/",
  gcMark: (key: string) => `gc/marks/${key}`,
};
