/** Password hashes: htpasswd's bcrypt, PBKDF2 of our own, and the memory of successful checks. */
import { describe, expect, test } from "bun:test";
import { pbkdf2Sync } from "node:crypto";
import { hashKind, hashPassword, verifyPassword } from "../../src/auth/passwords";
import { Users } from "../../src/auth/users";

/** Written by `htpasswd -nbB alice 'correct horse battery staple'` (apache2-utils 2.4). */
const HTPASSWD_LINE = "alice:$2y$05$ds6ti7fOHfiYMXb9jiiav.CY3yf1AhsW6ziE/LbDHlA5rXIDkHQQS";
const HTPASSWD_HASH = HTPASSWD_LINE.slice("alice:".length);
const PASSWORD = "correct horse battery staple";

describe("bcrypt", () => {
  test("a hash written by htpasswd -B verifies its password, and no other", async () => {
    expect(hashKind(HTPASSWD_HASH)).toBe("bcrypt");
    expect(await verifyPassword(PASSWORD, HTPASSWD_HASH)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", HTPASSWD_HASH)).toBe(false);
    expect(await verifyPassword("", HTPASSWD_HASH)).toBe(false);
  });

  test("$2a$ and $2b$ hashes are read too", async () => {
    const made = await hashPassword("pw", { kind: "bcrypt", cost: 4 });
    const as2a = made.replace(/^\$2b\$/, "$2a$");

    expect(made.startsWith("$2b$04$")).toBe(true);
    expect(await verifyPassword("pw", made)).toBe(true);
    expect(await verifyPassword("pw", as2a)).toBe(true);
  });
});

describe("PBKDF2", () => {
  test("a hash made here is in the PHC format and verifies its password only", async () => {
    const hash = await hashPassword("s3cret", { kind: "pbkdf2", iterations: 1000 });

    expect(hash).toMatch(/^\$pbkdf2-sha256\$i=1000\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword("s3cret", hash)).toBe(true);
    expect(await verifyPassword("s3cret ", hash)).toBe(false);
  });

  test("a hash derived by another implementation (node:crypto) verifies", async () => {
    const salt = Buffer.from("sixteen byte salt".slice(0, 16));
    const key = pbkdf2Sync("password", salt, 4096, 32, "sha256");
    const unpadded = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "");
    const hash = `$pbkdf2-sha256$i=4096$${unpadded(salt)}$${unpadded(key)}`;

    expect(await verifyPassword("password", hash)).toBe(true);
    expect(await verifyPassword("Password", hash)).toBe(false);
  });

  test("more iterations than workerd derives, or a malformed hash, is no supported kind", () => {
    expect(hashKind("$pbkdf2-sha256$i=100001$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAA")).toBe(
      null,
    );
    expect(hashKind("$pbkdf2-sha256$i=1000$c2FsdA$AAAA")).toBe(null);
    expect(hashKind("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")).toBe(null);
    expect(hashKind("$apr1$salt$hash")).toBe(null);
  });

  test("hashPassword refuses iterations workerd would not derive", async () => {
    await expect(hashPassword("pw", { kind: "pbkdf2", iterations: 100_001 })).rejects.toThrow();
  });
});

describe("Users", () => {
  test("check: right password, wrong password, unknown user", async () => {
    const users = new Users(new Map([["alice", HTPASSWD_HASH]]));

    expect(await users.check("alice", PASSWORD)).toBe(true);
    expect(await users.check("alice", "wrong")).toBe(false);
    expect(await users.check("mallory", PASSWORD)).toBe(false);
  });

  test("a successful check is remembered for its time, and a wrong password never is", async () => {
    let now = 0;
    const hash = await hashPassword("pw", { kind: "pbkdf2", iterations: 100_000 });
    const users = new Users(new Map([["u", hash]]), { ttlMs: 60_000, now: () => now });
    const time = async (password: string) => {
      const start = performance.now();
      const ok = await users.check("u", password);
      return { ok, ms: performance.now() - start };
    };

    const first = await time("pw");
    const remembered = await time("pw");
    const wrong = await time("pw!");
    now = 61_000;
    const expired = await time("pw");

    expect([first.ok, remembered.ok, wrong.ok, expired.ok]).toEqual([true, true, false, true]);
    expect(remembered.ms).toBeLessThan(first.ms / 4);
    expect(wrong.ms).toBeGreaterThan(remembered.ms * 4);
    expect(expired.ms).toBeGreaterThan(remembered.ms * 4);
  });
});
