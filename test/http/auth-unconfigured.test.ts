/**
 * A registry started without an authentication configuration. The Bun server is open; the
 * Worker serves pulls to anyone and refuses every push and delete (403, saying why) until it
 * has `AUTH_CONFIG` or `OPEN_REGISTRY=true`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorCodes, jsonOf, randomBytes, randomName } from "../support/client";
import { postBlob } from "../support/auth";
import { isWorkerTarget, type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;

beforeAll(async () => {
  server = await startRegistry({ env: { OPEN_REGISTRY: "false" } });
});

afterAll(async () => {
  await server?.stop();
});

describe(`no configuration (${isWorkerTarget ? "Worker: read-only" : "Bun: open"})`, () => {
  test("GET /v2/ needs no credentials", async () => {
    const res = await fetch(`${server.url}/v2/`);

    expect(res.status).toBe(200);
  });

  test("a pull needs no credentials: an unknown manifest is 404, not 401", async () => {
    const res = await fetch(`${server.url}/v2/${randomName()}/manifests/latest`);

    expect(res.status).toBe(404);
  });

  test("the catalog needs no credentials", async () => {
    const res = await fetch(`${server.url}/v2/_catalog`);

    expect(res.status).toBe(200);
  });

  test("a push: the Worker refuses it (403, saying why), the Bun server takes it", async () => {
    const res = await postBlob(server.url, randomName(), randomBytes(8), {});

    if (isWorkerTarget) {
      const body = await jsonOf<{ errors: { message: string }[] }>(res);
      expect(res.status).toBe(403);
      expect(await errorCodes(res)).toEqual(["DENIED"]);
      expect(body.errors[0]?.message).toContain("OPEN_REGISTRY");
    } else {
      expect(res.status).toBe(201);
    }
  });

  test("a delete: the Worker refuses it (403), the Bun server looks for it (404)", async () => {
    const target = `${server.url}/v2/${randomName()}/manifests/sha256:${"0".repeat(64)}`;

    const res = await fetch(target, { method: "DELETE" });

    expect(res.status).toBe(isWorkerTarget ? 403 : 404);
  });

  test("garbage collection: the Worker refuses it (403), the Bun server starts it", async () => {
    const res = await fetch(`${server.url}/v2/_gc?dryRun=true`, { method: "POST" });

    expect(res.status).toBe(isWorkerTarget ? 403 : 202);
    if (isWorkerTarget) expect(await errorCodes(res)).toEqual(["DENIED"]);
  });
});
