/**
 * Peak resident memory of the local server while skopeo pushes and pulls a single-layer image,
 * for several layer sizes: it should stay flat as the blob grows.
 *
 *   bun bench/memory.ts [MiB…]        (default: 256 1024)
 *
 * Needs skopeo. Prints a markdown table.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBigImage } from "./big-image";

const ROOT = join(import.meta.dir, "..");
const sizes = process.argv.slice(2).map(Number);

async function kib(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
}

async function startServer(dataDir: string, port: number) {
  const proc = Bun.spawn([process.execPath, "src/local.ts"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir },
    stdout: "ignore",
    stderr: "inherit",
  });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return proc;
    await Bun.sleep(50);
  }
  throw new Error("server did not start");
}

async function measure(mib: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "r2-registry-bench-"));
  const port = 20000 + Math.floor(Math.random() * 20000);
  await buildBigImage(join(work, "image"), mib * 2 ** 20);
  const server = await startServer(join(work, "data"), port);
  const idle = await kib(server.pid, "VmRSS");
  const target = `docker://127.0.0.1:${port}/bench/big-${mib}:latest`;
  const tls = ["--dest-tls-verify=false", "--src-tls-verify=false"];

  let started = performance.now();
  const image = `oci:${join(work, "image")}:latest`;
  await Bun.$`skopeo copy --insecure-policy ${tls} ${image} ${target}`.quiet();
  const push = (performance.now() - started) / 1000;
  const afterPush = await kib(server.pid, "VmHWM");
  started = performance.now();
  const back = `oci:${join(work, "back")}:latest`;
  await Bun.$`skopeo copy --insecure-policy ${tls} ${target} ${back}`.quiet();
  const pull = (performance.now() - started) / 1000;
  const peak = await kib(server.pid, "VmHWM");

  server.kill();
  await server.exited;
  await rm(work, { recursive: true, force: true });
  const mb = (k: number) => (k / 1024).toFixed(0);
  const cells = [`${mib} MiB`, mb(idle), mb(afterPush), mb(peak), push.toFixed(1), pull.toFixed(1)];
  return `| ${cells.join(" | ")} |`;
}

console.log(
  "| layer | idle RSS (MiB) | peak RSS after push | peak RSS after pull | push s | pull s |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const mib of sizes.length ? sizes : [256, 1024]) console.log(await measure(mib));
