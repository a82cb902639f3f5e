/** Building figures, and timing what a phase measures. */
import type { Figure } from "./types";

/** Seconds `task` takes, by the wall clock. */
export async function timed(task: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await task();
  return (performance.now() - started) / 1000;
}

/** Throughput in MB/s (10^6 bytes a second). */
export function throughput(bytes: number, seconds: number): Figure {
  return { name: "throughput", unit: "MB/s", better: "higher", value: bytes / seconds / 1e6 };
}

/** A duration given in seconds, shown in milliseconds. */
export function milliseconds(name: string, seconds: number): Figure {
  return { name, unit: "ms", better: "lower", value: seconds * 1000 };
}

/** Requests per second and latency percentiles of a load. */
export function loadFigures(load: { perSecond: number; p50Ms: number; p99Ms: number }): Figure[] {
  return [
    { name: "requests", unit: "req/s", better: "higher", value: load.perSecond },
    { name: "latency p50", unit: "ms", better: "lower", value: load.p50Ms },
    { name: "latency p99", unit: "ms", better: "lower", value: load.p99Ms },
  ];
}
