/** The README's configuration example is accepted, and means what the README says. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Authenticator } from "../../src/auth/authenticator";
import { parseAuthConfig } from "../../src/auth/config";

const README = join(import.meta.dir, "..", "..", "README.md");

async function readmeExample(): Promise<string> {
  const text = await Bun.file(README).text();
  const section = text.slice(text.indexOf("## Authentication"));
  const match = /```json\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error("README has no JSON example under Authentication");
  return match[1];
}

describe("README: the authentication example", () => {
  test("parses, imports its key, and grants what its prose says", async () => {
    const auth = await Authenticator.create(parseAuthConfig(await readmeExample()));
    const repo = (name: string, actions: string[]) => ({ type: "repository", name, actions });

    expect(auth.scheme).toBe("bearer");
    expect(auth.allows(null, repo("public/base", ["pull"]))).toBe(true);
    expect(auth.allows(null, repo("team/app", ["pull"]))).toBe(false);
    expect(auth.allows("alice", repo("any/thing", ["pull", "push", "delete"]))).toBe(true);
    expect(auth.allows("bob", repo("team", ["push"]))).toBe(true);
    expect(auth.allows("bob", repo("team/app", ["delete"]))).toBe(false);
    expect(auth.allows("ci", repo("other/app", ["pull"]))).toBe(true);
    expect(auth.allows("ci", repo("other/app", ["push"]))).toBe(false);
    expect(auth.allows("alice", { type: "registry", name: "catalog", actions: ["*"] })).toBe(true);
    expect(auth.allows("bob", { type: "registry", name: "catalog", actions: ["*"] })).toBe(false);
    expect(await auth.login("alice", "alice-password")).toBe(true);
    expect(await auth.login("bob", "bob-password")).toBe(true);
  });
});
