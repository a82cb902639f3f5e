/** JWT signing and verification, and the access and refresh tokens built on them. */
import { describe, expect, test } from "bun:test";
import { fromBase64Url, toBase64Url, utf8 } from "../../src/auth/base64";
import { importSigningKey, signJwt, verifyJwt } from "../../src/auth/jwt";
import { Tokens } from "../../src/auth/tokens";
import { ES256_KEY, HS256_SECRET, OTHER_ES256_KEY } from "../support/auth";

const es256 = await importSigningKey("ES256", ES256_KEY);
const hs256 = await importSigningKey("HS256", HS256_SECRET);
const PULL = [{ type: "repository", name: "team/app", actions: ["pull"] }];

/** `token` with its payload replaced by `claims`, the signature kept. */
function withPayload(token: string, claims: object): string {
  const [header, , signature] = token.split(".");
  return `${header}.${toBase64Url(utf8(JSON.stringify(claims)))}.${signature}`;
}

function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(
    new TextDecoder().decode(fromBase64Url(token.split(".")[0] ?? "") ?? undefined),
  );
}

describe("JWT", () => {
  test("ES256 and HS256: what is signed verifies, with the claims as signed", async () => {
    for (const key of [es256, hs256]) {
      const token = await signJwt(key, { sub: "alice", n: 1 });

      expect(await verifyJwt(key, token)).toEqual({ sub: "alice", n: 1 });
      expect(headerOf(token).alg).toBe(key.algorithm);
    }
  });

  test("ES256: the key's RFC 7638 thumbprint as kid, a 64-byte signature", async () => {
    const token = await signJwt(es256, {});

    expect(headerOf(token).kid).toBe(es256.keyId);
    expect(es256.keyId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fromBase64Url(token.split(".")[2] ?? "")?.length).toBe(64);
  });

  test("a key given as a JWK signs like the same key in PEM", async () => {
    const pkcs8 = await crypto.subtle.importKey(
      "pkcs8",
      Buffer.from(ES256_KEY.replace(/-----[A-Z ]+-----|\s/g, ""), "base64"),
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign"],
    );
    const jwk = await importSigningKey("ES256", await crypto.subtle.exportKey("jwk", pkcs8));

    expect(await verifyJwt(es256, await signJwt(jwk, { a: 1 }))).toEqual({ a: 1 });
    expect(jwk.keyId).toBe(es256.keyId);
  });

  test("refused: tampered payload, another key, alg none, HS256 for an ES256 key", async () => {
    const token = await signJwt(es256, { sub: "bob" });
    const other = await importSigningKey("ES256", OTHER_ES256_KEY);
    const none = `${toBase64Url(utf8('{"alg":"none"}'))}.${token.split(".")[1]}.`;
    const confused = await signJwt(hs256, { sub: "bob" });

    expect(await verifyJwt(es256, withPayload(token, { sub: "alice" }))).toBe(null);
    expect(await verifyJwt(es256, await signJwt(other, { sub: "bob" }))).toBe(null);
    expect(await verifyJwt(es256, none)).toBe(null);
    expect(await verifyJwt(es256, confused)).toBe(null);
    expect(await verifyJwt(es256, "not.a.jwt")).toBe(null);
    expect(await verifyJwt(es256, "")).toBe(null);
  });

  test("keys that are too weak or of the wrong kind are refused", async () => {
    await expect(importSigningKey("HS256", "short")).rejects.toThrow("32 bytes");
    await expect(importSigningKey("ES256", "not a pem")).rejects.toThrow();
    await expect(importSigningKey("ES256", { kty: "EC", crv: "P-256" })).rejects.toThrow();
  });
});

describe("Tokens", () => {
  let now = 1_800_000_000_000;
  const tokens = new Tokens({
    key: es256,
    issuer: "issuer",
    expiresIn: 300,
    refreshExpiresIn: 3600,
    now: () => now,
  });

  test("an access token has the specification's claims and verifies for its service", async () => {
    const issued = await tokens.issue("alice", "registry.test", PULL);
    const claims = await verifyJwt(es256, issued.token);

    expect(claims).toMatchObject({
      iss: "issuer",
      sub: "alice",
      aud: "registry.test",
      iat: 1_800_000_000,
      nbf: 1_800_000_000,
      exp: 1_800_000_300,
      access: PULL,
    });
    expect(claims?.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(issued.issuedAt).toBe("2027-01-15T08:00:00Z");
    expect(await tokens.verifyAccess(issued.token, "registry.test")).toEqual({
      subject: "alice",
      access: PULL,
    });
  });

  test("an anonymous token has an empty subject", async () => {
    const issued = await tokens.issue(null, "registry.test", PULL);

    expect((await verifyJwt(es256, issued.token))?.sub).toBe("");
    expect((await tokens.verifyAccess(issued.token, "registry.test"))?.subject).toBe(null);
  });

  test("refused: another service, expired, not yet valid, another issuer", async () => {
    const issued = await tokens.issue("alice", "registry.test", PULL);
    const claims = (await verifyJwt(es256, issued.token)) ?? {};
    const resigned = (changes: object) => signJwt(es256, { ...claims, ...changes });

    expect(await tokens.verifyAccess(issued.token, "other.test")).toBe(null);
    expect(await tokens.verifyAccess(await resigned({ exp: 1_799_999_999 }), "registry.test")).toBe(
      null,
    );
    expect(await tokens.verifyAccess(await resigned({ nbf: 1_800_000_100 }), "registry.test")).toBe(
      null,
    );
    expect(await tokens.verifyAccess(await resigned({ iss: "evil" }), "registry.test")).toBe(null);
    expect(await tokens.verifyAccess(await resigned({ access: "all" }), "registry.test")).toBe(
      null,
    );
  });

  test("an access token expires after expiresIn", async () => {
    const issued = await tokens.issue("alice", "registry.test", PULL);
    now += 300_000;

    expect(await tokens.verifyAccess(issued.token, "registry.test")).toBe(null);
  });

  test("refresh and access tokens do not pass for each other", async () => {
    const refresh = await tokens.issueRefresh("alice", "registry.test", "fingerprint");
    const access = await tokens.issue("alice", "registry.test", PULL);

    expect(await tokens.verifyRefresh(refresh, "registry.test")).toEqual({
      subject: "alice",
      fingerprint: "fingerprint",
    });
    expect(await tokens.verifyAccess(refresh, "registry.test")).toBe(null);
    expect(await tokens.verifyRefresh(access.token, "registry.test")).toBe(null);
  });
});
