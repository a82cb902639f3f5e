/**
 * `bun run gc [--dry-run] [--untagged] [--grace <seconds>] [--upload-ttl <seconds>] [--json]`
 * (or `npm run gc -- …`): collects garbage in the local registry's data directory (`DATA_DIR`,
 * default `./data`, or `--data <dir>`), and prints the report: per repository the storage used
 * and what was removed, and the registry's total with shared blobs counted once.
 *
 * Safe while the server runs on the same directory: the collection coordinates with pushes
 * through the bucket itself (see src/gc/collector.ts). When a collection is already running
 * (started by the server's endpoint, or by a command that died), this one carries it on.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadOpenSslHashEngine } from "../src/bun/openssl-hash";
import { Collector } from "../src/gc/collector";
import { formatReport } from "../src/gc/report";
import { gcSettings } from "../src/gc/settings";
import { typescriptHashEngine } from "../src/hash/typescript-engine";
import { FSR2Bucket } from "../src/storage/r2-fs";

const USAGE =
  "usage: bun run gc [--dry-run] [--untagged] [--grace <seconds>] [--upload-ttl <seconds>] [--data <dir>] [--json]";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "dry-run": { type: "boolean", default: false },
      untagged: { type: "boolean", default: false },
      grace: { type: "string" },
      "upload-ttl": { type: "string" },
      data: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const settings = gcSettings({
    ...process.env,
    ...(values.grace !== undefined ? { GC_GRACE_SECONDS: values.grace } : {}),
    ...(values["upload-ttl"] !== undefined ? { UPLOAD_TTL_SECONDS: values["upload-ttl"] } : {}),
  });
  const dataDir = resolve(values.data ?? process.env.DATA_DIR ?? "data");
  const storage = new FSR2Bucket(dataDir);
  const hashEngine = loadOpenSslHashEngine() ?? typescriptHashEngine;
  const collector = new Collector(storage, { hashEngine });

  const started = await collector.start({
    ...settings.defaults,
    dryRun: values["dry-run"],
    ...(values.untagged ? { policy: "untagged" } : {}),
  });
  if (!started) console.error("a collection is already running here: carrying it on");
  // Long steps: the state is saved (for a command that dies) every 20,000 operations.
  const phase = await collector.runToEnd({ operations: 20_000, milliseconds: 120_000 });
  if (phase !== "done") fail(`the collection paused in phase ${phase}`);

  const report = (await collector.status()).last;
  if (!report) fail("the collection left no report");
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

await main().catch((error: Error) => fail(`gc: ${error.message}`));
