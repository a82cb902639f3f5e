/** The headers of authentication: `Authorization` read, `WWW-Authenticate` written. */
import type { Challenge } from "../registry/errors";

export type Credentials =
  | { kind: "none" }
  | { kind: "basic"; user: string; password: string }
  | { kind: "bearer"; token: string }
  /** A header that is there but not of a form understood here. */
  | { kind: "malformed" };

/**
 * The credentials of an `Authorization` header (`Basic` or `Bearer`, any case). Basic with an
 * empty user name and password is no credentials: it is what some clients (skopeo, podman) send
 * when they have none and the registry challenges with Basic.
 */
export function parseAuthorization(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === "") return { kind: "none" };
  const [scheme = "", value = ""] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === "bearer" && value) return { kind: "bearer", token: value };
  if (scheme.toLowerCase() !== "basic") return { kind: "malformed" };

  const decoded = decodeBasic(value);
  const colon = decoded?.indexOf(":") ?? -1;
  if (decoded === null || colon < 0) return { kind: "malformed" };
  if (decoded === ":") return { kind: "none" };
  return { kind: "basic", user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function decodeBasic(value: string): string | null {
  try {
    const bytes = Uint8Array.from(atob(value), (char) => char.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return null;
  }
}

/** `Bearer realm="…",service="…"`: each parameter a quoted string, in the order given. */
export function formatChallenge(challenge: Challenge): string {
  const quote = (value: string) => `"${value.replace(/["\\]/g, "\\$&")}"`;
  const params = Object.entries(challenge.params).map(([key, value]) => `${key}=${quote(value)}`);
  return `${challenge.scheme} ${params.join(",")}`;
}
