/**
 * Peak resident memory and CPU time of a server's processes over one timed phase.
 *
 * VmHWM is a high-water mark over the whole life of a process, so it is reset (`clear_refs` 5)
 * when a phase starts, and VmRSS is also sampled every 100 ms: the figure is the larger of the
 * two. Several processes (the Worker's workerd pair) are summed per sample; their summed
 * high-water marks would overstate the peak of the sum, so only the samples count for them.
 */
import { CLOCK_TICKS, cpuTicks, peakKib, resetPeak, rssKib } from "./proc";

export interface Usage {
  peakRssKib: number;
  cpuSeconds: number;
}

const SAMPLE_MS = 100;

export class UsageMonitor {
  readonly #pids: number[];
  readonly #startTicks: number;
  #peak = 0;
  #pending: Promise<void> = Promise.resolve();
  readonly #timer: ReturnType<typeof setInterval>;

  private constructor(pids: number[], startTicks: number) {
    this.#pids = pids;
    this.#startTicks = startTicks;
    this.#timer = setInterval(() => this.#queueSample(), SAMPLE_MS);
  }

  static async start(pids: number[]): Promise<UsageMonitor> {
    await Promise.all(pids.map(resetPeak));
    const monitor = new UsageMonitor(pids, await totalTicks(pids));
    monitor.#queueSample();
    return monitor;
  }

  async stop(): Promise<Usage> {
    clearInterval(this.#timer);
    this.#queueSample();
    await this.#pending;
    const ticks = (await totalTicks(this.#pids)) - this.#startTicks;
    const [only] = this.#pids;
    const marked = this.#pids.length === 1 && only !== undefined ? await peakKib(only) : 0;
    return { peakRssKib: Math.max(this.#peak, marked), cpuSeconds: ticks / CLOCK_TICKS };
  }

  #queueSample(): void {
    this.#pending = this.#pending.then(async () => {
      const sizes = await Promise.all(this.#pids.map(rssKib));
      this.#peak = Math.max(
        this.#peak,
        sizes.reduce((a, b) => a + b, 0),
      );
    });
  }
}

async function totalTicks(pids: number[]): Promise<number> {
  const ticks = await Promise.all(pids.map(cpuTicks));
  return ticks.reduce((a, b) => a + b, 0);
}
