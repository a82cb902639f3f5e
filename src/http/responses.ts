/** Response bodies that state their `Content-Length`, so every response gives its size. */
import type { AppContext } from "./env";

export function jsonBody(
  c: AppContext,
  value: unknown,
  status: 200 | 202 | 400 | 401 | 403 | 404 | 405 | 413 | 416 | 500 = 200,
  headers: Record<string, string> = {},
): Response {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return c.body(bytes.buffer as ArrayBuffer, status, {
    "Content-Type": "application/json",
    ...headers,
    "Content-Length": String(bytes.length),
  });
}

/**
 * An empty response that states `Content-Length: 0`. The body is empty bytes, not `null` (for
 * which workerd drops the header), and has a type that Cloudflare never compresses: an untyped
 * or text body would be gzipped for clients that accept it, losing the length.
 */
export function emptyBody(
  c: AppContext,
  status: 201 | 202,
  headers: Record<string, string> = {},
): Response {
  return c.body(new ArrayBuffer(0), status, {
    ...headers,
    "Content-Type": "application/octet-stream",
    "Content-Length": "0",
  });
}
