/**
 * A snapshot of the Worker for `wrangler dev`: bundled once into the scratch directory, with a
 * copy of `wrangler.toml` pointing at the bundle. `wrangler dev` on the sources would rebuild and
 * reload the Worker whenever a source file changes, failing the requests in flight with 503;
 * the snapshot measures the code as it was when the bench started, as the Bun server does.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { outputOf } from "./command";

export interface WorkerBundle {
  /** The `wrangler.json` to pass with `--config` (and `--no-bundle`). */
  config: string;
}

/** Bundles the Worker with `wrangler deploy --dry-run`; `vars` are added to its variables. */
export async function bundleWorker(
  root: string,
  wrangler: string,
  dir: string,
  env: Record<string, string | undefined>,
  vars: Record<string, string>,
): Promise<WorkerBundle> {
  await mkdir(dir, { recursive: true });
  await outputOf([wrangler, "deploy", "--dry-run", `--outdir=${dir}`], { cwd: root, env });
  const toml = Bun.TOML.parse(await Bun.file(join(root, "wrangler.toml")).text());
  const base = toml as { vars?: Record<string, string> };
  const config = { ...base, main: "index.js", vars: { ...base.vars, ...vars } };
  const path = join(dir, "wrangler.json");
  await writeFile(path, JSON.stringify(config, null, 2));
  return { config: path };
}
