/** Summaries of a figure over rounds. */

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median =
    sorted.length % 2
      ? (sorted[Math.floor(middle)] ?? Number.NaN)
      : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}

/** Ours against theirs, oriented so that above 1 means ours is better. */
export function advantage(ours: number, theirs: number, better: "higher" | "lower"): number {
  return better === "higher" ? ours / theirs : theirs / ours;
}
