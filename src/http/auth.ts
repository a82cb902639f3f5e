/**
 * The gate in front of `/v2/`: what a request needs (see access.ts), who is asking, and whether
 * that is allowed; a refusal is a 401 with the configured scheme's challenge, or a 403.
 *
 * Who asks: Basic credentials are checked against the users (a failure is logged with the user
 * name and source address, nothing else); a Bearer token is verified; no credentials make an
 * anonymous caller. What they may do: a user, or an anonymous caller, what the rules allow; a
 * token what its `access` claim holds, and nothing more even where the rules would allow it.
 *
 * Which refusal: an anonymous caller gets 401, so that it signs in. A token that lacks a scope
 * gets 401 with `error="insufficient_scope"` when the rules would give its user that scope (the
 * client is to fetch a new token) or it is anonymous, else 403 like a user the rules refuse.
 */
import type { MiddlewareHandler } from "hono";
import type { Authenticator } from "../auth/authenticator";
import { covers, formatScope, type ResourceScope } from "../auth/scopes";
import { type Challenge, Denied, Unauthorized } from "../registry/errors";
import { type Requirement, requiredAccess } from "./access";
import { parseAuthorization } from "./auth-headers";
import type { AppContext, AppEnv } from "./env";
import type { Logger } from "./logger";

/** Who is asking. */
export type Caller =
  | { kind: "anonymous" }
  | { kind: "user"; name: string }
  | { kind: "token"; subject: string | null; access: ResourceScope[] };

export function authorize(auth: Authenticator, logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const needed = requiredAccess(c.req.method, c.req.path);
    if (needed === null) return next();

    const caller = await identify(c, auth, logger);
    if (!permits(auth, caller, needed)) refuse(c, auth, caller, needed);
    c.set("mayPull", (name) => permits(auth, caller, pullScope(name)));
    await next();
  };
}

/** The caller of a request; a 401 for credentials that are wrong or a token that is not valid. */
async function identify(c: AppContext, auth: Authenticator, logger: Logger): Promise<Caller> {
  const credentials = parseAuthorization(c.req.header("authorization"));
  switch (credentials.kind) {
    case "none":
      return { kind: "anonymous" };
    case "basic":
      if (await auth.login(credentials.user, credentials.password)) {
        return { kind: "user", name: credentials.user };
      }
      logFailedLogin(c, logger, credentials.user);
      throw new Unauthorized(challenge(c, auth), "invalid username or password");
    case "bearer": {
      const token = await auth.tokens?.verifyAccess(credentials.token, serviceOf(c, auth));
      if (token) return { kind: "token", ...token };
      const invalid = challenge(c, auth, undefined, "invalid_token");
      throw new Unauthorized(invalid, "invalid or expired token");
    }
    default:
      throw new Unauthorized(challenge(c, auth), "unsupported Authorization header");
  }
}

function permits(auth: Authenticator, caller: Caller, needed: Requirement): boolean {
  if (needed === null) return true;
  if (needed === "signed-in") return !auth.signInRequired || caller.kind !== "anonymous";
  if (auth.writesRefused && isWrite(needed)) return false;
  if (caller.kind === "token") return covers(caller.access, needed);
  return auth.allows(caller.kind === "user" ? caller.name : null, needed);
}

function refuse(c: AppContext, auth: Authenticator, caller: Caller, needed: Requirement): never {
  if (needed === null || needed === "signed-in") throw new Unauthorized(challenge(c, auth));
  const { type, name } = needed;
  const detail = needed.actions.map((action) => ({ type, name, action }));

  if (auth.writesRefused && isWrite(needed)) throw new Denied(auth.writesRefused, detail);
  if (caller.kind === "anonymous") {
    throw new Unauthorized(challenge(c, auth, needed), undefined, detail);
  }
  if (caller.kind === "user") throw new Denied(undefined, detail);
  if (caller.subject !== null && !auth.allows(caller.subject, needed)) {
    throw new Denied(undefined, detail);
  }
  const insufficient = challenge(c, auth, needed, "insufficient_scope");
  throw new Unauthorized(insufficient, "the token does not grant this access", detail);
}

function isWrite(scope: ResourceScope): boolean {
  return scope.actions.some((action) => action === "push" || action === "delete");
}

/** The challenge of the configured scheme, for `needed` when given. */
export function challenge(
  c: AppContext,
  auth: Authenticator,
  needed?: ResourceScope,
  error?: "invalid_token" | "insufficient_scope",
): Challenge {
  if (auth.scheme === "basic") return { scheme: "Basic", params: { realm: auth.realm } };
  const params: Record<string, string> = {
    realm: tokenRealm(c, auth),
    service: serviceOf(c, auth),
  };
  if (needed) params.scope = formatScope(needed);
  if (error) params.error = error;
  return { scheme: "Bearer", params };
}

/** The service tokens are issued for: configured, or the host the request was sent to. */
export function serviceOf(c: AppContext, auth: Authenticator): string {
  return auth.service ?? new URL(c.req.url).host;
}

function tokenRealm(c: AppContext, auth: Authenticator): string {
  return auth.tokenRealm ?? `${new URL(c.req.url).origin}/token`;
}

/**
 * Logs a failed sign-in with the user name and the source address, and nothing else. The Bun
 * server passes the address; on Cloudflare, `CF-Connecting-IP` holds it.
 */
export function logFailedLogin(c: AppContext, logger: Logger, user: string): void {
  const source = c.env?.clientAddress ?? c.req.header("cf-connecting-ip");
  logger.info("login failed", { user, source });
}

function pullScope(name: string): ResourceScope {
  return { type: "repository", name, actions: ["pull"] };
}
