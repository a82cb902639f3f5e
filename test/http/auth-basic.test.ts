/**
 * Authentication with the Basic scheme: every request carries the password (or nothing, for
 * public repositories), and the rules decide. The same server also runs the token service with
 * an HS256 key, whose tokens it accepts alongside passwords.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  as,
  authConfig,
  basic,
  bearer,
  getToken,
  PASSWORDS,
  postBlob,
  pushImageWith,
} from "../support/auth";
import { errorCodes, MANIFEST_ACCEPT, randomBytes, randomName } from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;
/** An image in `team/…`, pushed by alice. */
let team: { repo: string; digest: string; layer: string };
/** An image in `public/…`. */
let publicImage: { repo: string; digest: string; layer: string };
/** An image in `secret/…`, which only alice may read. */
let secret: { repo: string; digest: string; layer: string };

beforeAll(async () => {
  server = await startRegistry({ authConfig: authConfig("basic") });
  url = server.url;
  const push = async (prefix: string) => {
    const repo = randomName(prefix);
    return { repo, ...(await pushImageWith(url, repo, "v1", as("alice"))) };
  };
  [team, publicImage, secret] = [
    await push("team/t"),
    await push("public/p"),
    await push("secret/s"),
  ];
});

afterAll(async () => {
  await server?.stop();
});

function getManifest(repo: string, reference: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/v2/${repo}/manifests/${reference}`, {
    headers: { Accept: MANIFEST_ACCEPT, ...headers },
  });
}

async function expectUnauthorized(res: Response) {
  expect(res.status).toBe(401);
  expect(await errorCodes(res)).toEqual(["UNAUTHORIZED"]);
  expect(res.headers.get("www-authenticate")).toBe('Basic realm="r2-registry tests"');
}

async function expectDenied(res: Response) {
  expect(res.status).toBe(403);
  expect(await errorCodes(res)).toEqual(["DENIED"]);
  expect(res.headers.get("www-authenticate")).toBe(null);
}

describe("Basic: signing in", () => {
  test("GET /v2/ without credentials is 401 with a Basic challenge", async () => {
    await expectUnauthorized(await fetch(`${url}/v2/`));
  });

  test("GET /v2/ with a bcrypt password from htpasswd -B is 200", async () => {
    const res = await fetch(`${url}/v2/`, { headers: as("alice") });

    expect(res.status).toBe(200);
  });

  test("GET /v2/ with a PBKDF2 password is 200", async () => {
    const res = await fetch(`${url}/v2/`, { headers: as("bob") });

    expect(res.status).toBe(200);
  });

  test("a wrong password is 401", async () => {
    await expectUnauthorized(await fetch(`${url}/v2/`, { headers: basic("alice", "wrong") }));
  });

  test("an unknown user is 401", async () => {
    const headers = basic("mallory", PASSWORDS.alice);

    await expectUnauthorized(await fetch(`${url}/v2/`, { headers }));
  });

  test("a wrong password is 401 on a public repository too", async () => {
    const headers = basic("bob", "wrong");

    await expectUnauthorized(await getManifest(publicImage.repo, "v1", headers));
  });

  test("an Authorization header of another scheme is 401", async () => {
    const headers = { Authorization: "Digest username=alice" };

    await expectUnauthorized(await fetch(`${url}/v2/`, { headers }));
  });
});

describe("Basic: pulling", () => {
  test("anonymous pull of a public repository needs no credentials", async () => {
    const manifest = await getManifest(publicImage.repo, "v1");
    const blob = await fetch(`${url}/v2/${publicImage.repo}/blobs/${publicImage.layer}`);
    const tags = await fetch(`${url}/v2/${publicImage.repo}/tags/list`);

    expect(manifest.status).toBe(200);
    expect(blob.status).toBe(200);
    expect(tags.status).toBe(200);
  });

  test("Basic with an empty user name and password counts as no credentials", async () => {
    const empty = basic("", "");

    expect((await getManifest(publicImage.repo, "v1", empty)).status).toBe(200);
    await expectUnauthorized(await getManifest(team.repo, "v1", empty));
  });

  test("pull of a private repository without credentials is 401", async () => {
    await expectUnauthorized(await getManifest(team.repo, "v1"));
    await expectUnauthorized(await fetch(`${url}/v2/${team.repo}/blobs/${team.layer}`));
  });

  test("pull of a repository the user has no rule for is 403", async () => {
    await expectDenied(await getManifest(secret.repo, "v1", as("bob")));
  });

  test("a read-only user pulls", async () => {
    const res = await getManifest(team.repo, "v1", as("reader"));

    expect(res.status).toBe(200);
  });
});

describe("Basic: pushing and deleting", () => {
  test("a user with push pushes an image", async () => {
    const repo = randomName("team/push");

    const pushed = await pushImageWith(url, repo, "v1", as("bob"));

    expect((await getManifest(repo, pushed.digest, as("bob"))).status).toBe(200);
  });

  test("push to a pull-only repository is 403", async () => {
    const repo = randomName("readonly/r");

    await expectDenied(await postBlob(url, repo, randomBytes(16), as("bob")));
    await expectDenied(
      await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: as("reader") }),
    );
  });

  test("push without credentials is 401", async () => {
    await expectUnauthorized(await postBlob(url, randomName("team/anon"), randomBytes(16), {}));
  });

  test("delete without the right is 403", async () => {
    const target = `${url}/v2/${team.repo}/manifests/${team.digest}`;

    await expectDenied(await fetch(target, { method: "DELETE", headers: as("bob") }));
    await expectDenied(
      await fetch(`${url}/v2/${team.repo}/blobs/${team.layer}`, {
        method: "DELETE",
        headers: as("bob"),
      }),
    );
  });

  test("delete with the right is 202", async () => {
    const repo = randomName("team/del");
    const pushed = await pushImageWith(url, repo, "v1", as("alice"));

    const res = await fetch(`${url}/v2/${repo}/manifests/${pushed.digest}`, {
      method: "DELETE",
      headers: as("alice"),
    });

    expect(res.status).toBe(202);
  });
});

describe("Basic: catalog", () => {
  test("catalog without the right is 403 for a user and 401 for no one", async () => {
    await expectDenied(await fetch(`${url}/v2/_catalog`, { headers: as("bob") }));
    await expectUnauthorized(await fetch(`${url}/v2/_catalog`));
  });

  test("catalog with the right lists the repositories", async () => {
    const res = await fetch(`${url}/v2/_catalog`, { headers: as("alice") });
    const body = (await res.json()) as { repositories: string[] };

    expect(res.status).toBe(200);
    expect(body.repositories).toContain(team.repo);
  });
});

describe("Basic: garbage collection", () => {
  test("the GC endpoint needs delete in every repository: 401 for no one, 403 for bob", async () => {
    await expectUnauthorized(await fetch(`${url}/v2/_gc`));
    await expectDenied(await fetch(`${url}/v2/_gc`, { headers: as("bob") }));
    await expectDenied(await fetch(`${url}/v2/_gc`, { method: "POST", headers: as("bob") }));
    // reader may pull everything in team/: still not enough.
    await expectDenied(
      await fetch(`${url}/v2/_gc/resume`, { method: "POST", headers: as("reader") }),
    );
  });

  test("alice, who may delete everywhere, reads the status and starts a dry run", async () => {
    const status = await fetch(`${url}/v2/_gc`, { headers: as("alice") });
    expect(status.status).toBe(200);
    const started = await fetch(`${url}/v2/_gc?dryRun=true`, {
      method: "POST",
      headers: as("alice"),
    });
    expect(started.status).toBe(202);
    expect(((await started.json()) as { started: boolean }).started).toBe(true);
  });
});

describe("Basic: mounting", () => {
  function mount(target: string, digest: string, from: string | null, user: "alice" | "bob") {
    const query = new URLSearchParams({ mount: digest, ...(from ? { from } : {}) });
    return fetch(`${url}/v2/${target}/blobs/uploads/?${query}`, {
      method: "POST",
      headers: as(user),
    });
  }

  test("mount from a repository the caller cannot read opens a session instead (202)", async () => {
    const res = await mount(randomName("team/m"), secret.layer, secret.repo, "bob");

    expect(res.status).toBe(202);
    expect(res.headers.get("docker-upload-uuid")).toBeTruthy();
  });

  test("mount from a repository the caller reads is 201", async () => {
    const res = await mount(randomName("team/m"), publicImage.layer, publicImage.repo, "bob");

    expect(res.status).toBe(201);
  });

  test("mount without from finds a blob only in repositories the caller reads", async () => {
    const hidden = await mount(randomName("team/m"), secret.layer, null, "bob");
    const found = await mount(randomName("team/m"), team.layer, null, "bob");
    const byAlice = await mount(randomName("team/m"), secret.layer, null, "alice");

    expect(hidden.status).toBe(202);
    expect(found.status).toBe(201);
    expect(byAlice.status).toBe(201);
  });
});

describe("Basic: the token service alongside", () => {
  test("an HS256 token from GET /token is accepted for what it grants", async () => {
    const token = await getToken(url, [`repository:${team.repo}:pull`], "bob");

    const res = await getManifest(team.repo, "v1", bearer(token));

    expect(res.status).toBe(200);
  });

  test("a token that lacks the scope is 401 with the Basic challenge", async () => {
    const token = await getToken(url, [`repository:${team.repo}:pull`], "bob");

    const res = await getManifest(publicImage.repo, "v1", bearer(token));

    await expectUnauthorized(res);
  });
});
