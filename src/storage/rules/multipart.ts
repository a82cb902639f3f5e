/** R2's rules for multipart uploads: part numbers, and which parts `complete` accepts. */
import { MAX_PARTS, MIN_PART_SIZE, type UploadedPart } from "../storage";
import { StorageError } from "./errors";

/** A stored part as a driver knows it. */
export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
}

export function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new StorageError("InvalidPart", `part number ${partNumber} is not 1 to ${MAX_PARTS}`);
  }
}

/**
 * Checks the parts listed to `complete` against the stored ones and returns those, in order.
 * The list is non-empty, ascending, without duplicates; each part exists with the listed etag;
 * every part but the last has one size of at least `MIN_PART_SIZE`; the last is no larger.
 */
export function selectParts<P extends PartInfo>(
  listed: readonly UploadedPart[],
  stored: ReadonlyMap<number, P>,
): P[] {
  if (listed.length === 0) throw new StorageError("InvalidPart", "no parts listed");
  const parts = listed.map((part, i) => {
    checkPartNumber(part.partNumber);
    const previous = listed[i - 1];
    if (previous !== undefined && part.partNumber <= previous.partNumber) {
      throw new StorageError("InvalidPartOrder", "parts must be listed in ascending order");
    }
    const found = stored.get(part.partNumber);
    if (found === undefined || found.etag !== part.etag) {
      throw new StorageError("InvalidPart", `part ${part.partNumber} not found with that etag`);
    }
    return found;
  });
  checkPartSizes(parts);
  return parts;
}

function checkPartSizes(parts: readonly PartInfo[]): void {
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (first === undefined || last === undefined || first === last) return;
  for (const part of parts.slice(0, -1)) {
    if (part.size < MIN_PART_SIZE) {
      throw new StorageError("EntityTooSmall", `part ${part.partNumber} under ${MIN_PART_SIZE}`);
    }
    if (part.size !== first.size) throw new StorageError("BadUpload", "parts differ in size");
  }
  if (last.size > first.size) throw new StorageError("BadUpload", "last part larger than others");
}
