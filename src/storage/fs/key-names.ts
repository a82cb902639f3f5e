/**
 * How keys become names under keys/, one-to-one and never outside it (keys are portable: see
 * `checkPortableKey`), and in an order that lists them without sorting a whole tree.
 *
 * A key's UTF-8 bytes are split at "/" into segments. A segment is percent-encoded except for
 * [a-z0-9._-], with lowercase hex, so names are the same on case-insensitive filesystems. A
 * segment other than the last is a directory of that name; the last is a file named with a
 * trailing "#". So key `a` (file `a#`) and key `a/b` (directory `a`) coexist. A segment longer
 * than PIECE_BYTES becomes CHUNK_BYTES chunks, each a directory named with a trailing "+", then
 * its remaining piece (a directory with an empty piece is "="): every name stays under 255
 * bytes. Each entry stands for a byte string: a file for its key, a directory for its keys'
 * common prefix ending in "/", a chunk for its prefix. Sorting a directory's entries by those
 * strings lists keys in byte order: no entry's range of keys interleaves another's, because a
 * chunk is longer than any piece beside it and so is never equal to one.
 */
import { concatBytes } from "../rules";

const PIECE_BYTES = 80;
const CHUNK_BYTES = PIECE_BYTES + 1;
const OBJECT_MARK = "#";
const CHUNK_MARK = "+";
const EMPTY_PIECE = "=";
const SLASH = Uint8Array.of(0x2f);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The names of the directories, then the file, that hold the key with these bytes. */
export function keyNames(key: Uint8Array): string[] {
  const segments = splitAtSlash(key);
  return segments.flatMap((segment, i) => segmentNames(segment, i === segments.length - 1));
}

/** The deepest directory holding every key that starts with `prefix`, and what it stands for. */
export function prefixStart(prefix: Uint8Array): { names: string[]; base: Uint8Array } | undefined {
  const segments = splitAtSlash(prefix);
  let partial = segments.pop() ?? new Uint8Array(0);
  const names: string[] = [];
  for (const segment of segments) {
    const text = keyOf(segment);
    if (text === undefined || text === "" || text === "." || text === "..") return undefined;
    names.push(...segmentNames(segment, false));
  }
  while (partial.byteLength >= CHUNK_BYTES) {
    names.push(encodeName(partial.subarray(0, CHUNK_BYTES)) + CHUNK_MARK);
    partial = partial.subarray(CHUNK_BYTES);
  }
  return { names, base: prefix.subarray(0, prefix.byteLength - partial.byteLength) };
}

/**
 * The byte string an entry named `name` stands for, in a directory that stands for `base`, and
 * whether it is an object's file; `undefined` for a name this encoding never makes.
 */
export function nameBytes(
  name: string,
  base: Uint8Array,
): { bytes: Uint8Array; object: boolean } | undefined {
  if (name === EMPTY_PIECE) return { bytes: concatBytes(base, SLASH), object: false };
  const mark = name.at(-1);
  const marked = mark === OBJECT_MARK || mark === CHUNK_MARK;
  const piece = decodeName(marked ? name.slice(0, -1) : name);
  if (piece === undefined) return undefined;
  if (mark === OBJECT_MARK) return { bytes: concatBytes(base, piece), object: true };
  if (mark === CHUNK_MARK) return { bytes: concatBytes(base, piece), object: false };
  return { bytes: concatBytes(base, piece, SLASH), object: false };
}

/** Whether `name` is an object's file, well formed. */
export function isObjectName(name: string): boolean {
  return name.endsWith(OBJECT_MARK) && decodeName(name.slice(0, -1)) !== undefined;
}

/** Whether `name` is a directory's: any name without the object mark. */
export function isDirectoryName(name: string): boolean {
  return !name.endsWith(OBJECT_MARK);
}

/** The key with these bytes, or `undefined` when they are not UTF-8. */
export function keyOf(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function segmentNames(segment: Uint8Array, last: boolean): string[] {
  const names: string[] = [];
  let rest = segment;
  while (rest.byteLength > PIECE_BYTES) {
    names.push(encodeName(rest.subarray(0, CHUNK_BYTES)) + CHUNK_MARK);
    rest = rest.subarray(CHUNK_BYTES);
  }
  if (last) names.push(encodeName(rest) + OBJECT_MARK);
  else names.push(rest.byteLength === 0 ? EMPTY_PIECE : encodeName(rest));
  return names;
}

function splitAtSlash(bytes: Uint8Array): Uint8Array[] {
  const segments: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.byteLength; i++) {
    if (i < bytes.byteLength && bytes[i] !== SLASH[0]) continue;
    segments.push(bytes.subarray(start, i));
    start = i + 1;
  }
  return segments;
}

function isSafeByte(byte: number): boolean {
  const lower = byte >= 0x61 && byte <= 0x7a;
  const digit = byte >= 0x30 && byte <= 0x39;
  return lower || digit || byte === 0x2d || byte === 0x2e || byte === 0x5f;
}

function encodeName(bytes: Uint8Array): string {
  let name = "";
  for (const byte of bytes) {
    name += isSafeByte(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, "0")}`;
  }
  return name;
}

/** The bytes a name encodes, or `undefined` for a name `encodeName` would never make. */
function decodeName(name: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code !== 0x25) {
      if (!isSafeByte(code)) return undefined;
      bytes.push(code);
      continue;
    }
    const hex = name.slice(i + 1, i + 3);
    const byte = Number.parseInt(hex, 16);
    if (!/^[0-9a-f]{2}$/.test(hex) || isSafeByte(byte)) return undefined;
    bytes.push(byte);
    i += 2;
  }
  return Uint8Array.from(bytes);
}
