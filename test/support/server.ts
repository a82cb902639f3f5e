/**
 * Starts the registry under test as a real server process on a free loopback port.
 *
 * `REGISTRY_TARGET` picks what runs: `bun` (default) spawns `bun src/local.ts` with its own
 * data directory; `worker` spawns `wrangler dev`, the Worker in workerd with local R2 persisted
 * to its own directory, served over https (clients such as skopeo try https first, and
 * workerd's plain-HTTP port stalls them). `REGISTRY_URL` points the suite at a server that is
 * already running instead (another registry, for checking the tests themselves); such a server
 * cannot be restarted.
 *
 * `authConfig` turns authentication on: the Bun server reads it from a file named by
 * `AUTH_CONFIG`, the Worker from the `AUTH_CONFIG` variable. Without it the Worker is started with
 * `OPEN_REGISTRY=true`, so that both targets are open alike.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
  /** The authentication configuration document (JSON). */
  authConfig?: string;
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
  const auth = await authEnv(dataDir, options.authConfig);
  const env = { ...process.env, PORT: String(port), DATA_DIR: dataDir, ...auth, ...options.env };
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
      await rm(`${dataDir}.auth.json`, { force: true });
    },
  };
}

/** The variables that hand `config` to the server under test, or keep it open without one. */
async function authEnv(dataDir: string, config?: string): Promise<Record<string, string>> {
  if (config === undefined) return isWorkerTarget ? { OPEN_REGISTRY: "true" } : {};
  if (isWorkerTarget) return { AUTH_CONFIG: config };
  const path = `${dataDir}.auth.json`;
  await writeFile(path, config);
  return { AUTH_CONFIG: path };
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

/** The variables handed to the Worker (wrangler passes none of its own environment). */
const WORKER_VARS = [
  "PART_SIZE",
  "CHUNK_MAX_LENGTH",
  "AUTH_CONFIG",
  "OPEN_REGISTRY",
  "GC_POLICY",
  "GC_GRACE_SECONDS",
  "UPLOAD_TTL_SECONDS",
  "GC_INTERVAL_HOURS",
  "GC_STEP_OPERATIONS",
];

function wranglerCommand(env: Record<string, string | undefined>, port: number): string[] {
  const vars = Object.entries(env)
    .filter(([name]) => WORKER_VARS.includes(name))
    .flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  return [
    join(ROOT, "node_modules", ".bin", "wrangler"),
    "dev",
    "--ip=127.0.0.1",
    `--port=${port}`,
    "--local-protocol=https",
    `--persist-to=${env.DATA_DIR}`,
    "--show-interactive-dev-session=false",
    // `GET /__scheduled` runs the Cron Trigger, for the garbage collection tests.
    "--test-scheduled",
    ...vars,
  ];
}

async function waitUntilReady(url: string, proc: Subprocess) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`registry exited with code ${proc.exitCode}`);
    try {
      const res = await fetch(url);
      // 401: the registry is up, with authentication on.
      if (res.status === 200 || res.status === 401) return;
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
