/**
 * Driving garbage collection through its endpoint, on either target. The Bun server runs a
 * started collection to its end by itself; the Worker runs one step after the request, and the
 * rest through its Cron Trigger, which `wrangler dev --test-scheduled` fires on
 * `GET /__scheduled`: the helpers fire it while they wait.
 */
import { expect } from "bun:test";
import type { Report } from "../../src/gc/report";
import { isWorkerTarget } from "./server";

export interface GcStatus {
  started?: boolean;
  running: null | { id: string; phase: string; paused: boolean; dryRun: boolean };
  last: Report | null;
}

/** `POST /v2/_gc` with `params`; expects 202. */
export async function startGc(
  url: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<GcStatus> {
  const query = new URLSearchParams(params).toString();
  const res = await fetch(`${url}/v2/_gc${query ? `?${query}` : ""}`, { method: "POST", headers });
  expect(res.status).toBe(202);
  return (await res.json()) as GcStatus;
}

export async function gcStatus(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v2/_gc`, { headers });
  expect(res.status).toBe(200);
  return (await res.json()) as GcStatus;
}

/** Waits until the collection running is done, or paused; returns the status then. */
export async function settleGc(url: string, headers: Record<string, string> = {}) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await gcStatus(url, headers);
    if (!status.running || status.running.paused) return status;
    if (Date.now() > deadline) throw new Error(`collection stuck: ${JSON.stringify(status)}`);
    if (isWorkerTarget) await fireCron(url);
    else await Bun.sleep(20);
  }
}

/** Fires the Worker's Cron Trigger once (a Worker target only). */
export async function fireCron(url: string): Promise<void> {
  const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
  await res.arrayBuffer();
}

/** Runs a whole collection and returns its report. */
export async function collect(
  url: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Report> {
  // Objects written in the same millisecond as the start would count as young.
  await Bun.sleep(5);
  expect((await startGc(url, params, headers)).started).toBe(true);
  const status = await settleGc(url, headers);
  expect(status.running).toBeNull();
  if (!status.last) throw new Error("no report");
  return status.last;
}

export async function resumeGc(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v2/_gc/resume`, { method: "POST", headers });
  expect(res.status).toBe(202);
  await res.arrayBuffer();
}
