/** `GET /v2/<name>/tags/list`, `GET /v2/_catalog` and `GET /v2/<name>/referrers/<digest>`. */
import { Hono } from "hono";
import { parseDigest } from "../registry/digest";
import type { Registry } from "../registry/registry";
import type { AppContext, AppEnv } from "./env";
import { jsonBody } from "./responses";
import { locations, NAME, param, repositoryName } from "./paths";
import { paging } from "./request";

/** The most items one page holds, whatever `n` asks. */
const MAX_PAGE = 10_000;
const CATALOG_PAGE = 1000;
const REFERRERS_PAGE = 1000;
const INDEX_TYPE = "application/vnd.oci.image.index.v1+json";

export function listingRoutes(registry: Registry): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get(`/v2/${NAME}/tags/list`, async (c) => {
    const name = repositoryName(c);
    const { limit, last } = paging(c, Number.POSITIVE_INFINITY, MAX_PAGE);
    const page = await registry.tags.list(name, { limit, last });
    const next = page.more ? page.items.at(-1) : undefined;
    linkNext(c, locations.tags(name), limit, next);
    return jsonBody(c, { name, tags: page.items });
  });

  app.get("/v2/_catalog", async (c) => {
    const { limit, last } = paging(c, CATALOG_PAGE, MAX_PAGE);
    const page = await registry.catalog.list({ limit, last });
    const next = page.more ? page.items.at(-1) : undefined;
    linkNext(c, locations.catalog(), limit, next);
    return jsonBody(c, { repositories: page.items });
  });

  app.get(`/v2/${NAME}/referrers/:digest`, async (c) => {
    const name = repositoryName(c);
    const subject = parseDigest(param(c, "digest"));
    const { limit, last } = paging(c, REFERRERS_PAGE, REFERRERS_PAGE);
    const artifactType = c.req.query("artifactType") || undefined;
    const page = await registry.referrers.list(name, subject, { limit, last, artifactType });

    const path = locations.referrers(name, subject.value);
    linkNext(c, path, limit, page.next, artifactType ? { artifactType } : {});
    if (artifactType) c.header("OCI-Filters-Applied", "artifactType");
    const index = { schemaVersion: 2, mediaType: INDEX_TYPE, manifests: page.descriptors };
    return jsonBody(c, index, 200, { "Content-Type": INDEX_TYPE });
  });

  return app;
}

/** Sets `Link: <…?n=…&last=…>; rel="next"` when a page has a successor. */
function linkNext(
  c: AppContext,
  path: string,
  limit: number,
  last: string | undefined,
  extra: Record<string, string> = {},
): void {
  if (last === undefined) return;
  const query = new URLSearchParams({ ...extra, n: String(limit), last });
  c.header("Link", `<${path}?${query}>; rel="next"`);
}
