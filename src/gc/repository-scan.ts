/**
 * One repository as garbage collection sees it: its tags, manifests, blob links and referrers
 * entries, gathered from a listing of `repositories/` (a repository's own keys are contiguous
 * there), and what of it is live.
 *
 * Live, in a repository:
 * - roots: every tagged manifest, every manifest younger than the grace period, and, unless
 *   the policy is `untagged`, every other manifest that is not a referrer (one with a subject);
 * - whatever a live manifest refers to: an index's children, a manifest's config and layers,
 *   and the referrers whose subject it is;
 * - blob links younger than the grace period.
 * Everything else older than the grace period is a candidate for deletion.
 */
import { parseManifest } from "../registry/manifest-parser";
import type { StoredObject } from "../storage/storage";

export type Policy = "all" | "untagged";

export interface ManifestEntry {
  size: number;
  uploaded: number;
  subject?: string;
}

export interface LinkEntry {
  size: number;
  uploaded: number;
  /** Where the bytes are, when not at the blob's own key. */
  location?: string;
}

export interface ReferrerEntry {
  key: string;
  digest: string;
  uploaded: number;
}

/** What a manifest refers to, by digest. */
export interface References {
  manifests: string[];
  blobs: string[];
}

export interface RepositoryScan {
  name: string;
  /** Tag → digest. */
  tags: Record<string, string>;
  manifests: Record<string, ManifestEntry>;
  links: Record<string, LinkEntry>;
  referrers: ReferrerEntry[];
  /** Every key with its etag, in listing order: tells whether the repository changed. */
  fingerprint: string[];
}

export interface Verdict {
  /** Digests of the blobs live manifests (or young links) keep in the repository. */
  liveBlobs: string[];
  manifests: string[];
  links: string[];
  referrers: ReferrerEntry[];
}

const FOLDERS = ["_blobs", "_manifests", "_tags", "_referrers"] as const;
type Folder = (typeof FOLDERS)[number];

/** Splits `repositories/<name>/<folder>/<rest>`; `null` for a key of no folder. */
export function splitRepositoryKey(
  key: string,
  prefix: string,
): { name: string; folder: Folder; rest: string } | null {
  const cut = key.indexOf("/_", prefix.length);
  if (cut < 0) return null;
  const end = key.indexOf("/", cut + 1);
  const folder = key.slice(cut + 1, end) as Folder;
  if (end < 0 || !FOLDERS.includes(folder)) return null;
  return { name: key.slice(prefix.length, cut), folder, rest: key.slice(end + 1) };
}

export function emptyScan(name: string): RepositoryScan {
  return { name, tags: {}, manifests: {}, links: {}, referrers: [], fingerprint: [] };
}

/** Adds one listed object of the repository to the scan. */
export function addToScan(
  scan: RepositoryScan,
  object: StoredObject,
  folder: Folder,
  rest: string,
): void {
  const uploaded = object.uploaded.getTime();
  const metadata = object.customMetadata;
  scan.fingerprint.push(`${object.key} ${object.etag}`);
  switch (folder) {
    case "_tags":
      if (metadata.digest) scan.tags[rest] = metadata.digest;
      return;
    case "_manifests":
      scan.manifests[digestOf(rest)] = { size: object.size, uploaded, subject: metadata.subject };
      return;
    case "_blobs":
      scan.links[digestOf(rest)] = {
        size: Number(metadata.size ?? 0),
        uploaded,
        ...(metadata.location ? { location: metadata.location } : {}),
      };
      return;
    case "_referrers": {
      const parts = rest.split("/");
      scan.referrers.push({ key: object.key, digest: `${parts[2]}:${parts[3]}`, uploaded });
    }
  }
}

/** `sha256/abc…` → `sha256:abc…`. */
function digestOf(path: string): string {
  return path.replace("/", ":");
}

/** The references of a stored manifest; none for bytes that no longer parse. */
export function referencesOf(bytes: Uint8Array, contentType: string | undefined): References {
  try {
    const manifest = parseManifest(bytes, contentType);
    return {
      manifests: manifest.manifests.map((d) => d.digest.value),
      blobs: manifest.blobs.filter((d) => d.urls === undefined).map((d) => d.digest.value),
    };
  } catch {
    return { manifests: [], blobs: [] };
  }
}

export interface JudgeOptions {
  policy: Policy;
  /** Objects uploaded after this instant are young: never candidates. */
  youngSince: number;
}

/** Decides what is live in the scanned repository and what may be deleted. */
export function judge(
  scan: RepositoryScan,
  references: Record<string, References>,
  { policy, youngSince }: JudgeOptions,
): Verdict {
  const { manifests, links } = scan;
  const young = (entry: { uploaded: number }) => entry.uploaded >= youngSince;
  const referrersOf = new Map<string, string[]>();
  for (const [digest, entry] of Object.entries(manifests)) {
    if (!entry.subject) continue;
    referrersOf.set(entry.subject, [...(referrersOf.get(entry.subject) ?? []), digest]);
  }

  // A referrer is never a root by itself: it lives through its subject (or a tag).
  const roots = Object.entries(manifests)
    .filter(([, entry]) => young(entry) || (policy === "all" && !entry.subject))
    .map(([digest]) => digest);
  roots.push(...Object.values(scan.tags).filter((digest) => digest in manifests));

  const live = new Set<string>();
  const liveBlobs = new Set<string>();
  const queue = [...roots];
  for (let digest = queue.pop(); digest !== undefined; digest = queue.pop()) {
    if (live.has(digest)) continue;
    live.add(digest);
    const refs = references[digest];
    for (const child of refs?.manifests ?? []) if (child in manifests) queue.push(child);
    for (const blob of refs?.blobs ?? []) liveBlobs.add(blob);
    queue.push(...(referrersOf.get(digest) ?? []));
  }
  for (const [digest, link] of Object.entries(links)) if (young(link)) liveBlobs.add(digest);

  return {
    liveBlobs: [...liveBlobs],
    manifests: Object.keys(manifests).filter((digest) => !live.has(digest)),
    links: Object.keys(links).filter((digest) => !liveBlobs.has(digest)),
    referrers: scan.referrers.filter((entry) => !live.has(entry.digest) && !young(entry)),
  };
}
