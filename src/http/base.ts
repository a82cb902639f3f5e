/** `GET /v2/`: the version check every client starts with. */
import { Hono } from "hono";
import type { AppEnv } from "./env";

export function baseRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/v2/", (c) => c.json({}));
  app.get("/v2", (c) => c.json({}));
  return app;
}
