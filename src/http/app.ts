/**
 * The registry's HTTP application: the endpoint families, the headers every response carries,
 * access logging and error rendering. Runtime-neutral: both entry files serve what this builds.
 */
import { Hono } from "hono";
import { Unsupported } from "../registry/errors";
import type { Registry } from "../registry/registry";
import { accessLog } from "./access-log";
import { baseRoutes } from "./base";
import { blobRoutes } from "./blobs";
import type { AppEnv } from "./env";
import { notFound, renderError } from "./errors";
import { listingRoutes } from "./listings";
import type { Logger } from "./logger";
import { manifestRoutes } from "./manifests";
import { NAME } from "./paths";
import { uploadRoutes } from "./uploads";

export interface AppOptions {
  logger: Logger;
}

/** Paths that exist, for answering 405 rather than 404 to a method they lack. */
const ENDPOINTS = [
  "/v2/",
  "/v2/_catalog",
  `/v2/${NAME}/blobs/uploads/`,
  `/v2/${NAME}/blobs/uploads/:id`,
  `/v2/${NAME}/blobs/:digest`,
  `/v2/${NAME}/manifests/:reference`,
  `/v2/${NAME}/tags/list`,
  `/v2/${NAME}/referrers/:digest`,
];

export function createApp(registry: Registry, options: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(accessLog(options.logger));
  app.use(async (c, next) => {
    await next();
    c.res.headers.set("Docker-Distribution-API-Version", "registry/2.0");
  });

  app.route("/", baseRoutes());
  app.route("/", blobRoutes(registry));
  app.route("/", uploadRoutes(registry));
  app.route("/", manifestRoutes(registry));
  app.route("/", listingRoutes(registry));
  for (const path of ENDPOINTS) {
    app.all(path, () => {
      throw new Unsupported("method not allowed", 405);
    });
  }

  app.onError((error, c) => renderError(error, c, options.logger));
  app.notFound(notFound);
  return app;
}
