/** A small registry client over `fetch`, for setting data up and for the chunked upload. */
import { createHash } from "node:crypto";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** One page of a tag list or the catalog: its path and how many names it held. */
export interface ListingPage {
  path: string;
  count: number;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** `url` with one query parameter added, whatever query it has already. */
export function withQuery(url: string, name: string, value: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(name, value);
  return parsed.href;
}

export class RegistryClient {
  readonly #base: string;

  constructor(base: string) {
    this.#base = base;
  }

  /** `fetch` against the registry; a relative `path` is resolved, self-signed TLS accepted. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(this.absolute(path), { ...init, tls: { rejectUnauthorized: false } });
  }

  absolute(path: string): string {
    return new URL(path, this.#base).href;
  }

  /** Opens an upload session; resolves with its absolute location. */
  async openUpload(repository: string): Promise<string> {
    const res = await this.fetch(`/v2/${repository}/blobs/uploads/`, { method: "POST" });
    return this.absolute(await expectLocation(res, 202, `POST upload to ${repository}`));
  }

  /** Uploads a small blob: POST, then PUT with the digest. */
  async pushBlob(repository: string, bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    const location = await this.openUpload(repository);
    const headers = { "Content-Type": "application/octet-stream" };
    const url = withQuery(location, "digest", digest);
    await expectStatus(await this.fetch(url, { method: "PUT", body: bytes, headers }), 201, url);
    return { mediaType, digest, size: bytes.length };
  }

  /** Mounts a blob from another repository of the same registry. */
  async mountBlob(repository: string, digest: string, from: string): Promise<void> {
    const path = `/v2/${repository}/blobs/uploads/?mount=${digest}&from=${from}`;
    await expectStatus(await this.fetch(path, { method: "POST" }), 201, path);
  }

  async putManifest(repository: string, reference: string, manifest: string): Promise<void> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const headers = { "Content-Type": OCI_MANIFEST };
    const res = await this.fetch(path, { method: "PUT", body: manifest, headers });
    await expectStatus(res, 201, path);
  }

  /** Follows `Link: <…>; rel="next"` from `path` to the last page. */
  async listingPages(path: string, field: "tags" | "repositories"): Promise<ListingPage[]> {
    const pages: ListingPage[] = [];
    for (let next: string | null = path; next; ) {
      const res = await this.fetch(next);
      if (res.status !== 200) throw new Error(`${next}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as Record<string, string[] | null>;
      pages.push({ path: next, count: body[field]?.length ?? 0 });
      next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get("link") ?? "")?.[1] ?? null;
    }
    return pages;
  }
}

export async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  if (res.status === status) {
    await res.body?.cancel();
    return;
  }
  throw new Error(`${what}: ${res.status} ${await res.text()}`);
}

async function expectLocation(res: Response, status: number, what: string): Promise<string> {
  const location = res.headers.get("location");
  await expectStatus(res, status, what);
  if (!location) throw new Error(`${what}: no Location`);
  return location;
}

/** Runs `task` over `items` with at most `limit` at a time. */
export async function inPool<T>(items: T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
