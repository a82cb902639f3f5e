/**
 * The registry's one error type, and one subclass per wire code of the OCI Distribution
 * Specification. The HTTP layer renders them; nothing else knows about status lines.
 */
import type { Digest } from "./digest";

export type ErrorCode =
  | "BLOB_UNKNOWN"
  | "BLOB_UPLOAD_INVALID"
  | "BLOB_UPLOAD_UNKNOWN"
  | "DIGEST_INVALID"
  | "MANIFEST_BLOB_UNKNOWN"
  | "MANIFEST_INVALID"
  | "MANIFEST_UNKNOWN"
  | "NAME_INVALID"
  | "NAME_UNKNOWN"
  | "SIZE_INVALID"
  | "UNAUTHORIZED"
  | "DENIED"
  | "UNSUPPORTED"
  | "UNAVAILABLE"
  | "TOOMANYREQUESTS";

/** Where an upload session stands, for errors that must tell the client how to resume. */
export interface UploadPosition {
  repository: string;
  id: string;
  size: number;
}

export class RegistryError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: unknown;

  constructor(status: number, code: ErrorCode, message: string, detail?: unknown) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export class BlobUnknown extends RegistryError {
  constructor(digest: string) {
    super(404, "BLOB_UNKNOWN", "blob unknown to registry", { digest });
  }
}

export class BlobUploadInvalid extends RegistryError {
  constructor(message: string) {
    super(400, "BLOB_UPLOAD_INVALID", message);
  }
}

/** 416: a chunk that does not start where the session stands, or a session busy elsewhere. */
export class UploadRangeInvalid extends RegistryError {
  readonly position: UploadPosition;

  constructor(position: UploadPosition, message = "chunk out of order") {
    super(416, "BLOB_UPLOAD_INVALID", message, { size: position.size });
    this.position = position;
  }
}

export class BlobUploadUnknown extends RegistryError {
  constructor(id: string) {
    super(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", { id });
  }
}

export class DigestInvalid extends RegistryError {
  constructor(message = "provided digest did not match uploaded content", detail?: unknown) {
    super(400, "DIGEST_INVALID", message, detail);
  }
}

export class ManifestBlobUnknown extends RegistryError {
  constructor(digest: string) {
    super(400, "MANIFEST_BLOB_UNKNOWN", "manifest references a blob unknown to registry", {
      digest,
    });
  }
}

export class ManifestInvalid extends RegistryError {
  constructor(message: string, status = 400) {
    super(status, "MANIFEST_INVALID", message);
  }
}

export class ManifestUnknown extends RegistryError {
  constructor(reference: string) {
    super(404, "MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
  }
}

export class NameInvalid extends RegistryError {
  constructor(name: string) {
    super(400, "NAME_INVALID", "invalid repository name", { name });
  }
}

export class NameUnknown extends RegistryError {
  constructor(name: string) {
    super(404, "NAME_UNKNOWN", "repository name not known to registry", { name });
  }
}

export class SizeInvalid extends RegistryError {
  constructor(message: string) {
    super(400, "SIZE_INVALID", message);
  }
}

export class Unsupported extends RegistryError {
  constructor(message: string, status = 400) {
    super(status, "UNSUPPORTED", message);
  }
}

/** How a client is to authenticate: a `WWW-Authenticate` challenge, rendered by the HTTP layer. */
export interface Challenge {
  scheme: "Basic" | "Bearer";
  params: Record<string, string>;
}

/** 401: no credentials, wrong ones, or a token that does not reach far enough. */
export class Unauthorized extends RegistryError {
  readonly challenge: Challenge;

  constructor(challenge: Challenge, message = "authentication required", detail?: unknown) {
    super(401, "UNAUTHORIZED", message, detail);
    this.challenge = challenge;
  }
}

/** 403: the caller is known, and the rules do not allow what it asks. */
export class Denied extends RegistryError {
  constructor(message = "requested access to the resource is denied", detail?: unknown) {
    super(403, "DENIED", message, detail);
  }
}

/** 503: the registry cannot serve at all, e.g. for want of a usable configuration. */
export class Unavailable extends RegistryError {
  constructor(message: string) {
    super(503, "UNAVAILABLE", message);
  }
}

/**
 * 503 for a write that needs an object garbage collection is deleting at that moment: pushing
 * again, once the collection has finished deleting, succeeds.
 */
export class CollectedMeanwhile extends RegistryError {
  constructor(digest: Digest) {
    super(503, "UNAVAILABLE", "garbage collection removed this blob meanwhile: push it again", {
      digest: digest.value,
    });
  }
}

/** 503 for a manifest PUT that came while garbage collection was deleting the same manifest. */
export class CollectedManifest extends RegistryError {
  constructor() {
    super(503, "UNAVAILABLE", "garbage collection removed this manifest meanwhile: push it again");
  }
}
