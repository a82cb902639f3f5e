/** The one error the storage rules throw, named after R2's errors. */

export type StorageErrorCode =
  | "InvalidKey"
  | "InvalidRange"
  | "InvalidLength"
  | "InvalidArgument"
  | "MetadataTooLarge"
  | "EntityTooLarge"
  | "EntityTooSmall"
  | "InvalidPart"
  | "InvalidPartOrder"
  | "BadUpload"
  | "NoSuchUpload";

/** A request the storage refuses, named after R2's error (e.g. `InvalidRange` is R2's 416). */
export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "StorageError";
    this.code = code;
  }
}
