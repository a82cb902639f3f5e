/**
 * A private Docker engine for the end-to-end tests: `dockerd` from Debian's docker.io, started
 * as root on a socket, data root and exec root of its own, with no iptables and no bridge (it
 * only pushes and pulls), and the vfs storage driver, so it needs no mounts of its own making.
 * Each call of `docker` names the client configuration directory that holds its logins.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { requireTool, run, runOk } from "./tools";

export interface Dockerd {
  /** Runs the docker client against this engine with logins kept in `config`. */
  docker(config: string, ...args: string[]): Promise<string>;
  /** Like `docker`, but returns the result whatever the exit code. */
  tryDocker(config: string, ...args: string[]): ReturnType<typeof run>;
  /** A fresh, empty client configuration directory. */
  newConfig(): Promise<string>;
  stop(): Promise<void>;
}

const TIMEOUT = 120_000;

export async function startDockerd(): Promise<Dockerd> {
  // Short: the socket paths under it must stay within the kernel's 108 bytes.
  const root = await mkdtemp("/tmp/dockerd-");
  const host = `unix://${join(root, "docker.sock")}`;
  const proc = Bun.spawn(
    [
      requireTool("dockerd"),
      "--iptables=false",
      "--ip6tables=false",
      "--bridge=none",
      "--storage-driver=vfs",
      `--data-root=${join(root, "data")}`,
      `--exec-root=${join(root, "exec")}`,
      `--pidfile=${join(root, "docker.pid")}`,
      `--host=${host}`,
    ],
    { stdout: "ignore", stderr: process.env.REGISTRY_LOG ? "inherit" : "ignore" },
  );
  const env = (config: string) => ({ DOCKER_HOST: host, DOCKER_CONFIG: config });
  const tryDocker = (config: string, ...args: string[]) =>
    run(["docker", ...args], { env: env(config), timeoutMs: TIMEOUT });
  let configs = 0;
  const newConfig = async () => {
    const config = join(root, `config-${++configs}`);
    await mkdir(config);
    return config;
  };

  await waitForEngine(await newConfig(), tryDocker, proc);
  return {
    docker: (config, ...args) =>
      runOk(["docker", ...args], { env: env(config), timeoutMs: TIMEOUT }),
    tryDocker,
    newConfig,
    async stop() {
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
      await proc.exited;
      clearTimeout(killer);
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function waitForEngine(
  config: string,
  tryDocker: Dockerd["tryDocker"],
  proc: { exitCode: number | null; kill(): void },
) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`dockerd exited with code ${proc.exitCode}`);
    if ((await tryDocker(config, "version")).exitCode === 0) return;
    await Bun.sleep(200);
  }
  proc.kill();
  throw new Error("dockerd did not answer within 60 s");
}
