/**
 * Pushes one blob to the Worker in workerd (wrangler dev, local R2) in fixed-size PATCH chunks,
 * and reports the time and the peak resident memory of the workerd processes.
 *
 *   bun bench/worker-memory.ts [blob MiB] [chunk MiB]      (default: 1024 50)
 *
 * Local R2 is an emulator writing to local disk: read the time as relative, not as R2's speed.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const MiB = 2 ** 20;
const [blobMiB = 1024, chunkMiB = 50] = process.argv.slice(2).map(Number);
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

/** PIDs of the workerd processes on this machine. */
async function workerdPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, "utf8").catch(() => "");
    if (comm.trim() === "workerd") pids.push(Number(entry));
  }
  return pids;
}

async function peakKib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function startWrangler(persist: string, port: number) {
  const before = new Set(await workerdPids());
  const proc = Bun.spawn(
    ["node_modules/.bin/wrangler", "dev", `--port=${port}`, `--persist-to=${persist}`],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      stdout: "ignore",
      stderr: "ignore",
    },
  );
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`https://127.0.0.1:${port}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { proc, pids: (await workerdPids()).filter((pid) => !before.has(pid)) };
    await Bun.sleep(100);
  }
  throw new Error("wrangler dev did not start");
}

const persist = await mkdtemp(join(tmpdir(), "r2-registry-worker-bench-"));
const port = 20000 + Math.floor(Math.random() * 20000);
const { proc, pids } = await startWrangler(persist, port);
const base = `https://127.0.0.1:${port}`;
const idle = (await Promise.all(pids.map(peakKib))).reduce((a, b) => Math.max(a, b), 0);

const chunk = new Uint8Array(chunkMiB * MiB).map((_, i) => (i * 2654435761) >>> 24);
const hash = createHash("sha256");
const post = await fetch(`${base}/v2/bench/blob/blobs/uploads/`, { method: "POST" });
const location = `${base}${post.headers.get("location")}`;
const started = performance.now();
for (let offset = 0; offset < blobMiB * MiB; offset += chunk.length) {
  const body = chunk.slice(0, Math.min(chunk.length, blobMiB * MiB - offset));
  body[0] = (offset / MiB) & 0xff;
  hash.update(body);
  const range = `${offset}-${offset + body.length - 1}`;
  const res = await fetch(location, { method: "PATCH", body, headers: { "Content-Range": range } });
  if (res.status !== 202) throw new Error(`PATCH ${range}: ${res.status} ${await res.text()}`);
}
const digest = `sha256:${hash.digest("hex")}`;
const put = await fetch(`${location}?digest=${digest}`, { method: "PUT" });
const seconds = (performance.now() - started) / 1000;
if (put.status !== 201) throw new Error(`PUT: ${put.status} ${await put.text()}`);
const peaks = await Promise.all(pids.map(peakKib));

proc.kill();
await proc.exited;
await rm(persist, { recursive: true, force: true });
const mib = (kib: number) => (kib / 1024).toFixed(0);
console.log("| blob | chunks | workerd peak RSS before (MiB) | after (MiB) | seconds | MiB/s |");
console.log("| --- | --- | ---: | ---: | ---: | ---: |");
console.log(
  `| ${[
    `${blobMiB} MiB`,
    `${chunkMiB} MiB`,
    mib(idle),
    peaks.map(mib).join(" + "),
    seconds.toFixed(1),
    (blobMiB / seconds).toFixed(0),
  ].join(" | ")} |`,
);
