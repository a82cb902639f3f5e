/**
 * The Bun entry: the registry on the local filesystem, for development, CI and small
 * self-hosted setups. `PORT` (default 3000) and `DATA_DIR` (default `./data`) configure it, and
 * `AUTH_CONFIG` names the authentication configuration file; without one the registry is open.
 */
import { resolve } from "node:path";
import type { Server } from "bun";
import { loadAuthenticator } from "./bun/auth-config";
import { loadOpenSslHashEngine } from "./bun/openssl-hash";
import { inProcessDriver } from "./gc/in-process";
import { gcSettings } from "./gc/settings";
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
const auth = await loadAuthenticator(process.env.AUTH_CONFIG).catch((error: Error) => {
  consoleLogger.error("cannot start", { error: error.message });
  process.exit(1);
});
const settings = gcSettings(process.env);
const gc = { settings, drive: inProcessDriver(consoleLogger, settings.step) };
const app = createApp(registry, { logger: consoleLogger, auth, gc });

const server = Bun.serve({
  port,
  // With authentication on, failed sign-ins are logged with the address they came from.
  fetch: auth
    ? (request, bun) => app.fetch(request, { clientAddress: clientAddress(bun, request) })
    : app.fetch,
  maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  idleTimeout: 0,
});
consoleLogger.info("listening", { port: server.port, dataDir, hashEngine: hashEngine.name });
if (!auth) {
  const warning = "authentication is off: anyone who can reach this server can push and delete";
  console.warn(JSON.stringify({ level: "warn", message: warning, fix: "set AUTH_CONFIG" }));
}

function clientAddress(bun: Server<undefined>, request: Request): string {
  return bun.requestIP(request)?.address ?? "unknown";
}

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
