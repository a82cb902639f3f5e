/** The configuration document: what it accepts, its defaults, and errors that leak nothing. */
import { describe, expect, test } from "bun:test";
import { Authenticator } from "../../src/auth/authenticator";
import { AuthConfigError, parseAuthConfig } from "../../src/auth/config";
import { ALICE_HTPASSWD, authConfig, ES256_KEY, PASSWORDS } from "../support/auth";

const HASH = ALICE_HTPASSWD.slice("alice:".length);

function parse(document: object) {
  return parseAuthConfig(JSON.stringify(document));
}

describe("parseAuthConfig", () => {
  test("the test configuration: users from users and htpasswd, rules in order", () => {
    const config = parseAuthConfig(authConfig("bearer"));

    expect(config.scheme).toBe("bearer");
    expect([...config.users.keys()].sort()).toEqual(["alice", "bob", "reader"]);
    expect(config.rules[0]).toEqual({
      repositories: ["public/**"],
      catalog: false,
      users: ["anonymous"],
      actions: ["pull"],
    });
    expect(config.rules[1]?.actions).toEqual(["pull", "push", "delete"]);
    expect(config.rules.at(-1)?.catalog).toBe(true);
  });

  test("defaults: basic without a token key, bearer with one; realm and token lifetimes", () => {
    const basic = parse({ users: { alice: HASH } });
    const bearer = parse({ token: { algorithm: "ES256", key: ES256_KEY } });

    expect(basic.scheme).toBe("basic");
    expect(basic.realm).toBe("r2-registry");
    expect(basic.rules).toEqual([]);
    expect(bearer.scheme).toBe("bearer");
    expect(bearer.token).toMatchObject({ issuer: "r2-registry", expiresIn: 300 });
  });

  test("htpasswd: blank lines and comments skipped, a line without a colon refused", () => {
    expect(parse({ htpasswd: `\n# c\n  ${ALICE_HTPASSWD}  \n` }).users.get("alice")).toBe(HASH);
    expect(() => parse({ htpasswd: "# c\nalice\n" })).toThrow("htpasswd line 2");
  });

  const refusals: [string, object, string][] = [
    ["unknown key", { user: {} }, 'unknown key "user"'],
    ["bearer without key", { scheme: "bearer" }, 'needs "token"'],
    ["unsupported hash", { users: { alice: "{SHA}abc" } }, "users.alice: not a supported"],
    ["reserved user name", { users: { anonymous: HASH } }, "cannot be a user name"],
    ["a user twice", { users: { alice: HASH }, htpasswd: ALICE_HTPASSWD }, "given twice"],
    [
      "rule for an unknown user",
      {
        users: { alice: HASH },
        access: [{ repository: "**", users: ["al1ce"], actions: ["pull"] }],
      },
      "who is no user",
    ],
    [
      "unknown action",
      { access: [{ repository: "**", users: ["*"], actions: ["read"] }] },
      "access[0].actions",
    ],
    [
      "invalid pattern",
      { access: [{ repository: "Team/**", users: ["*"], actions: ["pull"] }] },
      "invalid pattern",
    ],
    [
      "short token lifetime",
      { token: { algorithm: "HS256", key: "k", expiresIn: 10 } },
      "at least 60",
    ],
  ];
  for (const [what, document, message] of refusals) {
    test(`refused: ${what}`, () => {
      expect(() => parse(document)).toThrow(AuthConfigError);
      expect(() => parse(document)).toThrow(message);
    });
  }

  test("errors never repeat a hash, a key or a password", () => {
    const secret = "$2y$05$SECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRE";
    const messages = [
      () => parse({ users: { alice: `${secret}x` } }),
      () => parse({ token: { algorithm: "HS512", key: secret } }),
      () => parseAuthConfig(`{"users": {"alice": "${secret}"`),
    ].map((attempt) => {
      try {
        attempt();
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    });

    for (const message of messages) {
      expect(message).not.toBe("");
      expect(message).not.toContain("SECRET");
    }
  });
});

describe("Authenticator", () => {
  test("refresh tokens die with a changed password or a removed user", async () => {
    const auth = await Authenticator.create(parseAuthConfig(authConfig("bearer")));
    const token = await auth.refreshToken("alice", "registry.test");
    const changed = JSON.parse(authConfig("bearer"));
    changed.htpasswd = "";
    changed.users.alice =
      "$pbkdf2-sha256$i=1000$c2l4dGVlbiBieXRlIHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const afterChange = await Authenticator.create(parseAuthConfig(JSON.stringify(changed)));
    delete changed.users.alice;
    changed.access = [];
    const afterRemoval = await Authenticator.create(parseAuthConfig(JSON.stringify(changed)));

    expect(token).not.toBe(null);
    expect(await auth.refreshTokenUser(token ?? "", "registry.test")).toBe("alice");
    expect(await auth.refreshTokenUser(token ?? "", "other.test")).toBe(null);
    expect(await afterChange.refreshTokenUser(token ?? "", "registry.test")).toBe(null);
    expect(await afterRemoval.refreshTokenUser(token ?? "", "registry.test")).toBe(null);
  });

  test("login checks the configured users", async () => {
    const auth = await Authenticator.create(parseAuthConfig(authConfig("basic")));

    expect(await auth.login("alice", PASSWORDS.alice)).toBe(true);
    expect(await auth.login("bob", PASSWORDS.bob)).toBe(true);
    expect(await auth.login("bob", PASSWORDS.alice)).toBe(false);
  });
});
