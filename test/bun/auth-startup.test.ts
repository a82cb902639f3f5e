/** The Bun server's start with and without an authentication configuration. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Starts `bun src/local.ts` on a free port and collects what it prints until `until` is seen. */
async function startAndRead(env: Record<string, string>, until: RegExp) {
  const dir = await mkdtemp(join(tmpdir(), "r2-registry-startup-"));
  dirs.push(dir);
  const proc = Bun.spawn([process.execPath, "src/local.ts"], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", DATA_DIR: join(dir, "data"), ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += new TextDecoder().decode(chunk);
  };
  const done = Promise.all([read(proc.stdout), read(proc.stderr)]);
  const deadline = Date.now() + 15_000;
  while (!until.test(output) && proc.exitCode === null && Date.now() < deadline) {
    await Bun.sleep(50);
  }
  if (proc.exitCode === null) proc.kill();
  const exitCode = await proc.exited;
  await done;
  return { output, exitCode, dir };
}

describe("Bun server start", () => {
  test("without AUTH_CONFIG it serves, and warns that anyone can push and delete", async () => {
    const { output } = await startAndRead({ AUTH_CONFIG: "" }, /authentication is off/);

    expect(output).toContain('"level":"warn"');
    expect(output).toContain("anyone who can reach this server can push and delete");
  });

  test("with an unusable AUTH_CONFIG it exits 1, naming the problem and no secret", async () => {
    const dir = await mkdtemp(join(tmpdir(), "r2-registry-startup-"));
    dirs.push(dir);
    const path = join(dir, "auth.json");
    await writeFile(path, JSON.stringify({ users: { alice: "plaintext-SECRET" } }));

    const { output, exitCode } = await startAndRead({ AUTH_CONFIG: path }, /cannot start/);

    expect(exitCode).toBe(1);
    expect(output).toContain("users.alice: not a supported password hash");
    expect(output).not.toContain("SECRET");
  });

  test("with AUTH_CONFIG naming no file it exits 1", async () => {
    const { output, exitCode } = await startAndRead(
      { AUTH_CONFIG: "/nonexistent/auth.json" },
      /cannot start/,
    );

    expect(exitCode).toBe(1);
    expect(output).toContain("no file at /nonexistent/auth.json");
  });
});
