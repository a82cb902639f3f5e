/**
 * docker against a registry with authentication, for both challenge schemes: `docker login`,
 * push and pull; a wrong password and a read-only user refused; and, with the Bearer scheme, an
 * anonymous pull of a public repository with no login. (docker sends nothing to a registry that
 * challenges with Basic until it has credentials, so anonymous docker pulls need Bearer.) The
 * engine is a private dockerd (see support/dockerd.ts).
 *
 * With the Bearer scheme, `docker login` receives a refresh token and keeps it in place of the
 * password; every later push and pull then gets its tokens through the OAuth2 refresh grant.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { authConfig, PASSWORDS, type User } from "../support/auth";
import { type Dockerd, startDockerd } from "../support/dockerd";
import { randomName } from "../support/oci-image";
import { type RegistryServer, startRegistry } from "../support/server";
import { runOk } from "../support/tools";

const TIMEOUT = 120_000;
let engine: Dockerd;
let work: string;

beforeAll(async () => {
  engine = await startDockerd();
  work = join(tmpdir(), randomName("r2-registry-docker"));
  await mkdir(work);
}, TIMEOUT);

afterAll(async () => {
  await engine?.stop();
  if (work) await rm(work, { recursive: true, force: true });
}, TIMEOUT);

/** Imports a one-file image of random bytes into the engine as `reference`; its image ID. */
async function importImage(config: string, reference: string): Promise<string> {
  const dir = join(work, randomName("rootfs"));
  await mkdir(dir);
  await writeFile(join(dir, "random.bin"), randomBytes(32 * 1024));
  const tarball = `${dir}.tar`;
  await runOk(["tar", "-C", dir, "-cf", tarball, "."]);
  return (await engine.docker(config, "import", tarball, reference)).trim();
}

async function login(config: string, host: string, user: User) {
  await engine.docker(config, "login", "-u", user, "-p", PASSWORDS[user], host);
}

async function imageId(config: string, reference: string): Promise<string> {
  return (await engine.docker(config, "image", "inspect", "--format", "{{.Id}}", reference)).trim();
}

for (const scheme of ["basic", "bearer"] as const) {
  describe(`${scheme} scheme: docker`, () => {
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
      "docker login, push, and pull back after the image is removed",
      async () => {
        const config = await engine.newConfig();
        const reference = `${host}/${randomName("team/docker")}:v1`;
        const id = await importImage(config, reference);

        await login(config, host, "bob");
        await engine.docker(config, "push", reference);
        await engine.docker(config, "rmi", reference);
        await engine.docker(config, "pull", reference);
        const stored = JSON.parse(await readFile(join(config, "config.json"), "utf8"));

        expect(await imageId(config, reference)).toBe(id);
        if (scheme === "bearer") {
          expect(typeof stored.auths[host].identitytoken).toBe("string");
          expect(JSON.stringify(stored)).not.toContain(btoa(`bob:${PASSWORDS.bob}`));
        } else {
          expect(stored.auths[host].auth).toBe(btoa(`bob:${PASSWORDS.bob}`));
        }
      },
      TIMEOUT,
    );

    test(
      "docker login with a wrong password fails",
      async () => {
        const config = await engine.newConfig();

        const result = await engine.tryDocker(config, "login", "-u", "bob", "-p", "wrong", host);

        expect(result.exitCode).not.toBe(0);
        expect(result.stderr).toMatch(/unauthorized|incorrect|invalid/i);
      },
      TIMEOUT,
    );

    test(
      "docker push by a read-only user is denied",
      async () => {
        const config = await engine.newConfig();
        const reference = `${host}/${randomName("team/readonly")}:v1`;
        await importImage(config, reference);
        await login(config, host, "reader");

        const result = await engine.tryDocker(config, "push", reference);

        expect(result.exitCode).not.toBe(0);
        expect(result.stderr + result.stdout).toMatch(/denied|unauthorized/i);
      },
      TIMEOUT,
    );

    if (scheme !== "bearer") return;
    test(
      "anonymous docker pull of a public repository, with no login",
      async () => {
        const pusher = await engine.newConfig();
        const anonymous = await engine.newConfig();
        const reference = `${host}/${randomName("public/docker")}:v1`;
        const id = await importImage(pusher, reference);
        await login(pusher, host, "alice");
        await engine.docker(pusher, "push", reference);
        await engine.docker(pusher, "rmi", reference);

        await engine.docker(anonymous, "pull", reference);

        expect(await imageId(anonymous, reference)).toBe(id);
      },
      TIMEOUT,
    );
  });
}
