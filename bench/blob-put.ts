/**
 * Where a big blob upload's server time and memory go: the Bun server takes one file several
 * times, by a one-request PUT (`curl -T`, length known) and by a streamed PATCH without a length
 * (what skopeo sends), and for each upload the server's user and system CPU time and its peak
 * RSS (VmHWM, reset before each upload) are printed. Each round ends with `dd` writing the same
 * bytes to a new file, without any server: the kernel's own cost of the write, which an upload
 * cannot go below.
 *
 *   bun bench/blob-put.ts [MiB] [repetitions] [put|patch…]     (default: 1024 3 put patch)
 *
 * Needs curl. `bun run bench` measures the same next to Distribution; this one is quicker.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryClient, withQuery } from "./lib/client";
import { outputOf } from "./lib/command";
import { CLOCK_TICKS, peakKib, resetPeak, rssKib } from "./lib/proc";
import { type BenchServer, startBunServer } from "./lib/servers";

type Mode = "put" | "patch";

const [mib = 1024, repetitions = 3] = process.argv.slice(2, 4).map(Number);
const picked = process.argv.slice(4).filter((mode): mode is Mode => /^(put|patch)$/.test(mode));
const modes: Mode[] = picked.length ? picked : ["put", "patch"];

/** User and system CPU time of a process, in seconds. */
async function cpuTimes(pid: number): Promise<{ user: number; system: number }> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text();
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    user: Number(fields[11]) / CLOCK_TICKS,
    system: Number(fields[12]) / CLOCK_TICKS,
  };
}

/** Writes `mark` at the start of the file, so each upload is new content; returns the digest. */
async function remark(path: string, mark: string): Promise<string> {
  const file = await open(path, "r+");
  await file.write(Buffer.from(mark.padEnd(32, " ")), 0, 32, 0);
  await file.close();
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

async function curl(args: string[]): Promise<number> {
  const out = await outputOf(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", ...args]);
  return Number(out);
}

async function upload(client: RegistryClient, mode: Mode, path: string, digest: string) {
  const location = await client.openUpload("bench/profile");
  if (mode === "put") {
    const status = await curl(["-T", path, withQuery(location, "digest", digest)]);
    if (status !== 201) throw new Error(`PUT: ${status}`);
    return;
  }
  const chunked = [
    "-H",
    "Transfer-Encoding: chunked",
    "-H",
    "Content-Type: application/octet-stream",
  ];
  const status = await curl(["-X", "PATCH", ...chunked, "-T", path, location]);
  if (status !== 202) throw new Error(`PATCH: ${status}`);
  const done = await client.fetch(withQuery(location, "digest", digest), { method: "PUT" });
  if (done.status !== 201) throw new Error(`PUT: ${done.status} ${await done.text()}`);
}

/** One table row: what took `seconds` and cost `cpu`, with the server's peak RSS if it was one. */
function row(what: string, seconds: number, cpu: { user: number; system: number }, peak = "") {
  const rate = ((mib * 2 ** 20) / seconds / 1e6).toFixed(0);
  const cells = [what, seconds.toFixed(2), rate, cpu.user.toFixed(2), cpu.system.toFixed(2), peak];
  return `| ${cells.join(" | ")} |`;
}

async function measureUpload(server: BenchServer, mode: Mode, file: string, round: number) {
  const [pid = 0] = server.pids;
  const digest = await remark(file, `${mode}-${round}-${Date.now()}`);
  await outputOf(["sync"]);
  await resetPeak(pid);
  const before = await cpuTimes(pid);
  const started = performance.now();
  await upload(new RegistryClient(server.url), mode, file, digest);
  const seconds = (performance.now() - started) / 1000;
  const after = await cpuTimes(pid);
  const cpu = { user: after.user - before.user, system: after.system - before.system };
  return row(mode, seconds, cpu, ((await peakKib(pid)) / 1024).toFixed(1));
}

/** `dd` of the file to a new file beside the server's data: the kernel's part of an upload. */
async function measureCopy(file: string, round: number) {
  const target = `${file}.copy-${round}`;
  await outputOf(["sync"]);
  const started = performance.now();
  const dd = Bun.spawn(["dd", `if=${file}`, `of=${target}`, "bs=1M", "status=none"]);
  if ((await dd.exited) !== 0) throw new Error("dd failed");
  const seconds = (performance.now() - started) / 1000;
  const usage = dd.resourceUsage();
  const cpu = {
    user: Number(usage?.cpuTime.user) / 1e6,
    system: Number(usage?.cpuTime.system) / 1e6,
  };
  return row("dd bs=1M (no server)", seconds, cpu);
}

const work = await mkdtemp(join(tmpdir(), "r2-registry-blob-put-"));
try {
  const file = join(work, "blob");
  const random = Bun.spawn(["head", "-c", String(mib * 2 ** 20), "/dev/urandom"], {
    stdout: Bun.file(file),
  });
  if ((await random.exited) !== 0) throw new Error("could not write the random blob");
  const server = await startBunServer(work);
  console.log(`idle RSS ${((await rssKib(server.pids[0] ?? 0)) / 1024).toFixed(1)} MiB`);
  console.log("| upload | s | MB/s | user s | system s | peak RSS MiB |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (let round = 0; round < repetitions; round++) {
    for (const mode of modes) console.log(await measureUpload(server, mode, file, round));
    console.log(await measureCopy(file, round));
  }
  await server.stop();
} finally {
  await rm(work, { recursive: true, force: true });
}
