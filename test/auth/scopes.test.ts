/** Scopes of the token specification: the grammar, merging, and what a grant covers. */
import { describe, expect, test } from "bun:test";
import { covers, formatScope, parseScope, parseScopes } from "../../src/auth/scopes";
import { RegistryError } from "../../src/registry/errors";

describe("parseScope", () => {
  test("type, name and actions of a repository scope", () => {
    expect(parseScope("repository:team/app:pull,push")).toEqual({
      type: "repository",
      name: "team/app",
      actions: ["pull", "push"],
    });
  });

  test("a name with a host and port keeps its colon", () => {
    const scope = parseScope("repository:localhost:5000/foo/bar:pull,push");

    expect(scope).toEqual({
      type: "repository",
      name: "localhost:5000/foo/bar",
      actions: ["pull", "push"],
    });
    expect(formatScope(scope)).toBe("repository:localhost:5000/foo/bar:pull,push");
  });

  test("the catalog scope, and a resource class that is dropped", () => {
    expect(parseScope("registry:catalog:*")).toEqual({
      type: "registry",
      name: "catalog",
      actions: ["*"],
    });
    expect(parseScope("repository(plugin):a/b:pull").type).toBe("repository");
  });

  test("separators of the name grammar: '.', '_', '__' and runs of '-'", () => {
    expect(parseScope("repository:a.b_c__d--e/f:pull").name).toBe("a.b_c__d--e/f");
  });

  test("scopes that break the grammar are 400", () => {
    const bad = [
      "repository",
      "repository:team/app",
      "Repository:team/app:pull",
      "repository:team/App:pull",
      "repository:team//app:pull",
      "repository:team/app:PULL",
      "repository:-team/app:pull",
      "repository:host:port/app:pull",
    ];

    for (const text of bad) {
      expect(() => parseScope(text)).toThrow(RegistryError);
    }
  });
});

describe("parseScopes", () => {
  test("several parameters, each a space-separated list, merged per resource", () => {
    const scopes = parseScopes([
      "repository:a/b:pull repository:c/d:push",
      "repository:a/b:push,pull",
      "",
    ]);

    expect(scopes).toEqual([
      { type: "repository", name: "a/b", actions: ["pull", "push"] },
      { type: "repository", name: "c/d", actions: ["push"] },
    ]);
  });

  test("repeated and empty actions are dropped", () => {
    expect(parseScopes(["repository:a:pull,,pull"])[0]?.actions).toEqual(["pull"]);
  });
});

describe("covers", () => {
  const granted = [{ type: "repository", name: "a/b", actions: ["pull", "push"] }];

  test("every needed action on the same resource", () => {
    expect(covers(granted, { type: "repository", name: "a/b", actions: ["pull"] })).toBe(true);
    expect(covers(granted, { type: "repository", name: "a/b", actions: ["pull", "push"] })).toBe(
      true,
    );
  });

  test("not another action, another name or another type", () => {
    expect(covers(granted, { type: "repository", name: "a/b", actions: ["delete"] })).toBe(false);
    expect(covers(granted, { type: "repository", name: "a/c", actions: ["pull"] })).toBe(false);
    expect(covers(granted, { type: "registry", name: "a/b", actions: ["pull"] })).toBe(false);
  });
});
