/** The markdown printed on stdout: a short header, one table, and the notes. */
import type { Machine } from "./machine";
import type { BenchOptions } from "./options";
import type { Disturbance, Results, Series } from "./results";
import { advantage, type Summary, summarize } from "./stats";

export interface ReportInput {
  options: BenchOptions;
  machine: Machine;
  results: Results;
  oursLabel: string;
  started: Date;
  minutes: number;
}

export function renderReport(input: ReportInput): string {
  return [...header(input), "", ...table(input), "", ...notes(input), ""].join("\n");
}

function header({ options, machine, oursLabel, started, minutes }: ReportInput): string[] {
  const worker = options.mode === "worker";
  const lines = [
    `## r2-registry, ${oursLabel}, next to CNCF Distribution`,
    "",
    `- ${started.toISOString().replace(/\.\d+Z$/, "Z")}, ${minutes.toFixed(1)} min` +
      ` on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(0)} GiB RAM,` +
      ` Linux ${machine.kernel}`,
    `- ${machine.versions.join(", ")}`,
    `- ${rounds(options)};` +
      " each phase runs on both servers in turn, the first one alternating by round." +
      " Cells: median (min–max) over rounds.",
    "- **ratio > 1 means ours is better**: ours/Distribution for rates," +
      " Distribution/ours for times, latencies, memory and CPU.",
    "- peak RSS: the server's resident memory within the phase (VmHWM reset when the phase" +
      " starts, and VmRSS sampled every 100 ms). CPU: utime + stime of the server's process" +
      " over the phase, children excluded (neither ours nor Distribution has any).",
  ];
  if (worker) {
    lines.push(
      "- ours is the Worker in workerd (`wrangler dev`, https, local R2). **Local R2 is an" +
        " emulator on local disk: read the Worker's figures as relative only.** Its memory is" +
        " the sum of its two workerd processes (sampled), its CPU theirs. wrangler's own Node" +
        " process is not counted in them but has a row of its own: it relays every line the" +
        " Worker logs (one access-log line a request), and takes CPU from the Worker under load.",
    );
  }
  return lines;
}

function rounds(options: BenchOptions): string {
  const plural = options.rounds > 1 ? "s" : "";
  return `${options.rounds} round${plural}${options.quick ? " (--quick)" : ""}`;
}

function table({ options, results, oursLabel }: ReportInput): string[] {
  const lines = [
    `| phase | figure | ${oursLabel} | Distribution | ratio (>1: ours better) |`,
    "| --- | --- | ---: | ---: | ---: |",
  ];
  let phase = "";
  for (const series of results.series) {
    const title = series.phase === phase ? "" : series.phase;
    phase = series.phase;
    lines.push(`| ${title} | ${series.figure}, ${series.unit} | ${cells(series, options)} |`);
  }
  return lines;
}

function cells(series: Series, options: BenchOptions): string {
  const ours = summarize(series.values.ours);
  const theirs = summarize(series.values.distribution);
  const ratio = advantage(ours.median, theirs.median, series.better);
  return [cell(ours, options.rounds), cell(theirs, options.rounds), format(ratio)].join(" | ");
}

function cell(summary: Summary, rounds: number): string {
  if (Number.isNaN(summary.median)) return "–";
  if (rounds === 1 || summary.min === summary.max) return format(summary.median);
  return `${format(summary.median)} (${format(summary.min)}–${format(summary.max)})`;
}

/** Three significant digits, no exponent. */
export function format(value: number): string {
  if (!Number.isFinite(value)) return "–";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toFixed(digits);
}

function notes({ results, options }: ReportInput): string[] {
  const fixed = [
    "skopeo's blob-info cache (/var/lib/containers/cache as root) is deleted before every push," +
      " and each round pushes new content to new repositories, so no push becomes a mount and" +
      " no server can skip a blob it already holds.",
    `load phases: one untimed warm-up burst of ${options.warmup} s, then ${options.duration} s` +
      " measured; hey and wrk run on the same machine and take CPU from the server.",
    "Distribution runs with filesystem storage, delete enabled, log level error, access log" +
      " off, no blob-descriptor cache, and `catalog.maxentries: 10000` (2.8.2 refuses n > 1000" +
      " on the catalog by default, so the full catalog could not be asked in one request).",
  ];
  const lines = [...fixed, ...results.notes.sort()].map((note) => `- ${note}`);
  return ["Notes:", "", ...lines, ...disturbances(results)];
}

/** One line per phase during which other programs were busy, naming round, server and cores. */
function disturbances(results: Results): string[] {
  const byPhase = new Map<string, Disturbance[]>();
  for (const disturbance of results.disturbances) {
    byPhase.set(disturbance.phase, [...(byPhase.get(disturbance.phase) ?? []), disturbance]);
  }
  if (!byPhase.size) return ["- no other program used more than 0.1 core during any measurement."];
  const lines = [
    "- other programs on the machine used CPU (cores' worth, on average) during these" +
      " measurements, which may have slowed the server that ran then:",
  ];
  for (const [phase, list] of byPhase) {
    const which = list.map((d) => `round ${d.round} ${d.server} ${format(d.cores)}`);
    lines.push(`  - ${phase}: ${which.join(", ")}`);
  }
  return lines;
}
