/**
 * Carrying a collection on inside a long-lived process (the Bun server): once started or
 * resumed, it runs to its end (or its pause) in the background, one run at a time.
 */
import type { Logger } from "../http/logger";
import type { Budget, Collector } from "./collector";

/** Runs a collection on in steps of `step` (saving its progress after each). */
export function inProcessDriver(
  logger: Logger,
  step: Budget,
): (c: unknown, collector: Collector) => void {
  let running = false;
  let again = false;

  const drive = (c: unknown, collector: Collector) => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    collector
      .runToEnd(step)
      .then((phase) => logger.info("garbage collection stopped", { phase }))
      .catch((error: Error) => logger.error("garbage collection failed", { error: error.message }))
      .finally(() => {
        running = false;
        if (again) drive(c, collector);
      });
  };
  return drive;
}
