/** The command line of `bun run bench`: what to run, how long, and at what sizes. */

export type Mode = "local" | "worker";

export interface Sizes {
  /** Bytes of the big image's layer and of the raw blobs. */
  bigBytes: number;
  /** Bytes of each PATCH of the chunked upload. */
  chunkBytes: number;
  smallImages: number;
  tags: number;
  repositories: number;
}

export interface BenchOptions {
  mode: Mode;
  rounds: number;
  /** Seconds of each timed load measurement. */
  duration: number;
  /** Seconds of the untimed burst before each load measurement. */
  warmup: number;
  /** Phase ids or numbers picked with `--phases`; empty means all of them. */
  phases: string[];
  quick: boolean;
  sizes: Sizes;
}

const MiB = 2 ** 20;
const FULL: Sizes = {
  bigBytes: 1024 * MiB,
  chunkBytes: 10 * MiB,
  smallImages: 50,
  tags: 10_000,
  repositories: 2_000,
};
const QUICK: Sizes = {
  ...FULL,
  bigBytes: 64 * MiB,
  smallImages: 10,
  tags: 1_000,
  repositories: 200,
};

export const USAGE = `bun run bench [options] > table.md

  --mode local|worker   ours is the Bun server (local, default) or the Worker in wrangler dev
  --rounds N            rounds over all phases, alternating which server goes first (default 4,
                        an even number, so each goes first equally often)
  --duration S          seconds of each load measurement (default 20)
  --phases a,b,…        a subset, by number or id: 1 push, 2 pull, 3 blob-put, 4 blob-get,
                        5 chunked, 6 small-push, 7 manifest-get, 8 manifest-head, 9 tags,
                        10 catalog
  --quick               a smoke run: 64 MiB instead of 1 GiB, 5 s loads, 1 round, fewer
                        small images, tags and repositories
`;

/** Thrown for `--help`: its message is the usage, and it is no error. */
export class HelpRequested extends Error {}

/** Parses `argv` (without the runtime and script); throws a message with the usage on error. */
export function parseOptions(argv: string[]): BenchOptions {
  const flags = readFlags(argv);
  const quick = flags.has("quick");
  const mode = flags.get("mode") ?? "local";
  if (mode !== "local" && mode !== "worker") throw new Error(`--mode: local or worker\n${USAGE}`);
  // hey and wrk take whole seconds.
  const duration = Math.ceil(positive(flags, "duration", quick ? 5 : 20));

  return {
    mode,
    rounds: positive(flags, "rounds", quick ? 1 : 4),
    duration,
    warmup: duration >= 10 ? 2 : 1,
    phases: (flags.get("phases") ?? "").split(",").filter(Boolean),
    quick,
    sizes: quick ? QUICK : FULL,
  };
}

const BOOLEAN_FLAGS = new Set(["quick", "help"]);
const VALUE_FLAGS = new Set(["mode", "rounds", "duration", "phases"]);

function readFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const [name = "", inline] = (argv[i] ?? "").replace(/^--/, "").split("=", 2);
    if (BOOLEAN_FLAGS.has(name)) flags.set(name, "true");
    else if (VALUE_FLAGS.has(name)) flags.set(name, inline ?? argv[++i] ?? "");
    else throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
  }
  if (flags.has("help")) throw new HelpRequested(USAGE);
  return flags;
}

function positive(flags: Map<string, string>, name: string, fallback: number): number {
  const text = flags.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`--${name}: a positive number, not ${text}\n${USAGE}`);
  return value;
}
