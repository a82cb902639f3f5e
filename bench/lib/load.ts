/**
 * HTTP load with hey or wrk: a number of connections for a number of seconds, then requests
 * per second, the 50th and 99th percentile latencies, and the failed requests (non-2xx
 * answers and socket errors). wrk cycles through several paths (pages of a listing); it cannot
 * send HEAD (it would wait for the body), which is what hey is for.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { outputOf } from "./command";

export interface LoadOptions {
  method: "GET" | "HEAD";
  /** Absolute URLs; wrk cycles through them, hey takes one. */
  urls: string[];
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

export async function runHey(options: LoadOptions): Promise<LoadResult> {
  const [url, ...rest] = options.urls;
  if (!url || rest.length) throw new Error("hey takes exactly one URL");
  const headers = Object.entries(options.headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const cmd = ["hey", "-z", `${options.seconds}s`, "-c", String(options.connections)];
  const out = await outputOf([...cmd, "-m", options.method, ...headers, url]);
  return parseHey(out);
}

function parseHey(out: string): LoadResult {
  const number = (pattern: RegExp) => Number(pattern.exec(out)?.[1] ?? Number.NaN);
  let requests = 0;
  let failures = 0;
  for (const [, code, count] of out.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)) {
    requests += Number(count);
    if (!code?.startsWith("2")) failures += Number(count);
  }
  const errors = out.split("Error distribution:")[1] ?? "";
  for (const [, count] of errors.matchAll(/\[(\d+)\]/g)) failures += Number(count);
  return {
    requests,
    perSecond: number(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: number(/50% in ([\d.]+) secs/) * 1000,
    p99Ms: number(/99% in ([\d.]+) secs/) * 1000,
    failures,
  };
}

/** wrk with `threads` ≤ 2 (this is for small machines) and a script cycling through paths. */
export async function runWrk(options: LoadOptions, scratch: string): Promise<LoadResult> {
  if (options.method !== "GET") throw new Error("wrk waits for a body after HEAD; use hey");
  const [first] = options.urls;
  if (!first) throw new Error("no URL");
  const script = join(scratch, "paths.lua");
  await writeFile(script, cyclingScript(options.urls.map((url) => pathOf(url))));
  const headers = Object.entries(options.headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const threads = String(Math.min(2, options.connections));
  const cmd = ["wrk", "-t", threads, "-c", String(options.connections), "--latency"];
  const timing = ["-d", `${options.seconds}s`, "--timeout", "30s", "-s", script];
  return parseWrk(await outputOf([...cmd, ...timing, ...headers, first]));
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

function cyclingScript(paths: string[]): string {
  return [
    `local paths = { ${paths.map((path) => JSON.stringify(path)).join(", ")} }`,
    "local i = 0",
    "request = function()",
    "  i = i % #paths + 1",
    '  return wrk.format("GET", paths[i])',
    "end",
    "",
  ].join("\n");
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function parseWrk(out: string): LoadResult {
  const latency = (percent: string) => {
    const match = new RegExp(`^\\s+${percent}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(out);
    return match ? Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN) : Number.NaN;
  };
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = (sockets?.slice(1) ?? []).reduce((sum, n) => sum + Number(n), 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN),
    perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: latency("50"),
    p99Ms: latency("99"),
    failures: non2xx + socketErrors,
  };
}
