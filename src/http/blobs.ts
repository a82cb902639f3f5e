/** `GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`. */
import { Hono } from "hono";
import { parseDigest } from "../registry/digest";
import { BlobUnknown } from "../registry/errors";
import type { Registry } from "../registry/registry";
import type { AppEnv } from "./env";
import { emptyBody } from "./responses";
import { NAME, param, repositoryName } from "./paths";
import { byteRange } from "./request";

export function blobRoutes(registry: Registry): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get(`/v2/${NAME}/blobs/:digest`, async (c) => {
    const name = repositoryName(c);
    const digest = parseDigest(param(c, "digest"));
    const headers = { "Docker-Content-Digest": digest.value, ETag: `"${digest.value}"` };
    const common = {
      ...headers,
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
    };

    if (c.req.method === "HEAD") {
      const info = await registry.blobs.stat(name, digest);
      if (!info) throw new BlobUnknown(digest.value);
      return c.body(null, 200, { ...common, "Content-Length": String(info.size) });
    }

    const content = await registry.blobs.open(name, digest, byteRange(c));
    if (!content) throw new BlobUnknown(digest.value);
    const { object, range, info } = content;
    const length = range ? range.length : info.size;
    const rangeHeaders: Record<string, string> = range
      ? { "Content-Range": `bytes ${range.offset}-${range.offset + range.length - 1}/${info.size}` }
      : {};
    const body = object.blob ?? object.body;
    return new Response(body, {
      status: range ? 206 : 200,
      headers: { ...common, ...rangeHeaders, "Content-Length": String(length) },
    });
  });

  app.delete(`/v2/${NAME}/blobs/:digest`, async (c) => {
    const name = repositoryName(c);
    const digest = parseDigest(param(c, "digest"));
    if (!(await registry.blobs.unlink(name, digest))) throw new BlobUnknown(digest.value);
    return emptyBody(c, 202);
  });

  return app;
}
