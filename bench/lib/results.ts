/** The figures of every phase, round and server, in the order they were first recorded. */
import type { Figure } from "../phases/types";
import type { Side } from "./servers";

export interface Series {
  phase: string;
  figure: string;
  unit: string;
  better: "higher" | "lower";
  values: Record<Side, number[]>;
}

/** A measurement during which other programs used CPU: `cores` is their average use. */
export interface Disturbance {
  phase: string;
  round: number;
  server: string;
  cores: number;
}

export class Results {
  readonly #series = new Map<string, Series>();
  readonly #notes = new Set<string>();
  readonly #disturbances: Disturbance[] = [];

  add(phase: string, figure: Figure, side: Side): void {
    const key = `${phase}\u0000${figure.name}`;
    let series = this.#series.get(key);
    if (!series) {
      const { name, unit, better } = figure;
      series = { phase, figure: name, unit, better, values: { ours: [], distribution: [] } };
      this.#series.set(key, series);
    }
    series.values[side].push(figure.value);
  }

  note(text: string): void {
    this.#notes.add(text);
  }

  disturbed(disturbance: Disturbance): void {
    this.#disturbances.push(disturbance);
  }

  get disturbances(): Disturbance[] {
    return [...this.#disturbances];
  }

  get series(): Series[] {
    return [...this.#series.values()];
  }

  get notes(): string[] {
    return [...this.#notes];
  }
}
