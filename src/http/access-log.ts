/** Gives each request an id and logs one line when its response is ready. */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "./logger";

export function accessLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const requestId = c.req.header("cf-ray") ?? crypto.randomUUID();
    c.set("requestId", requestId);
    await next();

    logger.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      bytes: c.res.headers.get("content-length") ?? undefined,
      ms: Math.round((performance.now() - started) * 10) / 10,
      requestId,
    });
  };
}
