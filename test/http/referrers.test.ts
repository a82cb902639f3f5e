import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type Descriptor,
  descriptor,
  digestOf,
  errorCodes,
  imageIndex,
  imageManifest,
  inParallel,
  jsonOf,
  nextLink,
  OCI_INDEX,
  OCI_MANIFEST,
  type PushedManifest,
  pushBlob,
  pushEmptyConfig,
  pushImage,
  pushManifest,
  randomName,
  utf8,
} from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;

const SBOM = "application/vnd.example.sbom.v1";
const SIGNATURE = "application/vnd.example.signature.v1";

interface ReferrersIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

beforeAll(async () => {
  server = await startRegistry();
  url = server.url;
});

afterAll(() => server?.stop());

/** A repository with one image (the subject) and the empty config blob for artifacts. */
async function withSubject() {
  const repo = randomName("referrers");
  const subject = await pushImage(url, repo, "v1");
  await pushEmptyConfig(url, repo);
  return { repo, subject };
}

/** Pushes an artifact manifest (by digest) that refers to `subject`. */
function pushArtifact(
  repo: string,
  subject: Descriptor,
  artifactType: string,
  annotations?: Record<string, string>,
): Promise<PushedManifest> {
  return pushManifest(url, repo, null, imageManifest({ subject, artifactType, annotations }));
}

async function referrers(repo: string, digest: string, query = "") {
  const res = await fetch(`${url}/v2/${repo}/referrers/${digest}${query}`);
  return { res, body: await jsonOf<ReferrersIndex>(res) };
}

function digests(index: ReferrersIndex) {
  return index.manifests.map((manifest) => manifest.digest).sort();
}

describe("GET referrers", () => {
  test("GET referrers: unknown subject is 200 with an empty OCI image index", async () => {
    const { repo } = await withSubject();

    const { res, body } = await referrers(repo, digestOf("nothing refers to this"));

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(OCI_INDEX);
    expect(body).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
  });

  test("GET referrers: unknown repository is 200 with an empty OCI image index", async () => {
    const { res, body } = await referrers(randomName("nowhere"), digestOf("anything"));

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(OCI_INDEX);
    expect(body.manifests).toEqual([]);
  });

  test("GET referrers: a subject with no referrers is an empty index", async () => {
    const { repo, subject } = await withSubject();

    const { res, body } = await referrers(repo, subject.digest);

    expect(res.status).toBe(200);
    expect(body.manifests).toEqual([]);
  });

  test("GET referrers: a referrer's mediaType, digest, size, artifactType, annotations", async () => {
    const { repo, subject } = await withSubject();
    const annotations = { "org.opencontainers.image.created": "2024-01-02T03:04:05Z", x: "y" };
    const sbom = await pushArtifact(repo, subject.descriptor, SBOM, annotations);

    const { res, body } = await referrers(repo, subject.digest);

    expect(res.status).toBe(200);
    expect(body.schemaVersion).toBe(2);
    expect(body.mediaType).toBe(OCI_INDEX);
    expect(body.manifests).toEqual([
      {
        mediaType: OCI_MANIFEST,
        digest: sbom.digest,
        size: sbom.bytes.byteLength,
        artifactType: SBOM,
        annotations,
      },
    ]);
  });

  test("GET referrers: a referrer with 3 KiB of annotations is listed with all of them", async () => {
    const { repo, subject } = await withSubject();
    const annotations = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [`org.example.note.${i}`, "n".repeat(512)]),
    );
    const signed = await pushArtifact(repo, subject.descriptor, SIGNATURE, annotations);

    const { res, body } = await referrers(repo, subject.digest);

    expect(res.status).toBe(200);
    expect(body.manifests.map((m) => [m.digest, m.annotations])).toEqual([
      [signed.digest, annotations],
    ]);
  });

  test("GET referrers: artifactType falls back to the config's media type", async () => {
    const { repo, subject } = await withSubject();
    const config = utf8('{"kind":"signature"}');
    await pushBlob(url, repo, config);
    const manifest = imageManifest({
      subject: subject.descriptor,
      config: descriptor(config, "application/vnd.example.config.v1+json"),
    });
    const signed = await pushManifest(url, repo, null, manifest);

    const { body } = await referrers(repo, subject.digest);

    expect(body.manifests).toHaveLength(1);
    expect(body.manifests[0]?.digest).toBe(signed.digest);
    expect(body.manifests[0]?.artifactType).toBe("application/vnd.example.config.v1+json");
  });

  test("GET referrers: an index referrer without artifactType has no artifactType field", async () => {
    const { repo, subject } = await withSubject();
    const index = await pushManifest(
      url,
      repo,
      null,
      imageIndex({ manifests: [], subject: subject.descriptor }),
    );

    const { body } = await referrers(repo, subject.digest);

    expect(body.manifests).toHaveLength(1);
    expect(body.manifests[0]).toMatchObject({
      mediaType: OCI_INDEX,
      digest: index.digest,
      size: index.bytes.byteLength,
    });
    expect(body.manifests[0]).not.toHaveProperty("artifactType");
  });

  test("GET referrers: an index referrer with artifactType lists it", async () => {
    const { repo, subject } = await withSubject();
    const index = imageIndex({ manifests: [], subject: subject.descriptor, artifactType: SBOM });
    const pushed = await pushManifest(url, repo, null, index);

    const { body } = await referrers(repo, subject.digest);

    expect(body.manifests).toHaveLength(1);
    expect(body.manifests[0]?.digest).toBe(pushed.digest);
    expect(body.manifests[0]?.artifactType).toBe(SBOM);
  });

  test("GET referrers: a referrer whose subject was never pushed is listed", async () => {
    const repo = randomName("referrers");
    await pushEmptyConfig(url, repo);
    const absent = descriptor(utf8("never pushed"), OCI_MANIFEST);
    const sbom = await pushArtifact(repo, absent, SBOM);

    const { body } = await referrers(repo, absent.digest);

    expect(digests(body)).toEqual([sbom.digest]);
  });

  test("GET referrers: ?artifactType= keeps only that type and answers OCI-Filters-Applied", async () => {
    const { repo, subject } = await withSubject();
    const sbom = await pushArtifact(repo, subject.descriptor, SBOM);
    await pushArtifact(repo, subject.descriptor, SIGNATURE);

    const { res, body } = await referrers(repo, subject.digest, `?artifactType=${SBOM}`);

    expect(res.status).toBe(200);
    expect(res.headers.get("oci-filters-applied")).toBe("artifactType");
    expect(digests(body)).toEqual([sbom.digest]);
  });

  test("GET referrers: unfiltered, every type is listed without OCI-Filters-Applied", async () => {
    const { repo, subject } = await withSubject();
    const sbom = await pushArtifact(repo, subject.descriptor, SBOM);
    const signature = await pushArtifact(repo, subject.descriptor, SIGNATURE);

    const { res, body } = await referrers(repo, subject.digest);

    expect(res.headers.get("oci-filters-applied")).toBeNull();
    expect(digests(body)).toEqual([sbom.digest, signature.digest].sort());
  });

  test("GET referrers: n and Link page through every referrer once", async () => {
    const { repo, subject } = await withSubject();
    const pushed: string[] = [];
    for (let i = 0; i < 5; i++) {
      pushed.push((await pushArtifact(repo, subject.descriptor, SBOM, { i: String(i) })).digest);
    }
    const seen: string[] = [];
    let next: string | null = `${url}/v2/${repo}/referrers/${subject.digest}?n=2`;
    let pages = 0;

    while (next !== null && pages < 10) {
      const res: Response = await fetch(next);
      const body = (await res.json()) as ReferrersIndex;
      expect(res.status).toBe(200);
      expect(body.manifests.length).toBeLessThanOrEqual(2);
      seen.push(...body.manifests.map((manifest) => manifest.digest));
      next = nextLink(url, res);
      pages++;
    }

    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(pushed.sort());
  });

  test("GET referrers: a deleted referrer is no longer listed", async () => {
    const { repo, subject } = await withSubject();
    const kept = await pushArtifact(repo, subject.descriptor, SBOM);
    const doomed = await pushArtifact(repo, subject.descriptor, SIGNATURE);

    const deleted = await fetch(`${url}/v2/${repo}/manifests/${doomed.digest}`, {
      method: "DELETE",
    });
    const { body } = await referrers(repo, subject.digest);

    expect(deleted.status).toBe(202);
    expect(digests(body)).toEqual([kept.digest]);
  });

  test("GET referrers: referrers pushed to another repository are not listed", async () => {
    const { repo, subject } = await withSubject();
    const other = randomName("referrers");
    await pushEmptyConfig(url, other);
    await pushArtifact(other, subject.descriptor, SBOM);

    const { body } = await referrers(repo, subject.digest);

    expect(body.manifests).toEqual([]);
  });

  test("GET referrers: an invalid digest is 400 DIGEST_INVALID", async () => {
    const { repo } = await withSubject();

    const res = await fetch(`${url}/v2/${repo}/referrers/sha256:not-a-digest`);

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["DIGEST_INVALID"]);
  });

  test("GET referrers: pages hold at most 1000 descriptors, with a Link to the rest", async () => {
    const { repo, subject } = await withSubject();
    const numbers = Array.from({ length: 1001 }, (_, i) => String(i));
    const pushed: string[] = [];
    await inParallel(numbers, 16, async (i) => {
      pushed.push((await pushArtifact(repo, subject.descriptor, SBOM, { i })).digest);
    });

    const first = await referrers(repo, subject.digest);
    const link = nextLink(url, first.res);
    const rest = link === null ? { manifests: [] } : await (await fetch(link)).json();
    const seen = [...first.body.manifests, ...(rest as ReferrersIndex).manifests];

    expect(first.body.manifests.length).toBe(1000);
    expect(link).not.toBeNull();
    expect(seen.map((manifest) => manifest.digest).sort()).toEqual(pushed.sort());
  }, 60_000);
});
