/** The Bun server's life cycle: restarts keep sessions, shutdown lets uploads finish. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { type RegistryServer, startRegistry } from "../support/server";
import {
  digestOf,
  finishUpload,
  getBlob,
  openSession,
  randomBytes,
  randomName,
} from "../support/client";

let server: RegistryServer;

beforeAll(async () => {
  server = await startRegistry();
});

beforeEach(async () => {
  await server.restart();
});

afterAll(async () => {
  await server.stop();
});

/** A body that yields `pieces` slices of `data`, pausing between them. */
function slowBody(data: Uint8Array, pieces: number, pauseMs: number): ReadableStream<Uint8Array> {
  const size = Math.ceil(data.length / pieces);
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      await Bun.sleep(pauseMs);
      if (sent >= data.length) return controller.close();
      controller.enqueue(data.subarray(sent, sent + size));
      sent += size;
    },
  });
}

describe("shutdown", () => {
  test("SIGTERM: a PATCH in flight completes and the server exits with 0", async () => {
    const repo = randomName();
    const data = randomBytes(256 * 1024);
    const location = await openSession(server.url, repo);
    const patch = fetch(location, {
      method: "PATCH",
      body: slowBody(data, 8, 100),
      duplex: "half",
    } as RequestInit);
    await Bun.sleep(250);

    const exitCode = await server.signal("SIGTERM");
    const res = await patch;

    expect(res.status).toBe(202);
    expect(res.headers.get("range")).toBe(`0-${data.length - 1}`);
    expect(exitCode).toBe(0);
  });

  test("after SIGTERM and a new start, the session finished during shutdown completes", async () => {
    const repo = randomName();
    const data = randomBytes(128 * 1024);
    const location = await openSession(server.url, repo);
    const patch = fetch(location, {
      method: "PATCH",
      body: slowBody(data, 4, 100),
      duplex: "half",
    } as RequestInit);
    await Bun.sleep(150);
    await server.signal("SIGTERM");
    await patch;
    await server.restart();

    const put = await finishUpload(location, digestOf(data));
    const back = await getBlob(server.url, repo, digestOf(data));

    expect(put.status).toBe(201);
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(data);
  });
});
