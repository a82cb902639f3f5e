/**
 * The access a request needs, worked out from its method and path before any route runs:
 *
 *   /v2/                                  only that the caller has signed in
 *   /v2/_catalog                          registry:catalog:*
 *   /v2/<name>/blobs/uploads/…            pull and push: upload sessions are part of a push
 *   GET, HEAD on the other endpoints      pull
 *   POST, PUT, PATCH                      pull and push
 *   DELETE of a blob or manifest          delete
 *   /v2/_gc…                              registry:gc:delete (delete in every repository)
 *
 * The name is cut from the path the way the routes cut it (the longest run of segments before
 * the endpoint's own ones, then percent-decoded), so the name checked is the name served.
 */
import { checkRepositoryName } from "../registry/names";
import type { ResourceScope } from "../auth/scopes";
import { CATALOG_SCOPE, GC_SCOPE } from "../auth/scopes";

/** What a request needs: a scope, only a signed-in caller, or nothing (no endpoint of `/v2/`). */
export type Requirement = ResourceScope | "signed-in" | null;

const UPLOADS = /^\/v2\/(.+)\/blobs\/uploads(?:\/[^/]*)?$/;
const ENDPOINT = /^\/v2\/(.+)\/(?:blobs\/[^/]+|manifests\/[^/]+|tags\/list|referrers\/[^/]+)$/;
const WRITES = ["POST", "PUT", "PATCH"];

export function requiredAccess(method: string, path: string): Requirement {
  if (path === "/v2/" || path === "/v2") return "signed-in";
  if (path === "/v2/_catalog") return CATALOG_SCOPE;
  if (path === "/v2/_gc" || path.startsWith("/v2/_gc/")) return GC_SCOPE;

  // `…/blobs/uploads` without a slash is, for reads and deletes, the route of a blob.
  const upload = UPLOADS.exec(path);
  const isBlob = path.endsWith("/blobs/uploads") && !WRITES.includes(method);
  if (upload && !isBlob) return repositoryScope(upload[1], ["pull", "push"]);

  const endpoint = ENDPOINT.exec(path);
  if (!endpoint) return null;
  if (WRITES.includes(method)) return repositoryScope(endpoint[1], ["pull", "push"]);
  return repositoryScope(endpoint[1], method === "DELETE" ? ["delete"] : ["pull"]);
}

function repositoryScope(rawName: string | undefined, actions: string[]): ResourceScope {
  const name = checkRepositoryName(decode(rawName ?? ""));
  return { type: "repository", name, actions };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
