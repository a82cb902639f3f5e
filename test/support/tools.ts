/**
 * Runs the real clients (skopeo, podman, …) that the end-to-end tests drive.
 *
 * A missing tool fails the test with the Debian package to install, never a skip:
 * `scripts/ensure-test-tools.sh` installs them all.
 */

/** The Debian package that provides each tool the tests use. */
const DEBIAN_PACKAGES: Record<string, string> = {
  skopeo: "skopeo",
  podman: "podman",
  buildah: "buildah",
  umoci: "umoci",
  dockerd: "docker.io",
  docker: "docker.io",
};

export interface RunOptions {
  /** Milliseconds before the process is killed; 60 s unless given. */
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** True when the process was killed for running past its timeout. */
  timedOut: boolean;
}

/** The tool's path; throws naming the Debian package when it is not on `PATH`. */
export function requireTool(name: string): string {
  const path = Bun.which(name);
  if (path) return path;

  const pkg = DEBIAN_PACKAGES[name] ?? name;
  throw new Error(
    `${name} is not on PATH: install the Debian package "${pkg}" ` +
      `(apt-get install ${pkg}, or run scripts/ensure-test-tools.sh as root)`,
  );
}

/** Runs `command` to the end (or its timeout) and returns what it printed and its exit code. */
export async function run(command: string[], options: RunOptions = {}): Promise<RunResult> {
  const [tool, ...args] = command;
  if (!tool) throw new Error("run: empty command");

  const proc = Bun.spawn([requireTool(tool), ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, options.timeoutMs ?? 60_000);

  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { stdout, stderr, exitCode, timedOut };
}

/** Runs `command` and returns its stdout; throws with the command and its stderr if it fails. */
export async function runOk(command: string[], options: RunOptions = {}): Promise<string> {
  const result = await run(command, options);
  if (result.exitCode === 0 && !result.timedOut) return result.stdout;

  const why = result.timedOut ? "timed out" : `exited with ${result.exitCode}`;
  throw new Error(`${command.join(" ")} ${why}\n${result.stderr.trim()}`);
}
