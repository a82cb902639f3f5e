/** Small images put into a registry over HTTP, as set-up for the load phases (untimed). */
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, type RegistryClient } from "../lib/client";

/** The Accept header of a client that takes OCI and Docker manifests and indexes. */
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

export interface SeededImage {
  /** The manifest's bytes, to PUT under more tags. */
  manifest: string;
  configDigest: string;
}

/** Pushes a config, a 4 KiB layer and a manifest referencing both; tags it `tag`. */
export async function seedImage(
  client: RegistryClient,
  repository: string,
  tag: string,
): Promise<SeededImage> {
  const configBytes = new TextEncoder().encode(
    JSON.stringify({ architecture: "amd64", os: "linux" }),
  );
  const config = await client.pushBlob(repository, configBytes, OCI_CONFIG);
  const layerBytes = crypto.getRandomValues(new Uint8Array(4096));
  const layer = await client.pushBlob(repository, layerBytes, OCI_LAYER);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config,
    layers: [layer],
  });
  await client.putManifest(repository, tag, manifest);
  return { manifest, configDigest: config.digest };
}

/** A manifest of a config alone (no layers): the cheapest image a repository can hold. */
export function configOnlyManifest(configDigest: string, configSize: number): string {
  const config = { mediaType: OCI_CONFIG, digest: configDigest, size: configSize };
  return JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
}
