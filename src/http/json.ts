/** JSON responses with their `Content-Length`, so every response states its size. */
import type { AppContext } from "./env";

export function jsonBody(
  c: AppContext,
  value: unknown,
  status: 200 | 400 | 401 | 403 | 404 | 405 | 413 | 416 | 500 = 200,
  headers: Record<string, string> = {},
): Response {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return c.body(bytes, status, {
    "Content-Type": "application/json",
    ...headers,
    "Content-Length": String(bytes.length),
  });
}
