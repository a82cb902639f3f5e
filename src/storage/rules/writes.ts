/** What a write must satisfy before it is stored: R2's caps on metadata and size, and `onlyIf`. */
import { type Conditional, MAX_PUT_SIZE } from "../storage";
import { StorageError } from "./errors";

/** R2's cap on custom metadata, counted as its keys' and values' lengths. */
export const MAX_METADATA_BYTES = 2048;

/** Refuses custom metadata over R2's cap (a string with a char over U+00FF counts double). */
export function checkMetadata(customMetadata: Record<string, string> | undefined): void {
  let total = 0;
  for (const [name, value] of Object.entries(customMetadata ?? {})) {
    total += serialisedLength(name) + serialisedLength(value);
  }
  if (total > MAX_METADATA_BYTES) {
    throw new StorageError("MetadataTooLarge", `custom metadata over ${MAX_METADATA_BYTES} bytes`);
  }
}

function serialisedLength(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return text.length * 2;
  return text.length;
}

/** Refuses a put over R2's single-put size cap. */
export function checkPutSize(length: number): void {
  if (length > MAX_PUT_SIZE) throw new StorageError("EntityTooLarge", `${length} bytes`);
}

/**
 * Whether a conditional write may go ahead over `current` (`undefined`: no object). As in R2,
 * `etagMatches` fails when there is no object, and `"*"` matches any object.
 */
export function conditionHolds(
  onlyIf: Conditional | undefined,
  current: { etag: string } | undefined,
): boolean {
  if (onlyIf === undefined) return true;
  const { etagMatches, etagDoesNotMatch } = onlyIf;
  if (current === undefined) return etagMatches === undefined;
  const matches = (etag: string) => etag === "*" || etag === current.etag;
  if (etagMatches !== undefined && !matches(etagMatches)) return false;
  return etagDoesNotMatch === undefined || !matches(etagDoesNotMatch);
}
