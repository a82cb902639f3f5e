/**
 * Real clients against a registry with authentication, for both challenge schemes: skopeo with
 * `--creds` and after `skopeo login`, podman after `podman login`, the refusals they report, and
 * an anonymous pull of a public repository with no login at all.
 *
 * Every client gets an auth file of its own (`--authfile`), so no login leaks between tests or
 * from the machine; podman gets a store of its own, as in podman.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authConfig, PASSWORDS, type User } from "../support/auth";
import { buildImage, readImage, randomName, sha256 } from "../support/oci-image";
import { type RegistryServer, startRegistry } from "../support/server";
import { PodmanStores } from "../support/podman";
import { run, runOk } from "../support/tools";

const TIMEOUT = 120_000;
let work: string;
let stores: PodmanStores;

beforeAll(async () => {
  work = join(tmpdir(), randomName("r2-registry-auth-e2e"));
  await mkdir(work);
  stores = new PodmanStores(work);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  await stores?.cleanup();
});

function skopeo(...args: string[]) {
  return runOk(["skopeo", "--insecure-policy", ...args], { timeoutMs: TIMEOUT });
}

function creds(user: User): string {
  return `${user}:${PASSWORDS[user]}`;
}

/** A fresh auth file with no credentials in it. */
async function authFile(): Promise<string> {
  const path = join(work, `${randomName("auth")}.json`);
  await writeFile(path, "{}");
  return path;
}

/** An OCI layout in the work directory holding one small image tagged `v1`. */
async function layout() {
  const dir = join(work, randomName("layout"));
  const image = await buildImage(dir, {
    layers: [{ files: { "etc/motd": "auth e2e\n", "a.bin": 16 * 1024 } }],
    tag: "v1",
  });
  return { dir, image };
}

for (const scheme of ["basic", "bearer"] as const) {
  describe(`${scheme} scheme: real clients`, () => {
    let registry: RegistryServer;
    let host: string;

    beforeAll(async () => {
      registry = await startRegistry({ authConfig: authConfig(scheme) });
      host = new URL(registry.url).host;
    });

    afterAll(async () => {
      await registry?.stop();
    });

    test(
      "skopeo --creds: bob pushes, the read-only user reads it back",
      async () => {
        const { dir, image } = await layout();
        const target = `docker://${host}/${randomName("team/skopeo")}:v1`;

        await skopeo(
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          creds("bob"),
          `oci:${dir}:v1`,
          target,
        );
        const raw = await skopeo(
          "inspect",
          "--tls-verify=false",
          "--creds",
          creds("reader"),
          "--raw",
          target,
        );

        expect(sha256(raw)).toBe(image.manifest.digest);
      },
      TIMEOUT,
    );

    test(
      "skopeo login, then push and pull without --creds",
      async () => {
        const { dir, image } = await layout();
        const auth = await authFile();
        const target = `docker://${host}/${randomName("team/login")}:v1`;
        const out = join(work, randomName("pulled"));

        await skopeo(
          "login",
          "--authfile",
          auth,
          "--tls-verify=false",
          "-u",
          "alice",
          "-p",
          PASSWORDS.alice,
          host,
        );
        await skopeo(
          "copy",
          "--authfile",
          auth,
          "--dest-tls-verify=false",
          `oci:${dir}:v1`,
          target,
        );
        await skopeo("copy", "--authfile", auth, "--src-tls-verify=false", target, `oci:${out}:v1`);
        const pulled = await readImage(out, "v1");
        const stored = JSON.parse(await readFile(auth, "utf8"));

        expect(pulled.manifest.digest).toBe(image.manifest.digest);
        expect(Object.keys(stored.auths)).toEqual([host]);
      },
      TIMEOUT,
    );

    test(
      "skopeo is refused: no credentials, a wrong password, a push by a read-only user",
      async () => {
        const { dir } = await layout();
        const repo = randomName("team/refused");
        const target = `docker://${host}/${repo}:v1`;
        const anonymous = await authFile();
        await skopeo(
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          creds("alice"),
          `oci:${dir}:v1`,
          target,
        );

        const noCredentials = await run([
          "skopeo",
          "inspect",
          "--authfile",
          anonymous,
          "--tls-verify=false",
          "--raw",
          target,
        ]);
        const wrongPassword = await run([
          "skopeo",
          "login",
          "--authfile",
          anonymous,
          "--tls-verify=false",
          "-u",
          "alice",
          "-p",
          "wrong",
          host,
        ]);
        const readOnly = await run([
          "skopeo",
          "--insecure-policy",
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          creds("reader"),
          `oci:${dir}:v1`,
          `docker://${host}/${repo}:v2`,
        ]);

        expect(noCredentials.exitCode).not.toBe(0);
        expect(noCredentials.stderr).toMatch(/unauthorized|authentication required/i);
        expect(wrongPassword.exitCode).not.toBe(0);
        expect(readOnly.exitCode).not.toBe(0);
        expect(readOnly.stderr).toMatch(/denied|unauthorized/i);
      },
      TIMEOUT,
    );

    test(
      "podman login, push, and pull into a fresh store",
      async () => {
        const { dir, image } = await layout();
        const auth = await authFile();
        const reference = `${host}/${randomName("team/podman")}:v1`;
        const { podman: pusher } = await stores.create("pusher");
        const { podman: puller } = await stores.create("puller");
        const digestFile = join(work, randomName("digest"));
        await pusher("pull", "--quiet", `oci:${dir}:v1`);

        await pusher(
          "login",
          "--authfile",
          auth,
          "--tls-verify=false",
          "-u",
          "bob",
          "-p",
          PASSWORDS.bob,
          host,
        );
        await pusher(
          "push",
          "--authfile",
          auth,
          "--tls-verify=false",
          `--digestfile=${digestFile}`,
          image.config.digest.slice("sha256:".length),
          `docker://${reference}`,
        );
        await puller("pull", "--quiet", "--authfile", auth, "--tls-verify=false", reference);
        const [pulled] = JSON.parse(await puller("image", "inspect", reference));

        expect(pulled.Digest).toBe((await readFile(digestFile, "utf8")).trim());
        expect(`sha256:${pulled.Id}`).toBe(image.config.digest);
      },
      TIMEOUT,
    );

    test(
      "anonymous pull of a public repository with no login: skopeo and podman",
      async () => {
        const { dir, image } = await layout();
        const reference = `${host}/${randomName("public/anon")}:v1`;
        const anonymous = await authFile();
        const out = join(work, randomName("pulled"));
        const { podman: puller } = await stores.create("anonymous");
        await skopeo(
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          creds("alice"),
          `oci:${dir}:v1`,
          `docker://${reference}`,
        );

        await skopeo(
          "copy",
          "--authfile",
          anonymous,
          "--src-tls-verify=false",
          `docker://${reference}`,
          `oci:${out}:v1`,
        );
        await puller("pull", "--quiet", "--authfile", anonymous, "--tls-verify=false", reference);
        const [pulled] = JSON.parse(await puller("image", "inspect", reference));

        expect((await readImage(out, "v1")).manifest.digest).toBe(image.manifest.digest);
        expect(`sha256:${pulled.Id}`).toBe(image.config.digest);
      },
      TIMEOUT,
    );
  });
}
