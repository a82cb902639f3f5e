/**
 * Authentication with the Bearer scheme and the built-in token service: challenges that name
 * the token URL, the service and the scope; tokens from GET and from the OAuth2 POST; and every
 * way a token can fail to be enough.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { toBase64Url, utf8 } from "../../src/auth/base64";
import { importSigningKey, signJwt } from "../../src/auth/jwt";
import {
  as,
  authConfig,
  basic,
  bearer,
  claimsOf,
  ES256_KEY,
  getToken,
  ISSUER,
  OTHER_ES256_KEY,
  PASSWORDS,
  parseChallenge,
  postBlob,
  pushImageWith,
} from "../support/auth";
import { errorCodes, MANIFEST_ACCEPT, randomBytes, randomName } from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;
let service: string;
let team: { repo: string; digest: string; layer: string };
let publicImage: { repo: string; digest: string; layer: string };
let secret: { repo: string; digest: string; layer: string };

beforeAll(async () => {
  server = await startRegistry({ authConfig: authConfig("bearer") });
  url = server.url;
  service = new URL(url).host;
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

function getManifest(repo: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/v2/${repo}/manifests/v1`, {
    headers: { Accept: MANIFEST_ACCEPT, ...headers },
  });
}

/** Checks a 401 and returns its challenge's parameters. */
async function challengeOf(res: Response): Promise<Record<string, string>> {
  expect(res.status).toBe(401);
  expect(await errorCodes(res)).toEqual(["UNAUTHORIZED"]);
  const challenge = parseChallenge(res.headers.get("www-authenticate"));
  expect(challenge.scheme).toBe("Bearer");
  expect(challenge.params.realm).toBe(`${url}/token`);
  expect(challenge.params.service).toBe(service);
  return challenge.params;
}

async function expectDenied(res: Response) {
  expect(res.status).toBe(403);
  expect(await errorCodes(res)).toEqual(["DENIED"]);
}

/** A token signed with the registry's own key, with `changes` to what it would issue. */
async function forged(changes: Record<string, unknown>, key = ES256_KEY): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: ISSUER,
    sub: "alice",
    aud: service,
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: crypto.randomUUID(),
    access: [{ type: "repository", name: team.repo, actions: ["pull"] }],
    ...changes,
  };
  return signJwt(await importSigningKey("ES256", key), claims);
}

describe("Bearer: challenges", () => {
  test("GET /v2/ without credentials is 401 naming the token realm and service", async () => {
    const params = await challengeOf(await fetch(`${url}/v2/`));

    expect(params.scope).toBeUndefined();
    expect(params.error).toBeUndefined();
  });

  test("a pull without a token is 401 with the scope it needs", async () => {
    const params = await challengeOf(await getManifest(team.repo));

    expect(params.scope).toBe(`repository:${team.repo}:pull`);
  });

  test("a push without a token is 401 asking for pull and push", async () => {
    const res = await postBlob(url, randomName("team/p"), randomBytes(8), {});

    expect((await challengeOf(res)).scope).toMatch(/^repository:team\/p-[0-9a-f]+\/app:pull,push$/);
  });

  test("the catalog without a token is 401 asking for registry:catalog:*", async () => {
    const params = await challengeOf(await fetch(`${url}/v2/_catalog`));

    expect(params.scope).toBe("registry:catalog:*");
  });

  test("the GC endpoint without a token is 401 asking for registry:gc:delete", async () => {
    const params = await challengeOf(await fetch(`${url}/v2/_gc`));

    expect(params.scope).toBe("registry:gc:delete");
  });
});

describe("Bearer: GET /token", () => {
  test("with Basic credentials: a token of the asked scope that the registry accepts", async () => {
    const res = await fetch(`${url}/token?service=${service}&scope=repository:${team.repo}:pull`, {
      headers: as("bob"),
    });
    const body = (await res.json()) as Record<string, unknown>;
    const token = String(body.token);

    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(body.access_token).toBe(token);
    expect(body.expires_in).toBe(300);
    expect(String(body.issued_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(body.refresh_token).toBeUndefined();
    expect((await getManifest(team.repo, bearer(token))).status).toBe(200);
  });

  test("the token has iss, aud, sub, exp, nbf, iat, jti and access; ES256 with kid", async () => {
    const token = await getToken(url, [`repository:${team.repo}:pull,push`], "bob");
    const claims = claimsOf(token);
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString());

    expect(header).toMatchObject({ alg: "ES256", typ: "JWT" });
    expect(header.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(claims).toMatchObject({ iss: ISSUER, aud: service, sub: "bob" });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(300);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.access).toEqual([
      { type: "repository", name: team.repo, actions: ["pull", "push"] },
    ]);
  });

  test("a partial grant is not an error: only the allowed actions are granted", async () => {
    const token = await getToken(
      url,
      [`repository:${randomName("readonly/r")}:pull,push`, `repository:${secret.repo}:pull`],
      "bob",
    );

    expect((claimsOf(token).access as { actions: string[] }[]).map((a) => a.actions)).toEqual([
      ["pull"],
    ]);
  });

  test("anonymous: a token for public repositories, which pulls with no login at all", async () => {
    const token = await getToken(url, [
      `repository:${publicImage.repo}:pull,push`,
      `repository:${team.repo}:pull`,
    ]);
    const claims = claimsOf(token);

    expect(claims.sub).toBe("");
    expect(claims.access).toEqual([
      { type: "repository", name: publicImage.repo, actions: ["pull"] },
    ]);
    expect((await getManifest(publicImage.repo, bearer(token))).status).toBe(200);
    expect(
      (
        await fetch(`${url}/v2/${publicImage.repo}/blobs/${publicImage.layer}`, {
          headers: bearer(token),
        })
      ).status,
    ).toBe(200);
  });

  test("a scope whose name has a host and port is granted by the grammar", async () => {
    const token = await getToken(url, ["repository:localhost:5000/foo/bar:pull,push"], "alice");

    expect(claimsOf(token).access).toEqual([
      { type: "repository", name: "localhost:5000/foo/bar", actions: ["pull", "push"] },
    ]);
  });

  test("offline_token=true adds a refresh token", async () => {
    const res = await fetch(`${url}/token?offline_token=true&client_id=test`, {
      headers: as("alice"),
    });
    const body = (await res.json()) as Record<string, unknown>;

    expect(res.status).toBe(200);
    expect(typeof body.refresh_token).toBe("string");
  });

  test("a wrong password is 401", async () => {
    const res = await fetch(`${url}/token?scope=repository:${team.repo}:pull`, {
      headers: basic("bob", "wrong"),
    });

    expect(res.status).toBe(401);
    expect(await errorCodes(res)).toEqual(["UNAUTHORIZED"]);
  });

  test("an invalid scope is 400", async () => {
    const res = await fetch(`${url}/token?scope=repository:Bad Name:pull`, { headers: as("bob") });

    expect(res.status).toBe(400);
  });

  test("a token for another service is 400", async () => {
    const res = await fetch(`${url}/token?service=elsewhere.example`, { headers: as("bob") });

    expect(res.status).toBe(400);
  });
});

describe("Bearer: POST /token (OAuth2)", () => {
  function post(form: Record<string, string>) {
    return fetch(`${url}/token`, {
      method: "POST",
      body: new URLSearchParams(form),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
  }

  test("password grant with access_type=offline, then a refresh grant for more scope", async () => {
    const first = await post({
      grant_type: "password",
      username: "alice",
      password: PASSWORDS.alice,
      service,
      client_id: "test",
      access_type: "offline",
      scope: `repository:${team.repo}:pull`,
    });
    const firstBody = (await first.json()) as Record<string, string>;
    const second = await post({
      grant_type: "refresh_token",
      refresh_token: firstBody.refresh_token ?? "",
      service,
      client_id: "test",
      scope: `repository:${team.repo}:pull,push repository:${secret.repo}:pull`,
    });
    const secondBody = (await second.json()) as Record<string, string>;

    expect(first.status).toBe(200);
    expect(firstBody.scope).toBe(`repository:${team.repo}:pull`);
    expect(second.status).toBe(200);
    expect(secondBody.refresh_token).toBe(firstBody.refresh_token);
    expect(secondBody.scope).toBe(
      `repository:${team.repo}:pull,push repository:${secret.repo}:pull`,
    );
    expect((await getManifest(secret.repo, bearer(secondBody.access_token ?? ""))).status).toBe(
      200,
    );
  });

  test("a wrong password is 401, a forged refresh token 401, another grant_type 400", async () => {
    const wrong = await post({ grant_type: "password", username: "alice", password: "x" });
    const forgedRefresh = await post({
      grant_type: "refresh_token",
      refresh_token: await forged({ use: "refresh", pwd: "x", access: undefined }),
    });
    const code = await post({ grant_type: "authorization_code", code: "x" });

    expect(wrong.status).toBe(401);
    expect(forgedRefresh.status).toBe(401);
    expect(code.status).toBe(400);
  });

  test("a refresh token is not an access token", async () => {
    const res = await fetch(`${url}/token?offline_token=true`, { headers: as("alice") });
    const { refresh_token } = (await res.json()) as { refresh_token: string };

    const params = await challengeOf(await getManifest(team.repo, bearer(refresh_token)));

    expect(params.error).toBe("invalid_token");
  });
});

describe("Bearer: refusals", () => {
  test("a token for another repository is 401 insufficient_scope, naming the scope", async () => {
    const token = await getToken(url, [`repository:${publicImage.repo}:pull`], "bob");

    const params = await challengeOf(await getManifest(team.repo, bearer(token)));

    expect(params.error).toBe("insufficient_scope");
    expect(params.scope).toBe(`repository:${team.repo}:pull`);
  });

  test("an expired token is 401 invalid_token", async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const token = await forged({ iat: past, nbf: past, exp: past + 300 });

    expect((await challengeOf(await getManifest(team.repo, bearer(token)))).error).toBe(
      "invalid_token",
    );
  });

  test("a token with a tampered payload is 401", async () => {
    const token = await getToken(url, [`repository:${publicImage.repo}:pull`], "bob");
    const [header, payload = "", signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    claims.access = [{ type: "repository", name: secret.repo, actions: ["pull"] }];
    const tampered = `${header}.${toBase64Url(utf8(JSON.stringify(claims)))}.${signature}`;

    expect((await challengeOf(await getManifest(secret.repo, bearer(tampered)))).error).toBe(
      "invalid_token",
    );
  });

  test("a token with alg none is 401", async () => {
    const token = await forged({});
    const header = toBase64Url(utf8(JSON.stringify({ alg: "none", typ: "JWT" })));
    const unsigned = `${header}.${token.split(".")[1]}.`;

    expect((await challengeOf(await getManifest(team.repo, bearer(unsigned)))).error).toBe(
      "invalid_token",
    );
  });

  test("a token signed with another key is 401", async () => {
    const token = await forged({}, OTHER_ES256_KEY);

    expect((await challengeOf(await getManifest(team.repo, bearer(token)))).error).toBe(
      "invalid_token",
    );
  });

  test("a token for another audience is 401", async () => {
    const token = await forged({ aud: "elsewhere.example" });

    expect((await challengeOf(await getManifest(team.repo, bearer(token)))).error).toBe(
      "invalid_token",
    );
  });

  test("pull of a private repository with an anonymous token is 401", async () => {
    const token = await getToken(url, [`repository:${team.repo}:pull`]);

    expect((await challengeOf(await getManifest(team.repo, bearer(token)))).error).toBe(
      "insufficient_scope",
    );
  });

  test("pull of a repository the user may not read is 403", async () => {
    const token = await getToken(url, [`repository:${secret.repo}:pull`], "bob");

    await expectDenied(await getManifest(secret.repo, bearer(token)));
  });

  test("push to a pull-only repository is 403", async () => {
    const repo = randomName("readonly/r");
    const token = await getToken(url, [`repository:${repo}:pull,push`], "bob");

    await expectDenied(await postBlob(url, repo, randomBytes(8), bearer(token)));
  });

  test("delete without the right is 403", async () => {
    const token = await getToken(url, [`repository:${team.repo}:pull,push,delete`], "bob");

    const res = await fetch(`${url}/v2/${team.repo}/manifests/${team.digest}`, {
      method: "DELETE",
      headers: bearer(token),
    });

    await expectDenied(res);
  });

  test("the GC endpoint with a token bob could not get the scope for is 403", async () => {
    const token = await getToken(url, ["registry:gc:delete"], "bob");
    expect(claimsOf(token).access).toEqual([]);

    await expectDenied(await fetch(`${url}/v2/_gc`, { headers: bearer(token) }));
  });

  test("catalog without the right is 403", async () => {
    const token = await getToken(url, ["registry:catalog:*"], "bob");

    await expectDenied(await fetch(`${url}/v2/_catalog`, { headers: bearer(token) }));
  });

  test("mount from a repository the caller cannot read opens a session instead (202)", async () => {
    const target = randomName("team/m");
    const token = await getToken(
      url,
      [`repository:${target}:pull,push`, `repository:${secret.repo}:pull`],
      "bob",
    );

    const res = await fetch(
      `${url}/v2/${target}/blobs/uploads/?mount=${secret.layer}&from=${secret.repo}`,
      { method: "POST", headers: bearer(token) },
    );

    expect(res.status).toBe(202);
  });
});

describe("Bearer: what works", () => {
  test("push, pull and delete with tokens of the right scope", async () => {
    const repo = randomName("team/ok");
    const push = await getToken(url, [`repository:${repo}:pull,push,delete`], "alice");

    const pushed = await pushImageWith(url, repo, "v1", bearer(push));
    const pull = await getToken(url, [`repository:${repo}:pull`], "reader");
    const pulled = await getManifest(repo, bearer(pull));
    const deleted = await fetch(`${url}/v2/${repo}/manifests/${pushed.digest}`, {
      method: "DELETE",
      headers: bearer(push),
    });

    expect(pulled.status).toBe(200);
    expect(deleted.status).toBe(202);
  });

  test("the GC endpoint with a token for registry:gc:delete (alice deletes everywhere)", async () => {
    const token = await getToken(url, ["registry:gc:delete"], "alice");
    expect(claimsOf(token).access).toEqual([{ type: "registry", name: "gc", actions: ["delete"] }]);

    const res = await fetch(`${url}/v2/_gc`, { headers: bearer(token) });

    expect(res.status).toBe(200);
  });

  test("catalog with a token that grants it", async () => {
    const token = await getToken(url, ["registry:catalog:*"], "alice");

    const res = await fetch(`${url}/v2/_catalog`, { headers: bearer(token) });

    expect(res.status).toBe(200);
  });

  test("mount from a repository the token can read is 201", async () => {
    const target = randomName("team/m");
    const token = await getToken(
      url,
      [`repository:${target}:pull,push`, `repository:${team.repo}:pull`],
      "bob",
    );

    const res = await fetch(
      `${url}/v2/${target}/blobs/uploads/?mount=${team.layer}&from=${team.repo}`,
      { method: "POST", headers: bearer(token) },
    );

    expect(res.status).toBe(201);
  });

  test("Basic credentials are accepted by a Bearer registry too", async () => {
    expect((await getManifest(team.repo, as("reader"))).status).toBe(200);
    expect((await fetch(`${url}/v2/`, { headers: as("bob") })).status).toBe(200);
  });
});
