/** `bun run user-add`: the configuration entry it prints for a password read from stdin. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseAuthConfig } from "../../src/auth/config";
import { verifyPassword } from "../../src/auth/passwords";

const SCRIPT = join(import.meta.dir, "..", "..", "scripts", "user-add.ts");

async function userAdd(args: string[], input: string) {
  const proc = Bun.spawn([process.execPath, SCRIPT, ...args], {
    stdin: new TextEncoder().encode(input),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, exitCode };
}

/** The `"name": "hash"` line as the configuration would read it. */
function entry(stdout: string): [string, string] {
  const users = JSON.parse(`{${stdout}}`) as Record<string, string>;
  const [pair] = Object.entries(users);
  if (!pair) throw new Error(`no entry in ${stdout}`);
  return pair;
}

describe("user-add", () => {
  test("prints a PBKDF2 entry the configuration accepts, which verifies the password", async () => {
    const { stdout, exitCode } = await userAdd(["ci"], "s3cret pass\n");
    const [name, hash] = entry(stdout);

    expect(exitCode).toBe(0);
    expect(name).toBe("ci");
    expect(hash.startsWith("$pbkdf2-sha256$i=100000$")).toBe(true);
    expect(await verifyPassword("s3cret pass", hash)).toBe(true);
    expect(parseAuthConfig(`{"users": {${stdout}}}`).users.get("ci")).toBe(hash);
  });

  test("--bcrypt prints a bcrypt hash of the given cost", async () => {
    const { stdout } = await userAdd(["ci", "--bcrypt", "--cost", "4"], "pw\n");
    const [, hash] = entry(stdout);

    expect(hash.startsWith("$2b$04$")).toBe(true);
    expect(await verifyPassword("pw", hash)).toBe(true);
  });

  test("no name, an empty password or too many iterations: exit 2 and a message", async () => {
    const results = [
      await userAdd([], "pw\n"),
      await userAdd(["ci"], "\n"),
      await userAdd(["ci", "--iterations", "200000"], "pw\n"),
    ];

    expect(results.map((r) => r.exitCode)).toEqual([2, 2, 2]);
    expect(results.map((r) => r.stdout)).toEqual(["", "", ""]);
    expect(results[0]?.stderr).toContain("usage:");
    expect(results[2]?.stderr).toContain("100000");
  });
});
