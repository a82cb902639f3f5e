/** What the header of the table says about the machine and the software measured. */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import type { Mode } from "./options";
import { WRANGLER } from "./servers";
import { firstLine, packageVersion } from "./tools";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  versions: string[];
}

export function describeMachine(mode: Mode): Machine {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const memKib = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown",
    cores: cpuinfo.match(/^processor\s*:/gm)?.length ?? cpus().length,
    memoryGiB: memKib / 2 ** 20,
    kernel: firstLine(["uname", "-r"]),
    versions: versions(mode),
  };
}

function versions(mode: Mode): string[] {
  const distribution = /(\d[\w.+~-]*)\s*$/.exec(firstLine(["docker-registry", "--version"]));
  const list = [`Bun ${Bun.version}`, `Distribution ${distribution?.[1] ?? "unknown"}`];
  if (mode === "worker")
    list.push(`wrangler ${firstLine([WRANGLER, "--version"]).replace(/^\D*/, "")}`);
  for (const tool of ["skopeo", "curl", "hey", "wrk"]) {
    list.push(`${tool} ${packageVersion(tool) || "(not from a Debian package)"}`);
  }
  return list;
}
