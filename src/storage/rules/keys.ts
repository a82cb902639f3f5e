/** Which keys a driver accepts: R2's length limit, and for a filesystem, portable keys only. */
import { MAX_KEY_BYTES } from "../storage";
import { utf8 } from "./bytes";
import { StorageError } from "./errors";

/** Refuses what R2 refuses: a key longer than `MAX_KEY_BYTES` bytes of UTF-8. */
export function checkKey(key: string): void {
  if (typeof key !== "string") throw new StorageError("InvalidKey", "a key is a string");
  if (utf8(key).byteLength > MAX_KEY_BYTES) {
    throw new StorageError("InvalidKey", `key longer than ${MAX_KEY_BYTES} bytes`);
  }
}

/**
 * Refuses, beyond R2's rule, every key a filesystem cannot hold safely: empty or absolute keys,
 * empty, `.` or `..` segments, control characters, backslashes and lone surrogates. The registry
 * never makes such keys; refusing them keeps any key from naming a path outside its directory.
 */
export function checkPortableKey(key: string): void {
  checkKey(key);
  const problem = keyCharacterProblem(key) ?? keySegmentProblem(key);
  if (problem !== undefined) {
    throw new StorageError("InvalidKey", `${problem} in key ${JSON.stringify(key)}`);
  }
}

function keyCharacterProblem(key: string): string | undefined {
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    if (unit < 0x20 || (unit >= 0x7f && unit <= 0x9f)) return "control character";
    if (unit === 0x5c) return "backslash";
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = key.charCodeAt(i + 1);
    if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return "lone surrogate";
    i++;
  }
  return undefined;
}

function keySegmentProblem(key: string): string | undefined {
  if (key === "") return "nothing";
  for (const segment of key.split("/")) {
    if (segment === "") return "empty segment";
    if (segment === "." || segment === "..") return "dot segment";
  }
  return undefined;
}
