/**
 * Builds a single-layer OCI image layout of a given size on disk, streaming: a random file is
 * written, packed with the system `tar` (uncompressed), and hashed from disk.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

const LAYER = "application/vnd.oci.image.layer.v1.tar";
const CONFIG = "application/vnd.oci.image.config.v1+json";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** The layer of a built image: its digest and size, and the offset its payload starts at. */
export interface BigLayer {
  digest: string;
  size: number;
  /** Where the packed file's bytes start inside the tar (after its one 512-byte header). */
  payloadOffset: number;
  payloadSize: number;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

/** The path of a blob inside an OCI layout. */
export function blobPath(dir: string, digest: string): string {
  return join(dir, "blobs", "sha256", digest.slice("sha256:".length));
}

async function writeBlob(dir: string, bytes: string): Promise<{ digest: string; size: number }> {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await writeFile(blobPath(dir, digest), bytes);
  return { digest, size: Buffer.byteLength(bytes) };
}

/** Writes an OCI layout at `dir` whose one image (tag `latest`) has a layer of about `bytes`. */
export async function buildBigImage(dir: string, bytes: number): Promise<BigLayer> {
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(join(dir, "rootfs"), { recursive: true });
  await mkdir(blobs, { recursive: true });
  const mib = Math.ceil(bytes / 2 ** 20);
  await Bun.$`head -c ${mib}M /dev/urandom > ${join(dir, "rootfs", "payload")}`.quiet();
  const tarPath = join(dir, "layer.tar");
  await Bun.$`tar -cf ${tarPath} -C ${join(dir, "rootfs")} payload`.quiet();

  const digest = await sha256File(tarPath);
  const size = (await stat(tarPath)).size;
  await Bun.$`mv ${tarPath} ${blobPath(dir, digest)}`.quiet();
  await Bun.$`rm -rf ${join(dir, "rootfs")}`.quiet();
  await writeImageMetadata(dir, { digest, size });
  return { digest, size, payloadOffset: 512, payloadSize: mib * 2 ** 20 };
}

/** Writes the config, manifest, `index.json` and `oci-layout` of a one-layer image at `dir`. */
export async function writeImageMetadata(
  dir: string,
  layer: { digest: string; size: number },
): Promise<void> {
  const rootfs = { type: "layers", diff_ids: [layer.digest] };
  const config = await writeBlob(
    dir,
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs }),
  );
  const manifest = await writeBlob(
    dir,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: CONFIG, ...config },
      layers: [{ mediaType: LAYER, digest: layer.digest, size: layer.size }],
    }),
  );
  const annotations = { "org.opencontainers.image.ref.name": "latest" };
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: MANIFEST, ...manifest, annotations }],
  };
  await writeFile(join(dir, "index.json"), JSON.stringify(index));
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
}
