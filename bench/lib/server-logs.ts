/** What the servers wrote to stderr during the run, for the notes under the table. */
import { readFile } from "node:fs/promises";
import type { Results } from "./results";
import type { BenchServer } from "./servers";

/**
 * Lines that are not news: Distribution logs every 4xx answer (a HEAD of a blob not pushed yet)
 * as an error, and the writes that fail when hey or wrk hang up at the end of a load; ours logs
 * its start-up and its warnings as JSON at levels info and warn.
 */
const ROUTINE = [
  /http\.response\.status=4\d\d /,
  /broken pipe|connection reset by peer|superfluous response\.WriteHeader/,
  /^\{"level":"(info|warn)"/,
];

/** Notes, and logs, whatever else each server wrote to stderr (errors, crashes). */
export async function noteServerLogs(
  results: Results,
  servers: BenchServer[],
  log: (text: string) => void,
): Promise<void> {
  for (const server of servers) {
    const text = await readFile(server.logFile, "utf8").catch(() => "");
    const lines = text.split("\n").filter((line) => line.trim());
    const news = lines.filter((line) => !ROUTINE.some((pattern) => pattern.test(line)));
    if (!news.length) continue;
    log(`${server.label} stderr:\n${news.slice(0, 20).join("\n")}`);
    const first = news[0]?.slice(0, 200) ?? "";
    results.note(`${server.label} wrote ${news.length} lines to stderr; the first: \`${first}\``);
  }
}
