/** The app in-process: logging and failure handling that the HTTP suite cannot observe. */
import { describe, expect, test } from "bun:test";
import { typescriptHashEngine } from "../../src/hash/typescript-engine";
import { createApp } from "../../src/http/app";
import type { LogFields, Logger } from "../../src/http/logger";
import { createRegistry } from "../../src/registry/registry";
import { MemoryStorage } from "../../src/storage/memory";
import type { ObjectStorage } from "../../src/storage/storage";

interface LogLine {
  level: "info" | "error";
  message: string;
  fields: LogFields;
}

function recordingLogger(lines: LogLine[]): Logger {
  return {
    info: (message, fields) => lines.push({ level: "info", message, fields }),
    error: (message, fields) => lines.push({ level: "error", message, fields }),
  };
}

function appOver(storage: ObjectStorage, lines: LogLine[]) {
  const registry = createRegistry({ storage, hashEngine: typescriptHashEngine });
  return createApp(registry, { logger: recordingLogger(lines) });
}

/** A bucket whose every read fails, as a broken disk or network would. */
function failingStorage(): ObjectStorage {
  const storage = new MemoryStorage();
  const fail = () => Promise.reject(new Error("disk on fire at /secret/path"));
  return Object.assign(storage, { head: fail, get: fail, list: fail });
}

describe("access log", () => {
  test("one line per request with method, path, status, bytes, duration and request id", async () => {
    const lines: LogLine[] = [];
    const app = appOver(new MemoryStorage(), lines);

    await app.request("/v2/");
    await app.request("/v2/nope/tags/list");

    expect(lines.map((l) => [l.message, l.fields.method, l.fields.path, l.fields.status])).toEqual([
      ["request", "GET", "/v2/", 200],
      ["request", "GET", "/v2/nope/tags/list", 404],
    ]);
    for (const { fields } of lines) {
      expect(typeof fields.ms).toBe("number");
      expect(fields.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(lines[0]?.fields.bytes).toBe("2");
  });

  test("the Authorization header is never logged", async () => {
    const lines: LogLine[] = [];
    const app = appOver(new MemoryStorage(), lines);

    await app.request("/v2/", { headers: { Authorization: "Basic c2VjcmV0OnNlY3JldA==" } });

    expect(JSON.stringify(lines)).not.toContain("c2VjcmV0");
  });
});

describe("unexpected failures", () => {
  test("a storage failure is a 500 with no internals, logged once with the request id", async () => {
    const lines: LogLine[] = [];
    const app = appOver(failingStorage(), lines);

    const res = await app.request("/v2/team/app/manifests/latest");
    const body = await res.text();

    expect(res.status).toBe(500);
    expect(JSON.parse(body).errors[0].message).toBe("internal server error");
    expect(body).not.toContain("secret");
    const errors = lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields.error).toContain("disk on fire");
    const access = lines.find((l) => l.message === "request");
    expect(errors[0]?.fields.requestId).toBe(access?.fields.requestId as string);
  });
});
