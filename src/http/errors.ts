/**
 * The one place errors become responses: the spec's JSON body, the status, and the headers a
 * case needs to tell the client what to do next.
 */
import type { AppContext as Context } from "./env";
import { RangeNotSatisfiable } from "../registry/blobs";
import { RegistryError, Unauthorized, UploadRangeInvalid, Unsupported } from "../registry/errors";
import { formatChallenge } from "./auth-headers";
import { jsonBody } from "./responses";
import type { Logger } from "./logger";
import { locations } from "./paths";
import { uploadHeaders } from "./uploads";

export function renderError(error: Error, c: Context, logger: Logger): Response {
  if (!(error instanceof RegistryError)) {
    logger.error("request failed", { requestId: c.get("requestId"), error: describe(error) });
    const failure = new RegistryError(500, "UNSUPPORTED", "internal server error");
    return respond(c, failure, {});
  }
  return respond(c, error, headersFor(error));
}

/** 404 for paths that are no endpoint of the API. */
export function notFound(c: Context): Response {
  return respond(c, new Unsupported("no such endpoint", 404), {});
}

function headersFor(error: RegistryError): Record<string, string> {
  if (error instanceof UploadRangeInvalid) {
    const { repository, id, size } = error.position;
    return uploadHeaders(locations.upload(repository, id), id, size);
  }
  if (error instanceof RangeNotSatisfiable) return { "Content-Range": `bytes */${error.size}` };
  if (error instanceof Unauthorized) {
    return { "WWW-Authenticate": formatChallenge(error.challenge) };
  }
  return {};
}

function respond(c: Context, error: RegistryError, headers: Record<string, string>): Response {
  const entry = { code: error.code, message: error.message, detail: error.detail };
  return jsonBody(c, { errors: [entry] }, error.status as 400, headers);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
