/**
 * Builds OCI image layouts on disk for the end-to-end tests, and reads them back.
 *
 * Layers are gzip-compressed tarballs written here byte by byte (ustar format), and file
 * contents are random unless given, so every run pushes blobs no registry and no client cache
 * has seen before. Configs are real OCI image configs (`rootfs.diff_ids` hold the digests of
 * the uncompressed tarballs), which is what skopeo and podman check when they pull.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

const REF_NAME = "org.opencontainers.image.ref.name";

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface LayerSpec {
  /** Path inside the layer (no leading slash) to content; a number is that many random bytes. */
  files: Record<string, string | Uint8Array | number>;
}

export interface ImageOptions {
  layers: LayerSpec[];
  /** Defaults to linux on this machine's architecture. */
  platform?: Platform;
  /** Names the image in `index.json`; without it the image is only in `blobs/`. */
  tag?: string;
}

export interface BuiltImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Digests of the uncompressed layers, as the config lists them. */
  diffIds: string[];
}

export interface BuiltIndex {
  index: Descriptor;
  images: BuiltImage[];
}

/** A manifest, index or blob read back from a layout, its bytes checked against the digest. */
export interface ReadImage {
  manifest: Descriptor;
  manifestBytes: Uint8Array;
  configBytes: Uint8Array;
  config: { architecture: string; os: string; rootfs: { diff_ids: string[] } };
  layers: Descriptor[];
}

export interface ReadIndex {
  index: Descriptor;
  indexBytes: Uint8Array;
  images: ReadImage[];
}

/** The platform of this machine, in OCI terms. */
export function hostPlatform(): Platform {
  const architecture = { x64: "amd64", arm64: "arm64", arm: "arm" }[process.arch as string];
  return { architecture: architecture ?? process.arch, os: "linux" };
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Random lower-case letters and digits, for repository names and tags no run has used. */
export function randomName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

/** Writes one image (layers, config, manifest) into the layout at `dir`, creating it if needed. */
export async function buildImage(dir: string, options: ImageOptions): Promise<BuiltImage> {
  const platform = options.platform ?? hostPlatform();
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const spec of options.layers) {
    const tarball = makeTar(spec.files);
    diffIds.push(sha256(tarball));
    layers.push(await writeBlob(dir, OCI_LAYER_GZIP, gzipSync(tarball, { level: 1 })));
  }

  const config = await writeBlob(dir, OCI_CONFIG, JSON.stringify(imageConfig(platform, diffIds)));
  const manifestJson = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers };
  const manifest = await writeBlob(dir, OCI_MANIFEST, JSON.stringify(manifestJson));

  if (options.tag) await addToIndex(dir, { ...manifest, platform }, options.tag);
  return { manifest: { ...manifest, platform }, config, layers, diffIds };
}

/** Writes an image index with one small image per platform and names it `tag`. */
export async function buildMultiArchIndex(
  dir: string,
  tag: string,
  platforms: Platform[],
): Promise<BuiltIndex> {
  const images: BuiltImage[] = [];
  for (const platform of platforms) {
    const name = `${platform.architecture}${platform.variant ?? ""}`;
    const layers = [{ files: { [`etc/${name}.txt`]: 4096, [`data/${name}.bin`]: 64 * 1024 } }];
    images.push(await buildImage(dir, { layers, platform }));
  }

  const indexJson = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: images.map((image) => image.manifest),
  };
  const index = await writeBlob(dir, OCI_INDEX, JSON.stringify(indexJson));
  await addToIndex(dir, index, tag);
  return { index, images };
}

/** Reads the image named `tag` back; fails when a blob is missing or does not match its digest. */
export async function readImage(dir: string, tag: string): Promise<ReadImage> {
  const manifest = await findTag(dir, tag);
  if (manifest.mediaType !== OCI_MANIFEST) {
    throw new Error(`${tag} in ${dir} is ${manifest.mediaType}, not an image manifest`);
  }
  return readImageAt(dir, manifest);
}

/** Reads the index named `tag` back, with every image it lists. */
export async function readIndex(dir: string, tag: string): Promise<ReadIndex> {
  const index = await findTag(dir, tag);
  if (index.mediaType !== OCI_INDEX) {
    throw new Error(`${tag} in ${dir} is ${index.mediaType}, not an image index`);
  }

  const indexBytes = await readBlob(dir, index.digest);
  const children = (JSON.parse(new TextDecoder().decode(indexBytes)) as { manifests: Descriptor[] })
    .manifests;
  const images = await Promise.all(children.map((child) => readImageAt(dir, child)));
  return { index, indexBytes, images };
}

/** The bytes of a blob of the layout, checked against its digest. */
export async function readBlob(dir: string, digest: string): Promise<Uint8Array> {
  const [algorithm, hex] = digest.split(":");
  const bytes = new Uint8Array(await readFile(join(dir, "blobs", `${algorithm}`, `${hex}`)));
  const actual = `${algorithm}:${createHash(`${algorithm}`).update(bytes).digest("hex")}`;
  if (actual !== digest) throw new Error(`blob ${digest} in ${dir} hashes to ${actual}`);
  return bytes;
}

async function readImageAt(dir: string, manifest: Descriptor): Promise<ReadImage> {
  const manifestBytes = await readBlob(dir, manifest.digest);
  const parsed = JSON.parse(new TextDecoder().decode(manifestBytes)) as {
    config: Descriptor;
    layers: Descriptor[];
  };
  const configBytes = await readBlob(dir, parsed.config.digest);
  await Promise.all(parsed.layers.map((layer) => readBlob(dir, layer.digest)));

  const config = JSON.parse(new TextDecoder().decode(configBytes)) as ReadImage["config"];
  return { manifest, manifestBytes, configBytes, config, layers: parsed.layers };
}

async function findTag(dir: string, tag: string): Promise<Descriptor> {
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  const found = index.manifests.find((entry) => entry.annotations?.[REF_NAME] === tag);
  if (!found) throw new Error(`no image named ${tag} in ${dir}/index.json`);
  return found;
}

function imageConfig(platform: Platform, diffIds: string[]) {
  const created = new Date().toISOString();
  return {
    created,
    ...platform,
    config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map(() => ({ created, created_by: "r2-registry end-to-end test" })),
  };
}

async function writeBlob(dir: string, mediaType: string, content: Uint8Array | string) {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const digest = sha256(bytes);
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "blobs", "sha256", digest.slice("sha256:".length)), bytes);
  return { mediaType, digest, size: bytes.byteLength };
}

async function addToIndex(dir: string, descriptor: Descriptor, tag: string) {
  const path = join(dir, "index.json");
  const existing = await readFile(path, "utf8").catch(() => null);
  const index = existing
    ? (JSON.parse(existing) as { manifests: Descriptor[] })
    : { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
  const others = index.manifests.filter((entry) => entry.annotations?.[REF_NAME] !== tag);
  const named = { ...descriptor, annotations: { [REF_NAME]: tag } };

  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(path, JSON.stringify({ ...index, manifests: [...others, named] }));
}

/** A ustar archive of the files, with an entry for each parent directory before its files. */
function makeTar(files: LayerSpec["files"]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const directories = new Set<string>();
  for (const [path, content] of Object.entries(files)) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const directory = `${parts.slice(0, i).join("/")}/`;
      if (directories.has(directory)) continue;
      directories.add(directory);
      chunks.push(tarHeader(directory, 0, "5", 0o755));
    }

    const bytes = fileBytes(content);
    chunks.push(tarHeader(path, bytes.byteLength, "0", 0o644), bytes);
    chunks.push(new Uint8Array((512 - (bytes.byteLength % 512)) % 512));
  }
  chunks.push(new Uint8Array(1024));
  return concat(chunks);
}

function fileBytes(content: string | Uint8Array | number): Uint8Array {
  if (typeof content === "number") return new Uint8Array(randomBytes(content));
  if (typeof content === "string") return new TextEncoder().encode(content);
  return content;
}

/**
 * Every entry's modification time: fixed, so that the same files make the same layer digest
 * whenever they are built (a clock second passing between two builds must not split them).
 */
const LAYER_MTIME = 1_700_000_000;

function tarHeader(path: string, size: number, type: "0" | "5", mode: number): Uint8Array {
  const name = new TextEncoder().encode(path);
  if (name.byteLength > 100) throw new Error(`tar path over 100 bytes: ${path}`);

  const header = new Uint8Array(512);
  const field = (offset: number, text: string) =>
    header.set(new TextEncoder().encode(text), offset);
  const octal = (offset: number, width: number, value: number) =>
    field(offset, `${value.toString(8).padStart(width - 1, "0")}\0`);
  header.set(name, 0);
  octal(100, 8, mode);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, LAYER_MTIME);
  field(148, "        ");
  field(156, type);
  field(257, "ustar\u000000");
  field(265, "root");
  field(297, "root");

  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  field(148, `${checksum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
