/** What /proc tells about a process: resident memory, CPU time, children (Linux only). */
import { readdir, readFile, writeFile } from "node:fs/promises";

/** Clock ticks per second, the unit of the CPU times in `/proc/<pid>/stat`. */
export const CLOCK_TICKS = clockTicks();

function clockTicks(): number {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
  return Number(out) || 100;
}

async function statusField(pid: number, name: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
}

/** Resident memory now, in KiB (0 once the process is gone). */
export function rssKib(pid: number): Promise<number> {
  return statusField(pid, "VmRSS");
}

/** The resident high-water mark, in KiB: since start, or since `resetPeak`. */
export function peakKib(pid: number): Promise<number> {
  return statusField(pid, "VmHWM");
}

/** Resets the high-water mark to the current RSS (`clear_refs` 5); false where not allowed. */
export function resetPeak(pid: number): Promise<boolean> {
  return writeFile(`/proc/${pid}/clear_refs`, "5").then(
    () => true,
    () => false,
  );
}

/** The fields of `/proc/<pid>/stat` after the command name, which may hold spaces. */
async function statFields(pid: number): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** User plus system CPU time of all the process's threads, in clock ticks (children excluded). */
export async function cpuTicks(pid: number): Promise<number> {
  const fields = await statFields(pid);
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}

/** The command name (`comm`) of a process, or "" once it is gone. */
export async function commandName(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
}

/** Every process below `pid` in the process tree. */
export async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number((await statFields(Number(entry)))[1]);
    if (parent) parents.set(Number(entry), parent);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const [child, parent] of parents) {
      if (parent !== next) continue;
      queue.push(child);
      found.push(child);
    }
  }
  return found;
}

const PF_KTHREAD = 0x00200000;

/**
 * CPU time of every user process now (kernel threads left out), with the time of the children
 * each has waited for, in clock ticks, by pid.
 */
export async function userProcessTicks(): Promise<Map<number, number>> {
  const ticks = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = await statFields(Number(entry));
    if (fields.length < 15 || Number(fields[6]) & PF_KTHREAD) continue;
    const times = [11, 12, 13, 14].map((i) => Number(fields[i] ?? 0));
    ticks.set(
      Number(entry),
      times.reduce((a, b) => a + b, 0),
    );
  }
  return ticks;
}
