/**
 * Starts the registry under test as a real server process on a free loopback port.
 *
 * `REGISTRY_TARGET` picks what runs: `bun` (default) spawns `bun src/local.ts` with its own
 * data directory. `REGISTRY_URL` points the suite at a server that is already running instead
 * (another registry, for checking the tests themselves); such a server cannot be restarted.
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

export async function startRegistry(options: StartOptions = {}): Promise<RegistryServer> {
  const external = process.env.REGISTRY_URL;
  if (external) return externalServer(external.replace(/\/$/, ""));

  const dataDir = await mkdtemp(join(tmpdir(), "r2-registry-test-"));
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), DATA_DIR: dataDir, ...options.env };
  let proc = await spawnServer(env, port);

  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    async restart() {
      await stopProcess(proc);
      proc = await spawnServer(env, port);
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

async function spawnServer(env: Record<string, string | undefined>, port: number) {
  const proc = Bun.spawn([process.execPath, "src/local.ts"], {
    cwd: ROOT,
    env,
    stdout: process.env.REGISTRY_LOG ? "inherit" : "ignore",
    stderr: "inherit",
  });
  await waitUntilReady(`http://127.0.0.1:${port}/v2/`, proc);
  return proc;
}

async function waitUntilReady(url: string, proc: Subprocess) {
  const deadline = Date.now() + 15_000;
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
  throw new Error(`registry did not answer ${url} within 15 s`);
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
