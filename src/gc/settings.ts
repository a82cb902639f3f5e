/**
 * Garbage collection's settings from the environment, the same names for the Bun server, the
 * `gc` command and the Worker:
 *
 *   GC_POLICY            `all` (default: untagged manifests are kept) or `untagged`
 *   GC_GRACE_SECONDS     objects younger than this are never deleted (default 3600)
 *   UPLOAD_TTL_SECONDS   upload sessions idle longer than this are aborted (default 86400)
 *   GC_INTERVAL_HOURS    on Workers, how often the Cron Trigger starts a collection (default 24)
 *   GC_STEP_OPERATIONS   on Workers, storage operations per step (default 900)
 */
import type { Budget, CollectionOptions } from "./collector";
import type { Policy } from "./repository-scan";

export interface GcSettings {
  defaults: Required<Pick<CollectionOptions, "policy" | "graceMs" | "uploadTtlMs">>;
  intervalMs: number;
  step: Budget;
}

type Env = Record<string, string | undefined>;

export function gcSettings(env: Env): GcSettings {
  return {
    defaults: {
      policy: policyOf(env.GC_POLICY),
      graceMs: seconds(env, "GC_GRACE_SECONDS", 3600) * 1000,
      uploadTtlMs: seconds(env, "UPLOAD_TTL_SECONDS", 86_400) * 1000,
    },
    intervalMs: seconds(env, "GC_INTERVAL_HOURS", 24) * 3_600_000,
    step: { operations: seconds(env, "GC_STEP_OPERATIONS", 900), milliseconds: 20_000 },
  };
}

export function policyOf(value: string | undefined): Policy {
  if (value === undefined || value === "" || value === "all") return "all";
  if (value === "untagged") return "untagged";
  throw new Error(`unknown garbage collection policy ${JSON.stringify(value)} (all, untagged)`);
}

function seconds(env: Env, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new Error(`${name} must be a number ≥ 0`);
  return number;
}
