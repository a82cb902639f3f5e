/**
 * `bun run bench`: the registry next to CNCF Distribution 2.8 on the same workload, several
 * rounds, one markdown table on stdout (progress on stderr), so `bun run bench > table.md`
 * gives a clean file. `bun run bench --help` lists the options.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lazyFixtures } from "./lib/fixtures";
import { describeMachine } from "./lib/machine";
import { type BenchOptions, HelpRequested, parseOptions } from "./lib/options";
import { renderReport } from "./lib/report";
import { runRounds } from "./lib/runner";
import { noteServerLogs } from "./lib/server-logs";
import { type BenchServer, startBunServer, startDistribution, startWorker } from "./lib/servers";
import { BASE_TOOLS, missingTools } from "./lib/tools";
import { selectPhases } from "./phases";
import type { Phase } from "./phases/types";

const log = (text: string) => console.error(text);

function setUp(): { options: BenchOptions; phases: Phase[] } {
  try {
    const options = parseOptions(process.argv.slice(2));
    return { options, phases: selectPhases(options.phases) };
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    process.exit(error instanceof HelpRequested ? 0 : 2);
  }
}

const { options, phases } = setUp();
const missing = missingTools(
  [...BASE_TOOLS, ...phases.flatMap((phase) => phase.tools)],
  options.mode === "worker",
);
if (missing.length) {
  for (const line of missing) log(line);
  process.exit(1);
}

const started = new Date();
const machine = describeMachine(options.mode);
const work = await mkdtemp(join(tmpdir(), "r2-registry-bench-"));
const servers: BenchServer[] = [];
const stopAll = async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  await rm(work, { recursive: true, force: true });
};
process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));

try {
  log(`scratch directory ${work}`);
  const ours = await (options.mode === "worker" ? startWorker(work) : startBunServer(work));
  servers.push(ours);
  const distribution = await startDistribution(work);
  servers.push(distribution);
  for (const server of servers)
    log(`${server.label}: ${server.url}, pids ${server.pids.join(" ")}`);
  const fixtures = lazyFixtures(work, options.sizes.bigBytes, log);
  const results = await runRounds({
    options,
    work,
    fixtures,
    servers: [ours, distribution],
    phases,
    log,
  });
  await noteServerLogs(results, [ours, distribution], log);
  const minutes = (Date.now() - started.getTime()) / 60_000;
  await stopAll();
  process.stdout.write(
    renderReport({ options, machine, results, oursLabel: ours.label, started, minutes }),
  );
} catch (error) {
  await stopAll();
  throw error;
}
