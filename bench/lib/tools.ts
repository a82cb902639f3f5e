/**
 * The programs the bench drives. It installs nothing: a missing one is named with the Debian
 * package that has it, and the run stops.
 */
import { existsSync } from "node:fs";
import { WRANGLER } from "./servers";

const DEBIAN_PACKAGES: Record<string, string> = {
  "docker-registry": "docker-registry",
  skopeo: "skopeo",
  curl: "curl",
  hey: "hey",
  wrk: "wrk",
  tar: "tar",
  head: "coreutils",
  sync: "coreutils",
  getconf: "libc-bin",
};

/** The lines to print for what is missing; empty when everything is there. */
export function missingTools(tools: string[], worker: boolean): string[] {
  const lines: string[] = [];
  for (const tool of new Set(tools)) {
    if (Bun.which(tool)) continue;
    const pkg = DEBIAN_PACKAGES[tool] ?? tool;
    lines.push(`${tool} is missing: install the Debian package with  apt-get install ${pkg}`);
  }
  if (worker && !existsSync(WRANGLER)) {
    lines.push("wrangler is missing from node_modules: run  npm install");
  }
  return lines;
}

/** The tools every run needs, whatever its phases. */
export const BASE_TOOLS = ["docker-registry", "head", "sync", "getconf"];

/** The first line a command prints, or "" when it fails. */
export function firstLine(cmd: string[]): string {
  const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  const text = result.stdout.toString() || result.stderr.toString();
  return text.split("\n")[0]?.trim() ?? "";
}

/** A Debian package's version, or "" when dpkg does not know it. */
export function packageVersion(pkg: string): string {
  const line = firstLine(["dpkg-query", "-W", pkg]);
  return line.startsWith(`${pkg}\t`) ? line.slice(pkg.length + 1) : "";
}
