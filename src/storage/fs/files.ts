/**
 * File primitives of the filesystem driver: writing a sized stream to a file (removed or cut back
 * on failure, so no partial write survives), reading and copying byte ranges, replacing a small
 * file by rename, and telling "missing" apart from real failures.
 */
import { constants } from "node:fs";
import {
  type FileHandle,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  unlink,
  writeFile,
} from "node:fs/promises";
import { dirname } from "node:path";
import { putValueBytes, putValueStream } from "../rules";
import type { PutValue, SizedStream } from "../storage";

/** A value to write: a sized stream, and its bytes when they are already in memory. */
export interface Source extends SizedStream {
  bytes: Uint8Array | undefined;
}

export function toSource(value: PutValue): Source {
  return { ...putValueStream(value), bytes: putValueBytes(value) };
}

/** Writes a sized stream to a new file; on any failure the file is removed. */
export async function writeNewFile(path: string, sized: Source): Promise<void> {
  const handle = await open(path, "wx");
  try {
    await writeStream(handle, 0, sized);
  } catch (error) {
    await handle.close();
    await rm(path, { force: true });
    throw error;
  }
  await handle.close();
}

/** Writes a sized stream at `position`, first cutting the file there; a failure cuts it again. */
export async function writeAt(path: string, position: number, sized: Source): Promise<number> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT);
  try {
    await handle.truncate(position);
    await writeStream(handle, position, sized).catch(async (error) => {
      await handle.truncate(position);
      throw error;
    });
    return sized.length;
  } finally {
    await handle.close();
  }
}

async function writeStream(handle: FileHandle, position: number, sized: Source) {
  if (sized.bytes !== undefined) return writeAll(handle, sized.bytes, position);
  const reader = sized.stream.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      await writeAll(handle, chunk.value, position);
      position += chunk.value.byteLength;
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position);
    done += bytesWritten;
    position += bytesWritten;
  }
}

export async function readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const bytes = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${path}: shorter than its metadata says`);
      done += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Copies `size` bytes of `source` from `offset` into `out` at `position`, through `buffer`. */
export async function copyRange(
  source: string,
  offset: number,
  size: number,
  out: FileHandle,
  position: number,
  buffer: Uint8Array,
): Promise<void> {
  const handle = await open(source, "r");
  try {
    for (let done = 0; done < size; ) {
      const want = Math.min(buffer.byteLength, size - done);
      const { bytesRead } = await handle.read(buffer, 0, want, offset + done);
      if (bytesRead === 0) throw new Error(`${source}: shorter than its part record says`);
      await writeAll(out, buffer.subarray(0, bytesRead), position + done);
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Writes `text` to the new file `temp`, then renames it over `path`. */
export async function replaceFile(
  temp: string,
  path: string,
  text: string,
  makeParents = false,
): Promise<void> {
  await writeFile(temp, text, { flag: "wx" });
  try {
    await renameInto(temp, path, makeParents);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Renames, creating the target's directories when asked and missing (a delete may prune them). */
async function renameInto(from: string, to: string, makeParents: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (error) {
      if (!makeParents || !isMissing(error) || attempt === 3) throw error;
    }
    await mkdir(dirname(to), { recursive: true });
  }
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

export async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch((error) => {
    if (!isMissing(error)) throw error;
  });
}

export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

/** Whether a failure means the path is not there (or a directory on it is a file). */
export function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}
