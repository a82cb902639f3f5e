import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  API_VERSION,
  digestOf,
  EMPTY_JSON,
  getManifest,
  imageManifest,
  openSession,
  pushBlob,
  pushEmptyConfig,
  putManifest,
  randomName,
  startUpload,
} from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;

beforeAll(async () => {
  server = await startRegistry();
  url = server.url;
});

afterAll(() => server?.stop());

describe("base", () => {
  test("GET /v2/: 200 with an empty JSON object and the API version", async () => {
    const res = await fetch(`${url}/v2/`);

    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(await res.json()).toEqual({});
  });

  test("HEAD /v2/: 200 with the API version and no body", async () => {
    const res = await fetch(`${url}/v2/`, { method: "HEAD" });

    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    expect(await res.text()).toBe("");
  });

  test("every endpoint: successful answers carry Docker-Distribution-API-Version", async () => {
    const repo = randomName("base");
    const blob = digestOf(EMPTY_JSON);
    await pushEmptyConfig(url, repo);
    expect((await putManifest(url, repo, "v1", imageManifest())).status).toBe(201);
    const session = await openSession(url, repo);

    const responses = await Promise.all([
      fetch(`${url}/v2/${repo}/blobs/${blob}`),
      fetch(`${url}/v2/${repo}/blobs/${blob}`, { method: "HEAD" }),
      getManifest(url, repo, "v1"),
      getManifest(url, repo, "v1", "HEAD"),
      fetch(`${url}/v2/${repo}/tags/list`),
      fetch(`${url}/v2/_catalog`),
      fetch(session),
      startUpload(url, repo),
    ]);

    for (const res of responses) {
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    }
  });

  test("every endpoint: error answers carry Docker-Distribution-API-Version", async () => {
    const repo = randomName("base");
    const digest = digestOf("nothing here");
    await pushBlob(url, repo, EMPTY_JSON);

    const responses = await Promise.all([
      fetch(`${url}/v2/${repo}/blobs/${digest}`),
      fetch(`${url}/v2/${repo}/blobs/${digest}`, { method: "DELETE" }),
      fetch(`${url}/v2/${repo}/manifests/missing`),
      fetch(`${url}/v2/${repo}/tags/list`),
      fetch(`${url}/v2/${repo}/blobs/uploads/0d5f0e2a-2a6e-4d0e-9a68-2f52a1c1a9b1`),
      fetch(`${url}/v2/Not_Valid/tags/list`),
      fetch(`${url}/v2/${repo}/blobs/sha256:xyz`),
      fetch(`${url}/v3/`),
      fetch(`${url}/v2/_catalog`, { method: "DELETE" }),
    ]);

    for (const res of responses) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    }
  });

  test("every endpoint: a HEAD that fails has the status of the GET and no body", async () => {
    const repo = randomName("base");
    await pushBlob(url, repo, EMPTY_JSON);

    const get = await getManifest(url, repo, "missing");
    const head = await getManifest(url, repo, "missing", "HEAD");

    expect(head.status).toBe(get.status);
    expect(head.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
    expect(await head.text()).toBe("");
  });
});
