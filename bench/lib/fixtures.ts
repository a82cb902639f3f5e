/**
 * The content the bench pushes, created once and reused so the page cache is warm for both
 * servers. Every round pushes new content all the same, so that no server can skip a write
 * because it already holds the blob: a 32-byte marker is written in place near the end of each
 * big file, and its digest recomputed from a saved hash of the bytes before the marker.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { blobPath, buildBigImage, writeImageMetadata } from "../big-image";
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, sha256 } from "./client";

const MARK_BYTES = 32;

/** A big file whose content is changed by a marker at `offset`, with its digest kept current. */
class MarkedFile {
  #path: string;
  readonly #offset: number;
  #prefix: Hash | null = null;
  #mark = "";
  digest = "";

  constructor(path: string, offset: number) {
    this.#path = path;
    this.#offset = offset;
  }

  get path(): string {
    return this.#path;
  }

  /** Writes `mark` into the file unless it holds it already; resolves with the new digest. */
  async mark(mark: string): Promise<string> {
    if (mark === this.#mark) return this.digest;
    const bytes = Buffer.alloc(MARK_BYTES, " ");
    bytes.write(mark.slice(0, MARK_BYTES));
    const file = await open(this.#path, "r+");
    await file.write(bytes, 0, MARK_BYTES, this.#offset);
    await file.close();

    this.#prefix ??= await hashRange(this.#path, 0, this.#offset);
    const hash = this.#prefix.copy();
    for await (const chunk of createReadStream(this.#path, { start: this.#offset })) {
      hash.update(chunk);
    }
    this.#mark = mark;
    this.digest = `sha256:${hash.digest("hex")}`;
    return this.digest;
  }

  async moveTo(path: string): Promise<void> {
    await rename(this.#path, path);
    this.#path = path;
  }
}

async function hashRange(path: string, start: number, end: number): Promise<Hash> {
  const hash = createHash("sha256");
  if (end === start) return hash;
  const stream = createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20 });
  for await (const chunk of stream) hash.update(chunk);
  return hash;
}

/** A one-layer OCI image layout (tag `latest`) with a big random layer. */
export class BigImage {
  readonly dir: string;
  readonly #layer: MarkedFile;
  readonly size: number;

  private constructor(dir: string, layer: MarkedFile, size: number) {
    this.dir = dir;
    this.#layer = layer;
    this.size = size;
  }

  static async build(dir: string, bytes: number): Promise<BigImage> {
    const layer = await buildBigImage(dir, bytes);
    const markAt = layer.payloadOffset + layer.payloadSize - MARK_BYTES;
    const file = new MarkedFile(blobPath(dir, layer.digest), markAt);
    return new BigImage(dir, file, layer.size);
  }

  /** Gives the layer new content for `mark`, and the layout a new config and manifest. */
  async refresh(mark: string): Promise<void> {
    const digest = await this.#layer.mark(mark);
    await this.#layer.moveTo(blobPath(this.dir, digest));
    await writeImageMetadata(this.dir, { digest, size: this.size });
  }
}

/** A big random file to upload as a raw blob. */
export class BlobFile {
  readonly #file: MarkedFile;
  readonly size: number;

  private constructor(file: MarkedFile, size: number) {
    this.#file = file;
    this.size = size;
  }

  static async build(path: string, bytes: number): Promise<BlobFile> {
    await Bun.$`head -c ${bytes} /dev/urandom > ${path}`.quiet();
    return new BlobFile(new MarkedFile(path, bytes - MARK_BYTES), bytes);
  }

  get path(): string {
    return this.#file.path;
  }

  get digest(): string {
    return this.#file.digest;
  }

  /** Gives the file new content for `mark`; resolves with its digest. */
  mark(mark: string): Promise<string> {
    return this.#file.mark(mark);
  }
}

/**
 * Writes an OCI layout at `dir` with `count` small images tagged `img-0`…, each with its own
 * config and a layer of `layerBytes` random bytes (registries do not look inside layers).
 */
export async function buildSmallImages(dir: string, count: number, layerBytes: number) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  const manifests = [];
  for (let i = 0; i < count; i++) {
    const layer = await writeSmallBlob(dir, crypto.getRandomValues(new Uint8Array(layerBytes)));
    const rootfs = { type: "layers", diff_ids: [layer.digest] };
    const configText = JSON.stringify({ architecture: "amd64", os: "linux", rootfs });
    const config = await writeSmallBlob(dir, new TextEncoder().encode(configText));
    const manifest = await writeSmallBlob(
      dir,
      new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, ...config },
          layers: [{ mediaType: OCI_LAYER, ...layer }],
        }),
      ),
    );
    const annotations = { "org.opencontainers.image.ref.name": `img-${i}` };
    manifests.push({ mediaType: OCI_MANIFEST, ...manifest, annotations });
  }
  await writeFile(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
}

async function writeSmallBlob(dir: string, bytes: Uint8Array) {
  const digest = sha256(bytes);
  await writeFile(blobPath(dir, digest), bytes);
  return { digest, size: bytes.length };
}

/** The big files, built on first use and reused for the whole run. */
export interface Fixtures {
  bigImage(): Promise<BigImage>;
  blobFile(): Promise<BlobFile>;
}

export function lazyFixtures(work: string, bytes: number, log: (text: string) => void): Fixtures {
  let image: Promise<BigImage> | undefined;
  let blob: Promise<BlobFile> | undefined;
  return {
    bigImage() {
      if (!image) log(`building a ${bytes / 2 ** 20} MiB single-layer image`);
      image ??= BigImage.build(join(work, "image"), bytes);
      return image;
    },
    blobFile() {
      if (!blob) log(`writing a ${bytes / 2 ** 20} MiB random blob`);
      blob ??= BlobFile.build(join(work, "blob.bin"), bytes);
      return blob;
    },
  };
}
