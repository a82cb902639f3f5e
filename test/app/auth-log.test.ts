/**
 * Authentication in-process: what reaches the log and the responses. A failed sign-in is logged
 * with the user name and source address only; passwords, tokens and Authorization headers never
 * appear in a log line or a response.
 */
import { describe, expect, test } from "bun:test";
import { Authenticator } from "../../src/auth/authenticator";
import { parseAuthConfig } from "../../src/auth/config";
import { typescriptHashEngine } from "../../src/hash/typescript-engine";
import { createApp, createUnavailableApp } from "../../src/http/app";
import type { LogFields, Logger } from "../../src/http/logger";
import { createRegistry } from "../../src/registry/registry";
import { MemoryStorage } from "../../src/storage/memory";
import { as, authConfig, basic, bearer, PASSWORDS } from "../support/auth";

interface LogLine {
  message: string;
  fields: LogFields;
}

const CLIENT = { clientAddress: "203.0.113.7" };

async function appWithLog() {
  const lines: LogLine[] = [];
  const logger: Logger = {
    info: (message, fields) => lines.push({ message, fields }),
    error: (message, fields) => lines.push({ message, fields }),
  };
  const registry = createRegistry({
    storage: new MemoryStorage(),
    hashEngine: typescriptHashEngine,
  });
  const auth = await Authenticator.create(parseAuthConfig(authConfig("bearer")));
  return { app: createApp(registry, { logger, auth }), lines };
}

describe("auth: logs and responses", () => {
  test("a failed sign-in is logged with the user name and source address only", async () => {
    const { app, lines } = await appWithLog();

    const res = await app.request("/v2/", { headers: basic("alice", "hunter2-wrong") }, CLIENT);
    const failures = lines.filter((line) => line.message === "login failed");

    expect(res.status).toBe(401);
    expect(failures).toEqual([
      { message: "login failed", fields: { user: "alice", source: "203.0.113.7" } },
    ]);
  });

  test("no password, token or Authorization header reaches a log line or a response", async () => {
    const { app, lines } = await appWithLog();
    const secrets = ["hunter2-wrong", PASSWORDS.alice, PASSWORDS.bob];
    const bodies: string[] = [];
    const send = async (path: string, init: RequestInit) => {
      const res = await app.request(path, init, CLIENT);
      bodies.push(await res.text(), JSON.stringify([...res.headers]));
      return res;
    };

    await send("/v2/", { headers: basic("alice", "hunter2-wrong") });
    await send("/token?scope=repository:team/app:pull", { headers: basic("bob", "hunter2-wrong") });
    const form = "grant_type=password&username=alice&password=hunter2-wrong";
    await send("/token", { method: "POST", body: form });
    const ok = await send("/token?offline_token=true", { headers: as("alice") });
    const { token, refresh_token } = JSON.parse(bodies.at(-2) ?? "{}");
    await send("/v2/team/app/manifests/latest", { headers: bearer(token) });
    await send("/v2/team/app/manifests/latest", { headers: bearer(`${token}x`) });
    await send("/token", {
      method: "POST",
      body: `grant_type=refresh_token&refresh_token=${refresh_token}x`,
    });
    await send("/v2/", { headers: as("bob") });
    const logged = JSON.stringify(lines);

    expect(ok.status).toBe(200);
    expect(typeof token).toBe("string");
    for (const secret of [...secrets, token, refresh_token, "Basic ", "Bearer "]) {
      expect(logged).not.toContain(secret);
    }
    for (const secret of secrets) {
      for (const body of bodies) expect(body).not.toContain(secret);
    }
  });

  test("a registry that must not serve answers 503 UNAVAILABLE to everything", async () => {
    const app = createUnavailableApp("the registry's AUTH_CONFIG cannot be used", {
      info: () => {},
      error: () => {},
    });

    const res = await app.request("/v2/");
    const body = (await res.json()) as { errors: { code: string }[] };

    expect(res.status).toBe(503);
    expect(body.errors[0]?.code).toBe("UNAVAILABLE");
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });
});
