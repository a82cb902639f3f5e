/** `GET`/`HEAD`/`PUT`/`DELETE /v2/<name>/manifests/<reference>`. */
import { Hono } from "hono";
import { ManifestInvalid } from "../registry/errors";
import { type ManifestInfo, MAX_MANIFEST_SIZE, parseReference } from "../registry/manifests";
import { checkTag } from "../registry/names";
import type { Registry } from "../registry/registry";
import type { AppEnv } from "./env";
import { emptyBody } from "./responses";
import { locations, NAME, param, repositoryName } from "./paths";
import { readLimited } from "./request";

export function manifestRoutes(registry: Registry): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { manifests } = registry;
  const path = `/v2/${NAME}/manifests/:reference`;

  app.get(path, async (c) => {
    const name = repositoryName(c);
    const reference = parseReference(param(c, "reference"));
    if (c.req.method === "HEAD") {
      return new Response(null, {
        headers: manifestHeaders(await manifests.head(name, reference)),
      });
    }
    // Read whole (at most 4 MiB) so that every runtime keeps the Content-Length header.
    const manifest = await manifests.get(name, reference);
    const bytes = await manifest.body.arrayBuffer();
    return new Response(bytes, { headers: manifestHeaders(manifest) });
  });

  app.put(path, async (c) => {
    const name = repositoryName(c);
    const reference = parseReference(param(c, "reference"));
    const extraTags = (c.req.queries("tag") ?? []).map(checkTag);
    const tooLarge = () => new ManifestInvalid("manifest is larger than 4 MiB", 413);
    const bytes = await readLimited(c, MAX_MANIFEST_SIZE, tooLarge);

    const contentType = c.req.header("content-type");
    const result = await manifests.put(name, reference, bytes, contentType, extraTags);
    const headers: Record<string, string> = {
      Location: locations.manifest(name, result.digest.value),
      "Docker-Content-Digest": result.digest.value,
    };
    if (result.subject) headers["OCI-Subject"] = result.subject.value;
    if (result.tags.length) headers["OCI-Tag"] = result.tags.join(", ");
    return emptyBody(c, 201, headers);
  });

  app.delete(path, async (c) => {
    await manifests.delete(repositoryName(c), parseReference(param(c, "reference")));
    return emptyBody(c, 202);
  });

  return app;
}

function manifestHeaders(manifest: ManifestInfo): Record<string, string> {
  return {
    "Content-Type": manifest.mediaType,
    "Content-Length": String(manifest.size),
    "Docker-Content-Digest": manifest.digest.value,
    ETag: `"${manifest.digest.value}"`,
  };
}
