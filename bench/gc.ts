/**
 * Garbage collection over a large registry: its time, peak memory and storage operations.
 *
 *   bun bench/gc.ts [manifests…]        (default: 10000)
 *
 * Writes a registry into a fresh data directory through the storage layout (100 repositories;
 * per manifest a config, a layer of its own and two of 50 shared base layers; every other
 * manifest tagged; one in ten manifests deleted, so its blobs are garbage), then:
 * - runs `bun run gc` on it as a separate process (one dry run, then the real run) under
 *   /usr/bin/time, for wall time, CPU and peak RSS;
 * - runs a dry run again in steps of the Worker's default budget (900 operations), to count the
 *   steps a Worker would take, the largest state (`gc/run`) it carries between them, and the
 *   JS heap that state takes once parsed (what counts against a Worker's 128 MB).
 * Prints a markdown table.
 */
import { heapStats } from "bun:jsc";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector } from "../src/gc/collector";
import type { Report } from "../src/gc/report";
import { typescriptHashEngine } from "../src/hash/typescript-engine";
import { makeDigest } from "../src/registry/digest";
import { layout } from "../src/registry/layout";
import { FSR2Bucket } from "../src/storage/r2-fs";

const REPOSITORIES = 100;
const BASES = 50;
const ROOT = join(import.meta.dir, "..");
const counts = process.argv.slice(2).map(Number);

function digestOf(bytes: Uint8Array) {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(bytes);
  return makeDigest("sha256", hasher.digest("hex"));
}

/** Writes `count` manifests' worth of objects; returns how many blobs are garbage. */
async function seed(storage: FSR2Bucket, count: number): Promise<number> {
  const encoder = new TextEncoder();
  const bases = Array.from({ length: BASES }, (_, i) => encoder.encode(`base layer ${i}`));
  for (const bytes of bases) await storage.put(layout.blob(digestOf(bytes)), bytes);
  let garbage = 0;
  const perRepository = Math.ceil(count / REPOSITORIES);
  const jobs: Promise<unknown>[] = [];
  for (let n = 0; n < count; n++) {
    const name = `bench/repo-${n % REPOSITORIES}`;
    const config = encoder.encode(JSON.stringify({ n, architecture: "amd64", os: "linux" }));
    const own = encoder.encode(`layer of manifest ${n}`);
    const used = [bases[n % BASES], bases[(n * 7 + 3) % BASES], own] as Uint8Array[];
    const descriptors = [config, ...used].map((bytes, i) => ({
      mediaType:
        i === 0
          ? "application/vnd.oci.image.config.v1+json"
          : "application/vnd.oci.image.layer.v1.tar",
      digest: digestOf(bytes).value,
      size: bytes.length,
    }));
    const manifest = encoder.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: descriptors[0],
        layers: descriptors.slice(1),
      }),
    );
    const deleted = n % 10 === 9;
    if (deleted) garbage += 2; // its config and own layer; the bases stay in use
    jobs.push(
      (async () => {
        for (const bytes of [config, own]) await storage.put(layout.blob(digestOf(bytes)), bytes);
        for (const bytes of [config, ...used]) {
          const size = String(bytes.length);
          await storage.put(layout.blobLink(name, digestOf(bytes)), null, {
            customMetadata: { size },
          });
        }
        if (deleted) return;
        const digest = digestOf(manifest);
        const httpMetadata = { contentType: "application/vnd.oci.image.manifest.v1+json" };
        await storage.put(layout.manifest(name, digest), manifest, { httpMetadata });
        if (Math.floor(n / REPOSITORIES) % 2 === 0) {
          await storage.put(layout.tag(name, `v${Math.floor(n / REPOSITORIES)}`), manifest, {
            httpMetadata,
            customMetadata: { digest: digest.value },
          });
        }
      })(),
    );
    if (jobs.length >= 64) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
  for (let r = 0; r < REPOSITORIES && r * perRepository < count; r++) {
    await storage.put(layout.catalogEntry(`bench/repo-${r}`), null);
  }
  return garbage;
}

interface Timed {
  seconds: number;
  cpu: number;
  peakMib: number;
  report: Report;
}

async function gcCommand(dataDir: string, dryRun: boolean): Promise<Timed> {
  const args = [
    process.execPath,
    ...(process.env.GC_BUN_FLAGS ? process.env.GC_BUN_FLAGS.split(" ") : []),
    "scripts/gc.ts",
    "--grace",
    "0",
    "--json",
  ];
  if (dryRun) args.push("--dry-run");
  const proc = Bun.spawn(["/usr/bin/time", "-f", "TIME %e %U %S %M", ...args], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`gc failed: ${stderr}`);
  const line = stderr.split("\n").find((l) => l.startsWith("TIME ")) ?? "";
  const [, wall, user, system, kib] = line.split(" ").map(Number);
  return {
    seconds: wall ?? 0,
    cpu: (user ?? 0) + (system ?? 0),
    peakMib: (kib ?? 0) / 1024,
    report: JSON.parse(stdout) as Report,
  };
}

/**
 * A dry run in Worker-sized steps: the steps it takes, the largest state between them, and the
 * JS heap a step needs for that state: the live heap with the state parsed, less the heap before
 * the run. Each step gets a fresh storage driver, so no driver cache is counted.
 */
async function inSteps(dataDir: string) {
  const collector = () =>
    new Collector(new FSR2Bucket(dataDir), { hashEngine: typescriptHashEngine });
  Bun.gc(true);
  const baseline = heapStats().heapSize;
  await Bun.sleep(5);
  await collector().start({ graceMs: 0, dryRun: true });
  let steps = 0;
  let largest = 0;
  let heap = 0;
  for (;;) {
    const phase = await collector().step({ operations: 900, milliseconds: 30_000 });
    steps++;
    const loaded = await new FSR2Bucket(dataDir).get(layout.gcRun);
    const state = loaded ? await loaded.json() : null;
    largest = Math.max(largest, loaded?.size ?? 0);
    Bun.gc(true);
    heap = Math.max(heap, heapStats().heapSize - baseline);
    if (state === undefined) throw new Error("unreachable");
    if (phase === "done") break;
  }
  return { steps, largestStateMib: largest / 2 ** 20, heapMib: heap / 2 ** 20 };
}

async function measure(count: number): Promise<string[]> {
  const dataDir = await mkdtemp(join(tmpdir(), "r2-registry-gc-bench-"));
  try {
    const started = performance.now();
    const garbage = await seed(new FSR2Bucket(dataDir), count);
    const seeded = (performance.now() - started) / 1000;
    console.error(`seeded ${count} manifests in ${seeded.toFixed(1)} s`);
    await Bun.sleep(5);
    const dry = await gcCommand(dataDir, true);
    const stepped = await inSteps(dataDir);
    const real = await gcCommand(dataDir, false);
    if (real.report.removedBlobs.count !== garbage) {
      throw new Error(`removed ${real.report.removedBlobs.count} blobs, expected ${garbage}`);
    }
    const row = (what: string, t: Timed) =>
      `| ${count} | ${what} | ${t.seconds.toFixed(2)} | ${t.cpu.toFixed(2)} | ${t.peakMib.toFixed(0)} | ${t.report.operations} | ${t.report.removedBlobs.count} |`;
    return [
      row("dry run", dry),
      row("collection", real),
      `| ${count} | in Worker-sized steps (900 operations) | ${stepped.steps} steps | | state ≤ ${stepped.largestStateMib.toFixed(1)} MiB, its heap ≤ ${stepped.heapMib.toFixed(0)} MiB | | |`,
    ];
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const rows: string[] = [];
for (const count of counts.length ? counts : [10_000]) rows.push(...(await measure(count)));
console.log(
  [
    "| manifests | run | wall s | CPU s | peak RSS MiB | storage operations | blobs removed |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
