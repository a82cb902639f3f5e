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

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

async function writeBlob(dir: string, bytes: string): Promise<{ digest: string; size: number }> {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await writeFile(join(dir, "blobs", "sha256", digest.slice(7)), bytes);
  return { digest, size: Buffer.byteLength(bytes) };
}

/** Writes an OCI layout at `dir` whose one image (tag `latest`) has a layer of about `bytes`. */
export async function buildBigImage(dir: string, bytes: number): Promise<void> {
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(join(dir, "rootfs"), { recursive: true });
  await mkdir(blobs, { recursive: true });
  const mib = Math.ceil(bytes / 2 ** 20);
  await Bun.$`head -c ${mib}M /dev/urandom > ${join(dir, "rootfs", "payload")}`.quiet();
  const tarPath = join(dir, "layer.tar");
  await Bun.$`tar -cf ${tarPath} -C ${join(dir, "rootfs")} payload`.quiet();

  const layerDigest = await sha256File(tarPath);
  const layerSize = (await stat(tarPath)).size;
  await Bun.$`mv ${tarPath} ${join(blobs, layerDigest.slice(7))}`.quiet();
  await Bun.$`rm -rf ${join(dir, "rootfs")}`.quiet();

  const rootfs = { type: "layers", diff_ids: [layerDigest] };
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
      layers: [{ mediaType: LAYER, digest: layerDigest, size: layerSize }],
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
