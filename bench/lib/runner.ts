/**
 * The rounds: every phase on both servers in turn, the first server alternating by round so that
 * neither always runs on a warmer or a more tired machine. Set-up and warm-up are untimed; the
 * page cache is flushed (`sync`) before each timed part, so one server's writes are not flushed
 * on the other's time.
 */
import { RegistryClient } from "./client";
import type { Fixtures } from "./fixtures";
import type { BenchOptions } from "./options";
import { ForeignLoad } from "./foreign-load";
import { format } from "./report";
import { Results } from "./results";
import type { BenchServer, Side } from "./servers";
import { UsageMonitor } from "./usage-monitor";
import type { Figure, Outcome, Phase, PhaseContext, ServerState } from "../phases/types";

export interface RoundsInput {
  options: BenchOptions;
  work: string;
  fixtures: Fixtures;
  servers: [BenchServer, BenchServer];
  phases: Phase[];
  log(text: string): void;
}

export async function runRounds(input: RoundsInput): Promise<Results> {
  const results = new Results();
  const states = new Map<Side, ServerState>();
  for (const server of input.servers) {
    states.set(server.side, { client: new RegistryClient(server.url) });
  }
  for (let round = 1; round <= input.options.rounds; round++) {
    const ctx = context(input, results, states, round);
    const order =
      round % 2 ? input.servers : ([...input.servers].reverse() as typeof input.servers);
    for (const phase of input.phases) await runPhase(ctx, phase, order, results);
  }
  return results;
}

function context(
  input: RoundsInput,
  results: Results,
  states: Map<Side, ServerState>,
  round: number,
): PhaseContext {
  return {
    options: input.options,
    work: input.work,
    round,
    fixtures: input.fixtures,
    state: (server) => states.get(server.side) ?? { client: new RegistryClient(server.url) },
    note: (text) => results.note(text),
    disturbed: (disturbance) => results.disturbed(disturbance),
    log: input.log,
  };
}

async function runPhase(ctx: PhaseContext, phase: Phase, order: BenchServer[], results: Results) {
  const title = phase.title(ctx.options.sizes);
  ctx.log(`[round ${ctx.round}/${ctx.options.rounds}] ${title}`);
  await phase.beforeRound?.(ctx);
  for (const server of order) {
    await phase.prepare?.(ctx, server);
    await sync();
    await phase.warmup?.(ctx, server);

    const foreign = await ForeignLoad.start([...server.pids, ...server.helperPids]);
    const monitor = await UsageMonitor.start(server.pids);
    const helpers = server.helperPids.length ? await UsageMonitor.start(server.helperPids) : null;
    const outcome = await phase.run(ctx, server);
    const usage = await monitor.stop();
    const helperUsage = await helpers?.stop();
    const otherCores = await foreign.stop();
    await phase.cleanup?.(ctx, server);

    const figures = [...outcome.figures, ...usageFigures(outcome, usage)];
    if (helperUsage) figures.push({ ...HELPER_CPU, value: helperUsage.cpuSeconds });
    for (const figure of figures) results.add(title, figure, server.side);
    ctx.log(`  ${server.label}: ${figures.map(describe).join(", ")}`);
    reportFailures(ctx, server, title, outcome);
    reportInterference(ctx, server, title, otherCores);
  }
}

/** wrangler's own Node process: not the Worker, but it shares the machine with it. */
const HELPER_CPU = { name: "wrangler's Node CPU", unit: "s", better: "lower" } as const;

function usageFigures(outcome: Outcome, usage: { peakRssKib: number; cpuSeconds: number }) {
  const figures: Figure[] = [
    { name: "server peak RSS", unit: "MiB", better: "lower", value: usage.peakRssKib / 1024 },
    { name: "server CPU", unit: "s", better: "lower", value: usage.cpuSeconds },
  ];
  if (outcome.requests) {
    const perRequest = (usage.cpuSeconds * 1e6) / outcome.requests;
    figures.push({
      name: "server CPU per request",
      unit: "µs",
      better: "lower",
      value: perRequest,
    });
  }
  return figures;
}

function describe(figure: Figure): string {
  return `${figure.name} ${format(figure.value)} ${figure.unit}`;
}

function reportFailures(ctx: PhaseContext, server: BenchServer, title: string, outcome: Outcome) {
  if (!outcome.failures) return;
  const where = `round ${ctx.round} of ${title}`;
  const text = `${server.label}: ${outcome.failures} failed requests in ${where}`;
  ctx.log(`  WARNING ${text}`);
  ctx.note(text);
}

/** Above this many cores' worth of CPU used by other programs, a figure is noted as disturbed. */
const DISTURBED = 0.1;

function reportInterference(ctx: PhaseContext, server: BenchServer, phase: string, cores: number) {
  if (cores < DISTURBED) return;
  ctx.log(`  (other programs used ${format(cores)} cores meanwhile)`);
  ctx.disturbed({ phase, round: ctx.round, server: server.label, cores });
}

async function sync(): Promise<void> {
  await Bun.spawn(["sync"]).exited;
}
