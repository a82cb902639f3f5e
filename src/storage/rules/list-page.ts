/**
 * List pages as R2 builds them: keys in UTF-8 byte order after `startAfter` or a cursor, grouped
 * at a delimiter, at most `limit` entries a page. A cursor is the hex of the last byte string a
 * page took, so any driver can resume from it without state of its own.
 */
import {
  type KeyListResult,
  type ListOptions,
  type ListResult,
  MAX_LIST_LIMIT,
  type StoredObject,
} from "../storage";
import { compareBytes, concatBytes, fromUtf8, startsWith, utf8 } from "./bytes";
import { StorageError } from "./errors";

/** What one list call asks for, in bytes; `after` is exclusive and may be a group's end. */
export interface ListPlan {
  prefix: Uint8Array;
  after: Uint8Array | undefined;
  delimiter: Uint8Array | undefined;
  limit: number;
}

/** The page size: `MAX_LIST_LIMIT` by default, and clamped to 1..`MAX_LIST_LIMIT`. */
export function clampListLimit(limit: number | undefined): number {
  if (limit === undefined || Number.isNaN(limit)) return MAX_LIST_LIMIT;
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(limit)));
}

export function planList(options: ListOptions = {}): ListPlan {
  const startAfter = options.startAfter === undefined ? undefined : utf8(options.startAfter);
  const cursor = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  return {
    prefix: utf8(options.prefix ?? ""),
    after: later(startAfter, cursor),
    delimiter: options.delimiter ? utf8(options.delimiter) : undefined,
    limit: clampListLimit(options.limit),
  };
}

function later(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return compareBytes(a, b) >= 0 ? a : b;
}

/** A byte no UTF-8 key contains: a group's bytes then this sorts after every key in the group. */
const PAST_GROUP = Uint8Array.of(0xff);

/** How a key offered to a page was taken. */
export type Offered = "object" | "group" | "skipped" | "full";

/**
 * Builds one list page from keys offered in ascending order. `after` moves as keys are taken, so a
 * driver walking its keys can consult it to skip what is done, a whole delimited group included.
 */
export class ListPage {
  readonly plan: ListPlan;
  after: Uint8Array | undefined;
  readonly keys: string[] = [];
  readonly delimitedPrefixes: string[] = [];
  truncated = false;

  constructor(plan: ListPlan) {
    this.plan = plan;
    this.after = plan.after;
  }

  /** Whether a key, or a subtree of keys all starting with `bytes`, may hold keys still wanted. */
  wants(bytes: Uint8Array, subtree: boolean): boolean {
    const { prefix } = this.plan;
    if (!startsWith(bytes, prefix) && !(subtree && startsWith(prefix, bytes))) return false;
    if (this.after === undefined || compareBytes(bytes, this.after) > 0) return true;
    if (!subtree || !startsWith(this.after, bytes)) return false;
    return this.after[bytes.byteLength] !== PAST_GROUP[0];
  }

  /**
   * Whether every key under a subtree whose keys all start with `bytes` falls in one delimited
   * group that the page still wants; then offering `bytes` stands for the whole subtree.
   */
  takesWhole(bytes: Uint8Array): boolean {
    if (this.after !== undefined && compareBytes(bytes, this.after) <= 0) return false;
    return startsWith(bytes, this.plan.prefix) && this.#group(bytes) !== undefined;
  }

  /**
   * Takes the next key; `"full"` means the page is complete and the walk can stop. A caller that
   * has just asked `wants` for these bytes passes `wanted` to skip asking again.
   */
  offer(bytes: Uint8Array, key = fromUtf8(bytes), wanted = false): Offered {
    if (!wanted && !this.wants(bytes, false)) return "skipped";
    if (this.keys.length + this.delimitedPrefixes.length >= this.plan.limit) {
      this.truncated = true;
      return "full";
    }
    const group = this.#group(bytes);
    if (group === undefined) {
      this.keys.push(key);
      this.after = bytes;
      return "object";
    }
    this.delimitedPrefixes.push(fromUtf8(group));
    this.after = concatBytes(group, PAST_GROUP);
    return "group";
  }

  /** Where the next page starts, when this one is truncated. */
  get cursor(): string | undefined {
    return this.truncated && this.after ? encodeCursor(this.after) : undefined;
  }

  /** The page as a `listKeys` result. */
  keyResult(): KeyListResult {
    return {
      keys: this.keys,
      delimitedPrefixes: this.delimitedPrefixes,
      truncated: this.truncated,
      ...(this.cursor !== undefined && { cursor: this.cursor }),
    };
  }

  /** The page as a list result, with the objects of its keys (`undefined`: gone meanwhile). */
  result(objects: readonly (StoredObject | undefined)[]): ListResult {
    return {
      objects: objects.filter((object) => object !== undefined),
      delimitedPrefixes: this.delimitedPrefixes,
      truncated: this.truncated,
      ...(this.cursor !== undefined && { cursor: this.cursor }),
    };
  }

  #group(bytes: Uint8Array): Uint8Array | undefined {
    const { prefix, delimiter } = this.plan;
    if (delimiter === undefined) return undefined;
    const at = indexOfBytes(bytes, delimiter, prefix.byteLength);
    return at < 0 ? undefined : bytes.slice(0, at + delimiter.byteLength);
  }
}

function indexOfBytes(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = from; i + needle.byteLength <= bytes.byteLength; i++) {
    if (startsWith(bytes.subarray(i), needle)) return i;
  }
  return -1;
}

function encodeCursor(after: Uint8Array): string {
  return Array.from(after, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function decodeCursor(cursor: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})+$/.test(cursor)) {
    throw new StorageError("InvalidArgument", `not a list cursor: ${JSON.stringify(cursor)}`);
  }
  return Uint8Array.from(cursor.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}
