/**
 * `/v2/<name>/blobs/uploads/`: opening sessions (plain, monolithic, mount), appending chunks,
 * closing, status and cancelling.
 */
import { Hono } from "hono";
import type { BlobInfo } from "../registry/blobs";
import { parseAlgorithm, parseDigest } from "../registry/digest";
import { DigestInvalid, type UploadPosition } from "../registry/errors";
import { checkRepositoryName } from "../registry/names";
import type { Registry } from "../registry/registry";
import type { AppContext, AppEnv } from "./env";
import { emptyBody } from "./responses";
import { locations, NAME, param, repositoryName } from "./paths";
import { incomingBytes } from "./request";

/** The headers that tell a client where its session stands. */
export function uploadHeaders(location: string, id: string, size: number): Record<string, string> {
  return {
    Location: location,
    Range: `0-${Math.max(size - 1, 0)}`,
    "Docker-Upload-UUID": id,
  };
}

export function uploadRoutes(registry: Registry): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { uploads } = registry;
  const session = `/v2/${NAME}/blobs/uploads/:id`;

  const open = async (c: AppContext) => {
    const name = repositoryName(c);
    const { mount, from, digest } = c.req.query();

    if (mount !== undefined) {
      const source = from === undefined ? undefined : checkRepositoryName(from);
      const options = { from: source, mayPull: c.get("mayPull") };
      const info = await registry.blobs.mount(name, parseDigest(mount), options);
      if (info) return created(c, name, info);
    } else if (digest !== undefined) {
      const info = await uploads.uploadWhole(name, parseDigest(digest), incomingBytes(c));
      return created(c, name, info);
    }

    const position = await uploads.start(name, parseAlgorithm(c.req.query("digest-algorithm")));
    const { min, max } = uploads.chunkLengths;
    const headers = { ...progress(position), "OCI-Chunk-Min-Length": String(min) };
    if (max !== undefined) Object.assign(headers, { "OCI-Chunk-Max-Length": String(max) });
    return emptyBody(c, 202, headers);
  };
  app.post(`/v2/${NAME}/blobs/uploads/`, open);
  app.post(`/v2/${NAME}/blobs/uploads`, open);

  app.patch(session, async (c) => {
    const position = await uploads.append(repositoryName(c), param(c, "id"), incomingBytes(c));
    return emptyBody(c, 202, progress(position));
  });

  app.put(session, async (c) => {
    const name = repositoryName(c);
    const value = c.req.query("digest");
    if (value === undefined) throw new DigestInvalid("the digest query parameter is missing");
    const info = await uploads.finish(name, param(c, "id"), parseDigest(value), incomingBytes(c));
    return created(c, name, info);
  });

  app.get(session, async (c) => {
    const position = await uploads.status(repositoryName(c), param(c, "id"));
    return c.body(null, 204, progress(position));
  });

  app.delete(session, async (c) => {
    await uploads.cancel(repositoryName(c), param(c, "id"));
    return c.body(null, 204);
  });

  return app;
}

function progress(position: UploadPosition): Record<string, string> {
  const location = locations.upload(position.repository, position.id);
  return uploadHeaders(location, position.id, position.size);
}

function created(c: AppContext, name: string, info: BlobInfo): Response {
  const digest = info.digest.value;
  return emptyBody(c, 201, {
    Location: locations.blob(name, digest),
    "Docker-Content-Digest": digest,
  });
}
