/**
 * The registry's HTTP application: the endpoint families, the headers every response carries,
 * access logging and error rendering. Runtime-neutral: both entry files serve what this builds.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Authenticator } from "../auth/authenticator";
import { inProcessDriver } from "../gc/in-process";
import { gcSettings } from "../gc/settings";
import { Unavailable, Unsupported } from "../registry/errors";
import type { Registry } from "../registry/registry";
import { accessLog } from "./access-log";
import { authorize } from "./auth";
import { baseRoutes } from "./base";
import { blobRoutes } from "./blobs";
import type { AppEnv } from "./env";
import { notFound, renderError } from "./errors";
import { type GcRoutesOptions, gcRoutes } from "./gc";
import { listingRoutes } from "./listings";
import type { Logger } from "./logger";
import { manifestRoutes } from "./manifests";
import { NAME } from "./paths";
import { tokenRoutes } from "./token";
import { uploadRoutes } from "./uploads";

export interface AppOptions {
  logger: Logger;
  /** Authentication and access rules; without them every request is let through. */
  auth?: Authenticator;
  /**
   * The garbage collection endpoint's settings and how the runtime carries a run on; by
   * default, the environment's defaults and a run to its end in this process.
   */
  gc?: GcRoutesOptions;
}

/** Paths that exist, for answering 405 rather than 404 to a method they lack. */
const ENDPOINTS = [
  "/v2/",
  "/v2/_catalog",
  "/v2/_gc",
  "/v2/_gc/resume",
  `/v2/${NAME}/blobs/uploads/`,
  `/v2/${NAME}/blobs/uploads/:id`,
  `/v2/${NAME}/blobs/:digest`,
  `/v2/${NAME}/manifests/:reference`,
  `/v2/${NAME}/tags/list`,
  `/v2/${NAME}/referrers/:digest`,
];

const apiVersion: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set("Docker-Distribution-API-Version", "registry/2.0");
};

export function createApp(registry: Registry, options: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(accessLog(options.logger));
  app.use(apiVersion);
  const { auth } = options;
  if (auth) app.use(authorize(auth, options.logger));
  if (auth?.tokens) app.route("/", tokenRoutes(auth, auth.tokens, options.logger));

  app.route("/", baseRoutes());
  const settings = gcSettings({});
  const gc = options.gc ?? { settings, drive: inProcessDriver(options.logger, settings.step) };
  app.route("/", gcRoutes(registry, gc));
  app.route("/", blobRoutes(registry));
  app.route("/", uploadRoutes(registry));
  app.route("/", manifestRoutes(registry));
  app.route("/", listingRoutes(registry));
  for (const path of auth?.tokens ? [...ENDPOINTS, "/token"] : ENDPOINTS) {
    app.all(path, () => {
      throw new Unsupported("method not allowed", 405);
    });
  }

  app.onError((error, c) => renderError(error, c, options.logger));
  app.notFound(notFound);
  return app;
}

/** Answers every request `503 UNAVAILABLE` with `message`: for a registry that must not serve. */
export function createUnavailableApp(message: string, logger: Logger): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(accessLog(logger));
  app.use(apiVersion);
  app.all("*", () => {
    throw new Unavailable(message);
  });
  app.onError((error, c) => renderError(error, c, logger));
  return app;
}
