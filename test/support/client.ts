/**
 * Small helpers for the HTTP-level suite: digests, payloads, uploads, manifests and error bodies.
 *
 * They speak to the registry only over HTTP, the way any client does, and follow every
 * `Location` they are given, so they work against any registry that keeps to the spec.
 */
import { createHash, randomBytes as cryptoRandomBytes } from "node:crypto";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";

export const API_VERSION = "registry/2.0";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** The two bytes of the OCI empty descriptor's blob, `{}`. */
export const EMPTY_JSON = new TextEncoder().encode("{}");

export type Algorithm = "sha256" | "sha512";
export type Bytes = Uint8Array<ArrayBuffer>;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: { architecture: string; os: string };
}

export function digestOf(data: Uint8Array | string, algorithm: Algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
}

export function randomBytes(size: number): Bytes {
  return new Uint8Array(cryptoRandomBytes(size));
}

export function utf8(text: string): Bytes {
  return new TextEncoder().encode(text);
}

/** A repository name no other test uses, e.g. `blobs-3f9a0c1d/app`. */
export function randomName(prefix = "test", suffix = "app"): string {
  return `${prefix}-${cryptoRandomBytes(4).toString("hex")}/${suffix}`;
}

export function descriptor(data: Uint8Array, mediaType: string, algorithm?: Algorithm): Descriptor {
  return { mediaType, digest: digestOf(data, algorithm), size: data.byteLength };
}

/** Resolves a `Location` (relative or absolute) against the registry's base URL. */
export function absolute(base: string, location: string | null): string {
  if (location === null) throw new Error("response has no Location header");
  return new URL(location, base).toString();
}

/** `url` with the given query parameters added (keeping any it already has). */
export function withQuery(url: string, params: Record<string, string>): string {
  const result = new URL(url);
  for (const [key, value] of Object.entries(params)) result.searchParams.append(key, value);
  return result.toString();
}

/** A stream that yields `data` in pieces, so that fetch sends it without `Content-Length`. */
export function streamOf(data: Uint8Array, pieceSize = 64 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= data.byteLength) return controller.close();
      controller.enqueue(data.subarray(offset, offset + pieceSize));
      offset += pieceSize;
    },
  });
}

/** Request options for a body streamed with chunked transfer encoding. */
export function streamed(data: Uint8Array, headers: Record<string, string> = {}): RequestInit {
  return { body: streamOf(data), duplex: "half", headers } as RequestInit;
}

/**
 * The error codes of an error response, after checking the common rules: the API version
 * header, a JSON content type, and the `{"errors":[{"code","message","detail"?}]}` shape.
 */
export async function errorCodes(res: Response): Promise<string[]> {
  if (res.headers.get("docker-distribution-api-version") !== API_VERSION) {
    throw new Error(`error response ${res.status} lacks Docker-Distribution-API-Version`);
  }
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json")) {
    throw new Error(`error response ${res.status} has Content-Type ${JSON.stringify(type)}`);
  }
  const text = await res.text();
  const body = JSON.parse(text) as { errors?: unknown };
  if (!Array.isArray(body.errors) || body.errors.length === 0) {
    throw new Error(`error body has no errors array: ${text}`);
  }
  return body.errors.map((error: Record<string, unknown>) => {
    const shaped = typeof error.code === "string" && typeof error.message === "string";
    if (!shaped || error.detail === null) throw new Error(`malformed error entry: ${text}`);
    return error.code as string;
  });
}

/** The `detail` of the first error, serialised (read from a clone), e.g. to find a digest in. */
export async function errorDetail(res: Response): Promise<string> {
  const body = await jsonOf<{ errors?: { detail?: unknown }[] }>(res);
  return JSON.stringify(body.errors?.[0]?.detail ?? "");
}

/** The JSON body of a response (read from a clone), or an error that shows what came instead. */
export async function jsonOf<T>(res: Response): Promise<T> {
  const text = await res.clone().text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`expected JSON, got ${res.status}: ${text.slice(0, 200)}`);
  }
}

/** The target of the `rel="next"` Link header, absolute, or `null` when there is none. */
export function nextLink(base: string, res: Response): string | null {
  const link = res.headers.get("link");
  if (link === null) return null;
  const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link);
  if (!match?.[1]) throw new Error(`unparsable Link header: ${link}`);
  return absolute(base, match[1]);
}

/** `POST /v2/<repo>/blobs/uploads/` with optional query parameters. */
export function startUpload(
  url: string,
  repo: string,
  params: Record<string, string> = {},
  init: RequestInit = {},
): Promise<Response> {
  const target = withQuery(`${url}/v2/${repo}/blobs/uploads/`, params);
  return fetch(target, { method: "POST", ...init });
}

/** Opens a session and returns its absolute location; throws unless the answer is 202. */
export async function openSession(
  url: string,
  repo: string,
  params: Record<string, string> = {},
): Promise<string> {
  const res = await startUpload(url, repo, params);
  if (res.status !== 202) throw new Error(`POST upload: ${res.status} ${await res.text()}`);
  return absolute(url, res.headers.get("location"));
}

/** `PATCH` one chunk; `contentRange` is sent as given (e.g. `"0-9"`), or left out. */
export function patchChunk(
  location: string,
  chunk: Uint8Array,
  contentRange?: string,
): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
  if (contentRange !== undefined) headers["Content-Range"] = contentRange;
  return fetch(location, { method: "PATCH", body: chunk, headers });
}

/** `PUT <location>?digest=…`, with an optional last chunk and its `Content-Range`. */
export function finishUpload(
  location: string,
  digest: string,
  body?: Uint8Array,
  contentRange?: string,
): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
  if (contentRange !== undefined) headers["Content-Range"] = contentRange;
  return fetch(withQuery(location, { digest }), { method: "PUT", body, headers });
}

/** Pushes a blob as one `PUT` on a fresh session (what every registry supports); its digest. */
export async function pushBlob(url: string, repo: string, data: Uint8Array): Promise<string> {
  const digest = digestOf(data);
  const res = await finishUpload(await openSession(url, repo), digest, data);
  if (res.status !== 201) throw new Error(`PUT upload: ${res.status} ${await res.text()}`);
  return digest;
}

export function getBlob(url: string, repo: string, digest: string, init: RequestInit = {}) {
  return fetch(`${url}/v2/${repo}/blobs/${digest}`, init);
}

export interface ImageManifestOptions {
  config?: Descriptor;
  layers?: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Defaults to the OCI image manifest type; `null` leaves the field out. */
  mediaType?: string | null;
}

/** An OCI image manifest (or, with `mediaType`, a Docker one) as a plain object. */
export function imageManifest(options: ImageManifestOptions = {}): Record<string, unknown> {
  const mediaType = options.mediaType === undefined ? OCI_MANIFEST : options.mediaType;
  return compact({
    schemaVersion: 2,
    mediaType,
    artifactType: options.artifactType,
    config: options.config ?? descriptor(EMPTY_JSON, OCI_EMPTY),
    layers: options.layers ?? [],
    subject: options.subject,
    annotations: options.annotations,
  });
}

export interface IndexOptions {
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  mediaType?: string;
}

/** An OCI image index (or, with `mediaType`, a Docker manifest list) as a plain object. */
export function imageIndex(options: IndexOptions): Record<string, unknown> {
  return compact({
    schemaVersion: 2,
    mediaType: options.mediaType ?? OCI_INDEX,
    artifactType: options.artifactType,
    manifests: options.manifests,
    subject: options.subject,
    annotations: options.annotations,
  });
}

function compact(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value != null));
}

/**
 * `PUT /v2/<repo>/manifests/<reference>`. An object is serialised as JSON; `mediaType` is the
 * `Content-Type` to send: by default the body's own `mediaType`, and `null` sends none.
 */
export function putManifest(
  url: string,
  repo: string,
  reference: string,
  manifest: Record<string, unknown> | string | Uint8Array,
  mediaType?: string | null,
): Promise<Response> {
  const bytes = manifestBytes(manifest);
  const type = mediaType === undefined ? bodyMediaType(manifest) : mediaType;
  const headers: Record<string, string> = type ? { "Content-Type": type } : {};
  return fetch(`${url}/v2/${repo}/manifests/${reference}`, { method: "PUT", body: bytes, headers });
}

export function manifestBytes(manifest: Record<string, unknown> | string | Uint8Array): Bytes {
  if (manifest instanceof Uint8Array) return new Uint8Array(manifest);
  return utf8(typeof manifest === "string" ? manifest : JSON.stringify(manifest));
}

function bodyMediaType(manifest: Record<string, unknown> | string | Uint8Array): string | null {
  if (manifest instanceof Uint8Array || typeof manifest === "string") return null;
  return typeof manifest.mediaType === "string" ? manifest.mediaType : null;
}

/** What clients send as `Accept` when they fetch a manifest: every type the registry stores. */
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
].join(", ");

/** `GET` (or `HEAD`) `/v2/<repo>/manifests/<reference>` with the `Accept` of a real client. */
export function getManifest(url: string, repo: string, reference: string, method = "GET") {
  const headers = { Accept: MANIFEST_ACCEPT };
  return fetch(`${url}/v2/${repo}/manifests/${reference}`, { method, headers });
}

export interface PushedManifest {
  digest: string;
  bytes: Bytes;
  mediaType: string;
  /** The manifest's descriptor, ready to be a `subject` or an index entry. */
  descriptor: Descriptor;
}

/** Puts a manifest and throws unless the answer is 201. */
export async function pushManifest(
  url: string,
  repo: string,
  reference: string | null,
  manifest: Record<string, unknown>,
): Promise<PushedManifest> {
  const bytes = manifestBytes(manifest);
  const digest = digestOf(bytes);
  const res = await putManifest(url, repo, reference ?? digest, manifest);
  if (res.status !== 201) throw new Error(`PUT manifest: ${res.status} ${await res.text()}`);
  const mediaType = String(manifest.mediaType);
  return { digest, bytes, mediaType, descriptor: { mediaType, digest, size: bytes.byteLength } };
}

export interface PushImageOptions extends Omit<ImageManifestOptions, "config" | "layers"> {
  /** Pushed as the one layer; random bytes by default. */
  layer?: Uint8Array;
  configMediaType?: string;
}

/** Pushes a config, one layer and an OCI image manifest (by `reference`, or by digest). */
export async function pushImage(
  url: string,
  repo: string,
  reference: string | null = null,
  options: PushImageOptions = {},
): Promise<PushedManifest & { config: Descriptor; layer: Descriptor }> {
  const configBytes = utf8(
    JSON.stringify({ architecture: "amd64", os: "linux", n: Math.random() }),
  );
  const layerBytes = options.layer ?? randomBytes(64);
  const config = descriptor(configBytes, options.configMediaType ?? OCI_CONFIG);
  const layer = descriptor(layerBytes, OCI_LAYER);

  await pushBlob(url, repo, configBytes);
  await pushBlob(url, repo, layerBytes);
  const manifest = imageManifest({ ...options, config, layers: [layer] });
  return { ...(await pushManifest(url, repo, reference, manifest)), config, layer };
}

/** Pushes the empty config blob `{}` and returns its descriptor. */
export async function pushEmptyConfig(url: string, repo: string): Promise<Descriptor> {
  await pushBlob(url, repo, EMPTY_JSON);
  return descriptor(EMPTY_JSON, OCI_EMPTY);
}

/** Runs `task` for each item with at most `limit` at a time. */
export async function inParallel<T>(items: T[], limit: number, task: (item: T) => Promise<void>) {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends a request line exactly as given, bypassing fetch's URL normalisation, so that paths
 * such as `/v2/a/../b/tags/list` reach the server unchanged.
 */
export function rawRequest(base: string, method: string, path: string): Promise<RawResponse> {
  const { hostname, port, protocol } = new URL(base);
  const host = `Host: ${hostname}:${port}`;
  const head = `${method} ${path} HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`;
  const options = { port: Number(port), host: hostname, rejectUnauthorized: false };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const send = () => socket.write(head);
    const socket = protocol === "https:" ? tlsConnect(options, send) : connect(options, send);
    const finish = () => {
      socket.destroy();
      resolve(parseRaw(Buffer.concat(chunks).toString("latin1")));
    };
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (isComplete(Buffer.concat(chunks).toString("latin1"))) finish();
    });
    socket.on("error", reject);
    socket.on("end", finish);
  });
}

/** True once a response's head and all the body its Content-Length announces have arrived. */
function isComplete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1];
  return length !== undefined && text.length - end - 4 >= Number(length);
}

function parseRaw(text: string): RawResponse {
  const [head = "", body = ""] = text.split("\r\n\r\n", 2);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}
