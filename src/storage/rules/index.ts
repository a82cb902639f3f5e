/**
 * The rules of R2 that every local driver enforces, so that code tested on them runs unchanged on
 * R2: key limits, metadata limits, byte ranges, conditional writes, list pages and cursors,
 * multipart part rules, and reading a `PutValue` as exactly its declared number of bytes.
 *
 * Keys are compared as UTF-8 bytes (R2's order), never as JavaScript strings (see bytes.ts).
 * Runtime-neutral: no Bun or Node APIs anywhere in this folder.
 */
export { bytesStream, withBody } from "./bodies";
export { compareBytes, concatBytes, fromUtf8, startsWith, utf8 } from "./bytes";
export { StorageError, type StorageErrorCode } from "./errors";
export { checkKey, checkPortableKey } from "./keys";
export { clampListLimit, ListPage, type ListPlan, type Offered, planList } from "./list-page";
export { checkPartNumber, type PartInfo, selectParts } from "./multipart";
export { type ResolvedRange, resolveRange } from "./ranges";
export { putValueBytes, putValueStream, readSized } from "./values";
export {
  checkMetadata,
  checkPutSize,
  conditionHolds,
  MAX_METADATA_BYTES,
} from "./writes";
