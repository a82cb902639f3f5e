/**
 * The CPU time other programs used while a phase ran. On a shared machine they take CPU from
 * whichever server runs at the time; this says when that happened. Counted: every user process
 * but the bench, its descendants (the servers, their helpers, the clients it runs) and the
 * server's own processes. Kernel threads are left out: they mostly flush the servers' writes.
 * A process that ends during the phase is counted in its parent's waited-for children time,
 * from its start; an approximation good enough to flag a disturbed figure.
 */
import { CLOCK_TICKS, descendants, userProcessTicks } from "./proc";

export class ForeignLoad {
  readonly #known: Set<number>;
  readonly #start: Map<number, number>;
  readonly #at: number;

  private constructor(known: Set<number>, start: Map<number, number>) {
    this.#known = known;
    this.#start = start;
    this.#at = performance.now();
  }

  /** Starts counting; `known` are processes of the experiment that are not the bench's own. */
  static async start(known: number[]): Promise<ForeignLoad> {
    const ours = new Set([process.pid, ...known, ...(await descendants(process.pid))]);
    return new ForeignLoad(ours, await userProcessTicks());
  }

  /** The cores' worth of CPU (CPU seconds a second) other programs used since the start. */
  async stop(): Promise<number> {
    const seconds = (performance.now() - this.#at) / 1000;
    const ours = new Set([...this.#known, ...(await descendants(process.pid))]);
    let ticks = 0;
    for (const [pid, now] of await userProcessTicks()) {
      if (!ours.has(pid)) ticks += Math.max(0, now - (this.#start.get(pid) ?? 0));
    }
    return ticks / CLOCK_TICKS / seconds;
  }
}
