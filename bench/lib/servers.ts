/**
 * The servers under test, each started fresh on a loopback port with its own data directory:
 * ours (the Bun server, or the Worker in `wrangler dev` with local R2) and CNCF Distribution.
 * Each one's stdout goes to /dev/null and its stderr to a log file, the same for all.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import { commandName, descendants } from "./proc";
import { bundleWorker } from "./worker-bundle";

export type Side = "ours" | "distribution";

export interface BenchServer {
  side: Side;
  /** How the table and the notes name it. */
  label: string;
  /** Base URL without a trailing slash. */
  url: string;
  /** `host:port`, for `docker://` references. */
  authority: string;
  /** The processes whose memory and CPU time are the server's. */
  pids: number[];
  /** Processes that serve it without being part of it (wrangler's Node and esbuild). */
  helperPids: number[];
  /** Where the server's stderr goes. */
  logFile: string;
  stop(): Promise<void>;
}

const ROOT = join(import.meta.dir, "..", "..");
const READY_MS = 60_000;

/** `bun src/local.ts` with filesystem storage, open (no `AUTH_CONFIG`). */
export async function startBunServer(work: string): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = join(work, "ours-data");
  const env = { ...process.env, PORT: String(port), DATA_DIR: dataDir, AUTH_CONFIG: undefined };
  const proc = spawn([process.execPath, "src/local.ts"], env, join(work, "ours.stderr.log"));
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(url, proc);
  return server(
    "ours",
    "ours (Bun)",
    url,
    proc,
    [proc.pid],
    dataDir,
    join(work, "ours.stderr.log"),
  );
}

/** `docker-registry serve` (Distribution 2.8) with filesystem storage and no access log. */
export async function startDistribution(work: string): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = join(work, "distribution-data");
  const config = join(work, "distribution.yml");
  await mkdir(dataDir, { recursive: true });
  await writeFile(config, distributionConfig(dataDir, port));
  const logFile = join(work, "distribution.stderr.log");
  const proc = spawn(["docker-registry", "serve", config], process.env, logFile);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(url, proc);
  return server("distribution", "Distribution", url, proc, [proc.pid], dataDir, logFile);
}

function distributionConfig(dataDir: string, port: number): string {
  return [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${dataDir}`,
    "  delete:",
    "    enabled: true",
    // 2.8.2 answers n > 1000 on the catalog with 400 unless told otherwise.
    "catalog:",
    "  maxentries: 10000",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "",
  ].join("\n");
}

/**
 * `wrangler dev` on a snapshot of the Worker (see `worker-bundle.ts`), with local R2, over
 * https, open to pushes; the server's processes are its workerd children.
 */
export async function startWorker(work: string): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = join(work, "worker-data");
  const logFile = join(work, "worker.stderr.log");
  const env = { ...process.env, ...WRANGLER_ENV };
  const bundle = await bundleWorker(ROOT, WRANGLER, join(work, "worker-bundle"), env, OPEN);
  const command = wranglerCommand(port, dataDir, bundle.config);
  const proc = spawn(command, env, logFile, dirname(bundle.config));
  const url = `https://127.0.0.1:${port}`;
  await waitUntilReady(url, proc);
  const pids = await workerdPids(proc.pid);
  const helpers = [proc.pid, ...(await descendants(proc.pid))].filter((pid) => !pids.includes(pid));
  return server("ours", "ours (Worker)", url, proc, pids, dataDir, logFile, helpers);
}

/** Offline, quiet `wrangler dev`: no metrics, no request to Cloudflare. */
const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_LOG: "warn",
};

export const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");

/** The Worker takes pushes without credentials only when told so. */
const OPEN = { OPEN_REGISTRY: "true" };

function wranglerCommand(port: number, dataDir: string, config: string): string[] {
  return [
    WRANGLER,
    "dev",
    `--config=${config}`,
    "--no-bundle",
    "--ip=127.0.0.1",
    `--port=${port}`,
    "--local-protocol=https",
    `--persist-to=${dataDir}`,
    "--show-interactive-dev-session=false",
  ];
}

async function workerdPids(wrangler: number): Promise<number[]> {
  for (let i = 0; i < 50; i++) {
    const pids: number[] = [];
    for (const pid of await descendants(wrangler)) {
      if ((await commandName(pid)) === "workerd") pids.push(pid);
    }
    if (pids.length) return pids;
    await Bun.sleep(100);
  }
  throw new Error("no workerd process under wrangler dev");
}

function spawn(
  cmd: string[],
  env: Record<string, string | undefined>,
  logFile: string,
  cwd = ROOT,
) {
  return Bun.spawn(cmd, { cwd, env, stdout: "ignore", stderr: Bun.file(logFile) });
}

function server(
  side: Side,
  label: string,
  url: string,
  proc: Subprocess,
  pids: number[],
  dataDir: string,
  logFile: string,
  helperPids: number[] = [],
): BenchServer {
  const authority = new URL(url).host;
  const names = Promise.all(pids.map(commandName));
  const stop = async () => {
    const before = await names;
    await stopProcess(proc);
    for (const [i, pid] of pids.entries()) await killIfStill(pid, before[i] ?? "");
    await rm(dataDir, { recursive: true, force: true });
  };
  return { side, label, url, authority, pids, helperPids, logFile, stop };
}

async function waitUntilReady(url: string, proc: Subprocess): Promise<void> {
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${url}: server exited with ${proc.exitCode}`);
    const status = await fetch(`${url}/v2/`, { tls: { rejectUnauthorized: false } }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return;
    await Bun.sleep(100);
  }
  proc.kill();
  throw new Error(`${url}: no answer within ${READY_MS / 1000} s`);
}

async function stopProcess(proc: Subprocess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill("SIGTERM");
  const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  await proc.exited;
  clearTimeout(killer);
}

/** A child that outlived its parent (workerd after wrangler) is ended by its own pid. */
async function killIfStill(pid: number, name: string): Promise<void> {
  if (!name || (await commandName(pid)) !== name) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port;
  await probe.stop(true);
  if (port === undefined) throw new Error("no free port");
  return port;
}
