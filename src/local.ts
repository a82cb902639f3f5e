/**
 * The Bun entry: the registry on the local filesystem, for development, CI and small
 * self-hosted setups. `PORT` (default 3000) and `DATA_DIR` (default `./data`) configure it.
 */
import { resolve } from "node:path";
import { loadOpenSslHashEngine } from "./bun/openssl-hash";
import { typescriptHashEngine } from "./hash/typescript-engine";
import { createApp } from "./http/app";
import { consoleLogger } from "./http/logger";
import { createRegistry } from "./registry/registry";
import { FSR2Bucket } from "./storage/r2-fs";

const port = Number(process.env.PORT ?? 3000);
const dataDir = resolve(process.env.DATA_DIR ?? "data");
const hashEngine = loadOpenSslHashEngine() ?? typescriptHashEngine;

const registry = createRegistry({
  storage: new FSR2Bucket(dataDir),
  hashEngine,
  partSize: process.env.PART_SIZE ? Number(process.env.PART_SIZE) : undefined,
  singleInstance: true,
});
const app = createApp(registry, { logger: consoleLogger });

const server = Bun.serve({
  port,
  fetch: app.fetch,
  maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  idleTimeout: 0,
});
consoleLogger.info("listening", { port: server.port, dataDir, hashEngine: hashEngine.name });

/**
 * Stops taking connections and lets requests in flight finish, for at most `SHUTDOWN_TIMEOUT`
 * seconds; then closes what is left. A cut upload fails cleanly: its session keeps the bytes of
 * its last completed request.
 */
async function shutdown(signal: string): Promise<void> {
  consoleLogger.info("shutting down", { signal });
  const timeout = Number(process.env.SHUTDOWN_TIMEOUT ?? 30) * 1000;
  const force = setTimeout(() => void server.stop(true), timeout);
  await server.stop(false);
  clearTimeout(force);
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
