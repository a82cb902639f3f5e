/** `GET /v2/`: the version check every client starts with. */
import { Hono } from "hono";
import type { AppEnv } from "./env";
import { jsonBody } from "./responses";

export function baseRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/v2/", (c) => jsonBody(c, {}));
  app.get("/v2", (c) => jsonBody(c, {}));
  return app;
}
