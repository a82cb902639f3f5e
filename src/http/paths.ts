/** URL patterns and the locations the registry hands to clients (always relative). */
import type { AppContext as Context } from "./env";
import { checkRepositoryName } from "../registry/names";

/** A repository name in a route: any run of path segments, validated by the handler. */
export const NAME = ":name{.+}";

export const locations = {
  blob: (name: string, digest: string) => `/v2/${name}/blobs/${digest}`,
  manifest: (name: string, digest: string) => `/v2/${name}/manifests/${digest}`,
  upload: (name: string, id: string) => `/v2/${name}/blobs/uploads/${id}`,
  tags: (name: string) => `/v2/${name}/tags/list`,
  referrers: (name: string, digest: string) => `/v2/${name}/referrers/${digest}`,
  catalog: () => "/v2/_catalog",
};

/** The repository name of the request, or `NAME_INVALID`. */
export function repositoryName(c: Context): string {
  return checkRepositoryName(c.req.param("name") ?? "");
}

/** A route parameter that the route pattern guarantees. */
export function param(c: Context, key: string): string {
  return c.req.param(key) ?? "";
}
