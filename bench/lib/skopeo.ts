/**
 * skopeo, run the same way for every server: TLS not verified (the Worker's certificate is
 * self-signed; for plain HTTP skopeo falls back from https), no signature policy.
 *
 * skopeo's blob-info cache remembers where it has pushed each blob, and would turn a push of
 * known content to a new repository into a cross-repository mount. The bench deletes that cache
 * before every push: as root it is the system-wide file under /var/lib/containers/cache (only a
 * cache; skopeo and podman rebuild it), otherwise a private XDG_DATA_HOME keeps it in the
 * scratch directory.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./command";

const ROOT_CACHE = "/var/lib/containers/cache";
const CACHE_FILES = ["blob-info-cache-v1.boltdb", "blob-info-cache-v1.sqlite"];

export class Skopeo {
  readonly #env: Record<string, string | undefined>;
  readonly #cacheDir: string;

  constructor(work: string) {
    const isRoot = process.getuid?.() === 0;
    const dataHome = join(work, "xdg-data");
    this.#env = isRoot ? process.env : { ...process.env, XDG_DATA_HOME: dataHome };
    this.#cacheDir = isRoot ? ROOT_CACHE : join(dataHome, "containers", "cache");
  }

  /** Forgets where blobs were pushed, so the next push uploads every blob. */
  async forgetBlobLocations(): Promise<void> {
    await Promise.all(CACHE_FILES.map((name) => rm(join(this.#cacheDir, name), { force: true })));
  }

  async copy(source: string, destination: string): Promise<void> {
    const tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
    const cmd = ["skopeo", "copy", "--quiet", "--insecure-policy", ...tls, source, destination];
    const { code, stderr } = await runCommand(cmd, { env: this.#env });
    if (code !== 0) throw new Error(`skopeo copy ${source} ${destination}: ${stderr.trim()}`);
  }
}
