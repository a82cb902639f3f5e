/** What a benchmark phase is, and what it is given. */
import type { ListingPage, RegistryClient } from "../lib/client";
import type { Fixtures } from "../lib/fixtures";
import type { Disturbance } from "../lib/results";
import type { BenchOptions, Sizes } from "../lib/options";
import type { BenchServer } from "../lib/servers";

/** One measured figure; `better` says which way the ratio between the servers is taken. */
export interface Figure {
  name: string;
  unit: string;
  better: "higher" | "lower";
  value: number;
}

export interface Outcome {
  figures: Figure[];
  /** Requests made in the timed part, for the CPU time per request. */
  requests?: number;
  /** Failed requests in the timed part (non-2xx answers, socket errors). */
  failures?: number;
}

/** What a phase remembers about one server between phases and rounds. */
export interface ServerState {
  client: RegistryClient;
  /** The big image pushed in a round. */
  pushed?: { round: number; reference: string };
  /** The raw blob uploaded in a round. */
  blob?: { round: number; repository: string; digest: string };
  manifestReady?: boolean;
  tagPages?: { full: ListingPage[]; paged: ListingPage[] };
  catalogPages?: { full: ListingPage[]; paged: ListingPage[] };
}

export interface PhaseContext {
  options: BenchOptions;
  /** A scratch directory, removed after the run. */
  work: string;
  round: number;
  fixtures: Fixtures;
  state(server: BenchServer): ServerState;
  /** Adds a line to the notes under the table (once, however often it is called). */
  note(text: string): void;
  /** Records that other programs used `cores` of CPU during a measurement. */
  disturbed(disturbance: Disturbance): void;
  /** Progress on stderr. */
  log(text: string): void;
}

/**
 * A phase runs, for each round, `beforeRound` once, then for each server in turn `prepare`
 * and `warmup` (untimed) and `run` (timed, with the server's memory and CPU time watched), then
 * `cleanup`.
 */
export interface Phase {
  /** Unique, for `--phases`. */
  id: string;
  /** The numbered item of the brief this phase measures, also accepted by `--phases`. */
  number: number;
  /** The group a phase belongs to, also accepted by `--phases` (`tags` for both tag loads). */
  group: string;
  title(sizes: Sizes): string;
  /** Programs the phase runs. */
  tools: string[];
  beforeRound?(ctx: PhaseContext): Promise<void>;
  prepare?(ctx: PhaseContext, server: BenchServer): Promise<void>;
  warmup?(ctx: PhaseContext, server: BenchServer): Promise<void>;
  run(ctx: PhaseContext, server: BenchServer): Promise<Outcome>;
  cleanup?(ctx: PhaseContext, server: BenchServer): Promise<void>;
}
