/** Every phase, in the order a round runs them, and the choice of a subset with `--phases`. */
import { blobGet, blobPut, chunkedUpload } from "./blobs";
import { pull, push, smallPush } from "./images";
import { catalogFull, catalogPaged, tagsFull, tagsPaged } from "./listings";
import { manifestGet, manifestHead } from "./manifests";
import type { Phase } from "./types";

export const PHASES: Phase[] = [
  push,
  pull,
  blobPut,
  blobGet,
  chunkedUpload,
  smallPush,
  manifestGet,
  manifestHead,
  tagsFull,
  tagsPaged,
  catalogPaged,
  catalogFull,
];

/** The phases `picks` names (by id, group or number), or all of them; throws on an unknown name. */
export function selectPhases(picks: string[]): Phase[] {
  if (!picks.length) return PHASES;
  for (const pick of picks) {
    if (!PHASES.some((phase) => matches(phase, pick))) {
      const known = PHASES.map((phase) => `${phase.number} ${phase.id}`).join(", ");
      throw new Error(`--phases: no phase ${pick} (known: ${known})`);
    }
  }
  return PHASES.filter((phase) => picks.some((pick) => matches(phase, pick)));
}

function matches(phase: Phase, pick: string): boolean {
  return [phase.id, phase.group, String(phase.number)].includes(pick);
}
