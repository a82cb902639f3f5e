/**
 * The authentication configuration the auth tests run against, the passwords of its users, and
 * helpers to send credentials, fetch tokens and push as a user.
 *
 * The keys and hashes here are made for the tests and guard nothing else.
 */
import {
  descriptor,
  digestOf,
  OCI_CONFIG,
  OCI_LAYER,
  OCI_MANIFEST,
  randomBytes,
  utf8,
} from "./client";

export const PASSWORDS = {
  /** bcrypt, in an htpasswd line. */
  alice: "correct horse battery staple",
  /** PBKDF2, 100,000 iterations. */
  bob: "bob-password-456",
  /** PBKDF2, 10,000 iterations. */
  reader: "reader-password-789",
};
export type User = keyof typeof PASSWORDS;

/** Written by `htpasswd -nbB alice 'correct horse battery staple'` (apache2-utils 2.4). */
export const ALICE_HTPASSWD = "alice:$2y$05$ds6ti7fOHfiYMXb9jiiav.CY3yf1AhsW6ziE/LbDHlA5rXIDkHQQS";
const BOB_HASH =
  "$pbkdf2-sha256$i=100000$32YafwZS/lPs2IhbdRxZbA$gwQvVZIewRIT9ZWfdUzUYXAx4x9bDxqXUxiWnYWwGbQ";
const READER_HASH =
  "$pbkdf2-sha256$i=10000$ZatzBaA76Qcq5vkT1krabw$3VNc2xkL30ZDOsDt+wjizCHhiZezMe8yZ39iEB2UVUY";

/** The registry's ES256 key (made with `openssl genpkey -algorithm EC`, P-256). */
export const ES256_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglzZdG+WySRt2dNvi
8mk02C7Fl1uTDudKtDVX23sKHyyhRANCAAS9HWo7vDKcnZv3KIr9MSzZHJp5xqQP
jFYwZ9QDapEfbgU9ONr1fSKk9QiUByZtQVEIUkJUEn9UPRT4tLIYT4kb
-----END PRIVATE KEY-----`;

/** A key the registry does not know, for forged tokens. */
export const OTHER_ES256_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYXr4P8AeDuXGDVx4
+MUVsV3IYkeL3powECuYTvtwkZGhRANCAATu/94jsdHtyD1X7pCSAjAfiHRYgoPx
6q3gzt8QRsj3zwdin8gzDNjQHe6sPPRyvNyYFLmqsU7wYHjbX6MHog8G
-----END PRIVATE KEY-----`;

export const HS256_SECRET = "a test secret of more than thirty-two bytes";
export const ISSUER = "r2-registry-test";

/**
 * Repositories by prefix: `public/` anyone pulls; `team/` alice and bob push, alice deletes,
 * reader pulls; `readonly/` bob and reader pull; `secret/` only alice. Only alice lists the
 * catalog.
 */
export function authConfig(scheme: "basic" | "bearer"): string {
  const token =
    scheme === "bearer"
      ? { algorithm: "ES256", key: ES256_KEY, issuer: ISSUER }
      : { algorithm: "HS256", key: HS256_SECRET, issuer: ISSUER };
  return JSON.stringify({
    scheme,
    realm: "r2-registry tests",
    token,
    users: { bob: BOB_HASH, reader: READER_HASH },
    htpasswd: `# users of Distribution\n${ALICE_HTPASSWD}\n`,
    access: [
      { repository: "public/**", users: ["anonymous"], actions: ["pull"] },
      { repository: "**", users: ["alice"], actions: ["*"] },
      { repository: "team/**", users: ["bob"], actions: ["pull", "push"] },
      { repository: ["team/**", "readonly/**"], users: ["reader"], actions: ["pull"] },
      { repository: "readonly/**", users: ["bob"], actions: ["pull"] },
      { catalog: true, users: ["alice"] },
    ],
  });
}

export function basic(user: string, password: string): Record<string, string> {
  const bytes = utf8(`${user}:${password}`);
  return { Authorization: `Basic ${btoa(String.fromCharCode(...bytes))}` };
}

/** Basic credentials of one of the configured users. */
export function as(user: User): Record<string, string> {
  return basic(user, PASSWORDS[user]);
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** `GET /token` for `scopes`, as `user` or anonymously; throws unless the answer is 200. */
export async function getToken(url: string, scopes: string[], user?: User): Promise<string> {
  const query = new URLSearchParams(scopes.map((scope): [string, string] => ["scope", scope]));
  const res = await fetch(`${url}/token?${query}`, { headers: user ? as(user) : {} });
  if (res.status !== 200) throw new Error(`GET /token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** The claims of a JWT, read without checking anything. */
export function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}

/** A `WWW-Authenticate` header taken apart: its scheme and parameters. */
export function parseChallenge(header: string | null): {
  scheme: string;
  params: Record<string, string>;
} {
  const [scheme = "", rest = ""] = (header ?? "").split(/ (.*)/s);
  const params: Record<string, string> = {};
  for (const match of rest.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    params[match[1] ?? ""] = (match[2] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme, params };
}

/** `POST /v2/<repo>/blobs/uploads/?digest=` with `headers`: the whole blob in one request. */
export function postBlob(
  url: string,
  repo: string,
  data: Uint8Array,
  headers: Record<string, string>,
) {
  const target = `${url}/v2/${repo}/blobs/uploads/?digest=${digestOf(data)}`;
  return fetch(target, { method: "POST", body: data, headers });
}

/** Pushes a config, a layer and a manifest tagged `tag` with `headers`; the manifest digest. */
export async function pushImageWith(
  url: string,
  repo: string,
  tag: string,
  headers: Record<string, string>,
): Promise<{ digest: string; layer: string }> {
  const config = utf8(JSON.stringify({ architecture: "amd64", os: "linux", n: Math.random() }));
  const layer = randomBytes(64);
  for (const blob of [config, layer]) {
    const res = await postBlob(url, repo, blob, headers);
    if (res.status !== 201) throw new Error(`POST blob: ${res.status} ${await res.text()}`);
  }
  const manifest = utf8(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(config, OCI_CONFIG),
      layers: [descriptor(layer, OCI_LAYER)],
    }),
  );
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    body: manifest,
    headers: { ...headers, "Content-Type": OCI_MANIFEST },
  });
  if (res.status !== 201) throw new Error(`PUT manifest: ${res.status} ${await res.text()}`);
  return { digest: digestOf(manifest), layer: digestOf(layer) };
}
