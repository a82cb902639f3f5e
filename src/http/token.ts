/**
 * `/token`: the built-in token service of the Docker token specification, at the realm the
 * Bearer challenges name.
 *
 *   GET  ?service=&scope=…&offline_token=true   with Basic credentials, or none (anonymous)
 *   POST grant_type=password (username, password) or grant_type=refresh_token (refresh_token),
 *        with service, scope (a space-separated list) and access_type=offline: the OAuth2 form
 *
 * The token grants the intersection of the scopes asked for and those the rules allow; a partial
 * or empty grant is not an error. The answer carries the token as both `token` and
 * `access_token`, with `expires_in`, `issued_at`, the granted `scope`, and a `refresh_token` when
 * one was asked for (a refresh grant answers with the refresh token it was given).
 */
import { Hono } from "hono";
import type { Authenticator } from "../auth/authenticator";
import { formatScope, parseScopes, type ResourceScope } from "../auth/scopes";
import type { Tokens } from "../auth/tokens";
import { Unauthorized, Unsupported } from "../registry/errors";
import { logFailedLogin, serviceOf } from "./auth";
import { parseAuthorization } from "./auth-headers";
import type { AppContext, AppEnv } from "./env";
import type { Logger } from "./logger";
import { readLimited } from "./request";
import { jsonBody } from "./responses";

/** The largest form a POST may send. */
const MAX_FORM = 64 * 1024;

export function tokenRoutes(auth: Authenticator, tokens: Tokens, logger: Logger): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const signIn = async (c: AppContext, user: string, password: string) => {
    if (await auth.login(user, password)) return user;
    logFailedLogin(c, logger, user);
    throw new Unauthorized(basicChallenge(auth), "invalid username or password");
  };

  /** The user and refresh token of an OAuth2 form's password or refresh_token grant. */
  const oauthGrant = async (c: AppContext, form: URLSearchParams, service: string) => {
    const grantType = form.get("grant_type");
    if (grantType === "password") {
      const user = await signIn(c, form.get("username") ?? "", form.get("password") ?? "");
      const offline = form.get("access_type") === "offline";
      return { user, refresh: offline ? await auth.refreshToken(user, service) : null };
    }
    if (grantType !== "refresh_token") {
      throw new Unsupported('grant_type is "password" or "refresh_token"');
    }
    const refresh = form.get("refresh_token") ?? "";
    const user = await auth.refreshTokenUser(refresh, service);
    if (user === null) throw new Unauthorized(basicChallenge(auth), "invalid refresh token");
    return { user, refresh };
  };

  app.get("/token", async (c) => {
    const service = checkService(c, auth, c.req.query("service"));
    const credentials = parseAuthorization(c.req.header("authorization"));
    if (credentials.kind !== "none" && credentials.kind !== "basic") {
      throw new Unauthorized(basicChallenge(auth), "the token service takes Basic credentials");
    }
    const subject =
      credentials.kind === "basic" ? await signIn(c, credentials.user, credentials.password) : null;

    const granted = auth.grant(subject, parseScopes(c.req.queries("scope") ?? []));
    const offline = c.req.query("offline_token") === "true" && subject !== null;
    const refresh = offline ? await auth.refreshToken(subject, service) : null;
    return answer(c, tokens, { subject, service, granted, refresh });
  });

  app.post("/token", async (c) => {
    const form = await readForm(c);
    const service = checkService(c, auth, form.get("service") ?? undefined);
    const { user, refresh } = await oauthGrant(c, form, service);

    const granted = auth.grant(user, parseScopes(form.getAll("scope")));
    return answer(c, tokens, { subject: user, service, granted, refresh });
  });

  return app;
}

async function readForm(c: AppContext): Promise<URLSearchParams> {
  const tooLarge = () => new Unsupported("the form is too large", 413);
  const bytes = await readLimited(c, MAX_FORM, tooLarge);
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

/** The service the token is for; a token asked for another service is `400 UNSUPPORTED`. */
function checkService(c: AppContext, auth: Authenticator, asked: string | undefined): string {
  const service = serviceOf(c, auth);
  if (asked !== undefined && asked !== service) {
    throw new Unsupported(`this token service issues tokens for ${service} only`);
  }
  return service;
}

function basicChallenge(auth: Authenticator) {
  return { scheme: "Basic" as const, params: { realm: auth.realm } };
}

interface Grant {
  subject: string | null;
  service: string;
  granted: ResourceScope[];
  refresh: string | null;
}

async function answer(c: AppContext, tokens: Tokens, grant: Grant): Promise<Response> {
  const issued = await tokens.issue(grant.subject, grant.service, grant.granted);
  const body = {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt,
    scope: grant.granted.map(formatScope).join(" "),
    ...(grant.refresh ? { refresh_token: grant.refresh } : {}),
  };
  return jsonBody(c, body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
