/**
 * Starts the registry under test as a real server process on a free loopback port.
 *
 * `REGISTRY_TARGET` picks what runs: `bun` (default) spawns `bun src/local.ts` with its own
 * data directory; `worker` spawns `wrangler dev`, the Worker in workerd with local R2 persisted
 * to its own directory, served over https (clients such as skopeo try https first, and
 * workerd's plain-HTTP port stalls them). `REGISTRY_URL` points the suite at a server that is
 * already running instead (another registry, for checking the tests themselves); such a server
 * cannot be restarted.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface RegistryServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The data directory, or `null` when the server is not ours. */
  dataDir: string | null;
  /** Stops the process and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Sends a signal to the server process; resolves with its exit code once it exits. */
  signal(name: "SIGTERM" | "SIGINT"): Promise<number | null>;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
}

const ROOT = join(import.meta.dir, "..", "..");
const TARGET = process.env.REGISTRY_TARGET ?? "bun";

/** Whether the servers this module starts run the Worker (in workerd) rather than Bun. */
export const isWorkerTarget = TARGET === "worker";

if (isWorkerTarget) {
  // wrangler serves https with a certificate of its own making.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
}

export async function startRegistry(options: StartOptions = {}): Promise<RegistryServer> {
  const external = process.env.REGISTRY_URL;
  if (external) return externalServer(external.replace(/\/$/, ""));

  const dataDir = await mkdtemp(join(tmpdir(), "r2-registry-test-"));
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), DATA_DIR: dataDir, ...options.env };
  const url = `${isWorkerTarget ? "https" : "http"}://127.0.0.1:${port}`;
  let proc = await spawnServer(env, port, url);

  return {
    url,
    dataDir,
    async restart() {
      await stopProcess(proc);
      proc = await spawnServer(env, port, url);
    },
    async signal(name) {
      proc.kill(name);
      return proc.exited;
    },
    async stop() {
      await stopProcess(proc);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function externalServer(url: string): RegistryServer {
  return {
    url,
    dataDir: null,
    restart: () => Promise.reject(new Error("cannot restart a server given by REGISTRY_URL")),
    signal: () => Promise.reject(new Error("cannot signal a server given by REGISTRY_URL")),
    stop: () => Promise.resolve(),
  };
}

async function spawnServer(env: Record<string, string | undefined>, port: number, url: string) {
  const proc = Bun.spawn(isWorkerTarget ? wranglerCommand(env, port) : bunCommand(), {
    cwd: ROOT,
    env: isWorkerTarget ? { ...env, ...WRANGLER_ENV } : env,
    stdout: process.env.REGISTRY_LOG ? "inherit" : "ignore",
    stderr: process.env.REGISTRY_LOG || !isWorkerTarget ? "inherit" : "ignore",
  });
  await waitUntilReady(`${url}/v2/`, proc);
  return proc;
}

function bunCommand(): string[] {
  return [process.execPath, "src/local.ts"];
}

/** Offline, quiet `wrangler dev`: no metrics, no request to Cloudflare. */
const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_LOG: "warn",
};

function wranglerCommand(env: Record<string, string | undefined>, port: number): string[] {
  const vars = Object.entries(env)
    .filter(([name]) => ["PART_SIZE", "CHUNK_MAX_LENGTH"].includes(name))
    .flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  return [
    join(ROOT, "node_modules", ".bin", "wrangler"),
    "dev",
    "--ip=127.0.0.1",
    `--port=${port}`,
    "--local-protocol=https",
    `--persist-to=${env.DATA_DIR}`,
    "--show-interactive-dev-session=false",
    ...vars,
  ];
}

async function waitUntilReady(url: string, proc: Subprocess) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`registry exited with code ${proc.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  proc.kill();
  throw new Error(`registry did not answer ${url} within 30 s`);
}

async function stopProcess(proc: Subprocess) {
  if (proc.exitCode !== null) return;
  proc.kill("SIGTERM");
  const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  await proc.exited;
  clearTimeout(killer);
}

async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port;
  await server.stop(true);
  if (port === undefined) throw new Error("no free port");
  return port;
}
