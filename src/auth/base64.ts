/**
 * Base64 in the two spellings authentication needs: URL-safe without padding (JWTs, RFC 7515)
 * and standard without padding (password hashes, the PHC string format). Web standards only.
 */

/** Standard base64 of `bytes`, without `=` padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/=+$/, "");
}

/** The bytes of standard base64 (padding optional); `null` when `text` is not base64. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  const bare = text.replace(/={1,2}$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(bare) || bare.length % 4 === 1) return null;
  const binary = atob(bare.padEnd(Math.ceil(bare.length / 4) * 4, "="));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** URL-safe base64 of `bytes`, without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_");
}

/** The bytes of URL-safe base64 without padding; `null` when `text` is not that. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  return fromBase64(text.replace(/-/g, "+").replace(/_/g, "/"));
}

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new TextEncoder().encode(text));
}
