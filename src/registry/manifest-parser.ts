/**
 * Manifest parsing and validation: OCI image manifests and indexes, Docker schema 2 manifests
 * and manifest lists, and artifacts (image manifests with an `artifactType`).
 */
import { type Digest, tryParseDigest } from "./digest";
import { ManifestInvalid } from "./errors";

export const MEDIA_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

const KINDS: Record<string, "manifest" | "index"> = {
  [MEDIA_TYPES.ociManifest]: "manifest",
  [MEDIA_TYPES.dockerManifest]: "manifest",
  [MEDIA_TYPES.ociIndex]: "index",
  [MEDIA_TYPES.dockerManifestList]: "index",
};

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  /** Where the content lives outside the registry (foreign layers). */
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  kind: "manifest" | "index";
  /** The config and layers of an image manifest. */
  blobs: Descriptor[];
  /** The manifests of an index. */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** The artifact type, or for an image manifest without one, its config's media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

type Json = Record<string, unknown>;

/** Parses and validates a manifest, given the request's `Content-Type` (if any). */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  const document = parseJson(bytes);
  if (document.schemaVersion !== 2) throw new ManifestInvalid("schemaVersion must be 2");

  const mediaType = resolveMediaType(document, contentType);
  const kind = KINDS[mediaType];
  if (!kind) throw new ManifestInvalid(`unsupported manifest media type: ${mediaType}`);

  const parsed = kind === "manifest" ? parseImageManifest(document) : parseIndex(document);
  return { mediaType, kind, ...parsed, ...parseCommon(document) };
}

function parseJson(bytes: Uint8Array): Json {
  let document: unknown;
  try {
    document = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes),
    );
  } catch {
    throw new ManifestInvalid("manifest is not valid JSON");
  }
  if (!isObject(document)) throw new ManifestInvalid("manifest is not a JSON object");
  return document;
}

/** The body's `mediaType` wins; a `Content-Type` naming a manifest type must agree with it. */
function resolveMediaType(document: Json, contentType: string | undefined): string {
  const declared = document.mediaType;
  if (declared !== undefined && typeof declared !== "string") {
    throw new ManifestInvalid("mediaType must be a string");
  }
  const header = contentType?.split(";")[0]?.trim().toLowerCase();
  const headerType = header && KINDS[header] ? header : undefined;
  if (declared !== undefined && headerType && declared !== headerType) {
    throw new ManifestInvalid(`mediaType ${declared} differs from Content-Type ${headerType}`);
  }
  if (declared !== undefined) return declared;
  if (headerType) return headerType;
  throw new ManifestInvalid("manifest media type unknown: set mediaType or Content-Type");
}

function parseImageManifest(document: Json) {
  const config = parseDescriptor(document.config, "config");
  if (!Array.isArray(document.layers)) throw new ManifestInvalid("layers must be an array");
  const layers = document.layers.map((layer, i) => parseDescriptor(layer, `layers[${i}]`));
  const artifactType = optionalString(document.artifactType, "artifactType") || config.mediaType;
  return { blobs: [config, ...layers], manifests: [], artifactType };
}

function parseIndex(document: Json) {
  if (!Array.isArray(document.manifests)) throw new ManifestInvalid("manifests must be an array");
  const manifests = document.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}]`));
  const artifactType = optionalString(document.artifactType, "artifactType") || undefined;
  return { blobs: [], manifests, artifactType };
}

function parseCommon(document: Json) {
  const subject =
    document.subject === undefined ? undefined : parseDescriptor(document.subject, "subject");
  const annotations = parseAnnotations(document.annotations, "annotations");
  return { subject, annotations };
}

function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw new ManifestInvalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, urls } = value;
  if (typeof mediaType !== "string" || mediaType === "") {
    throw new ManifestInvalid(`${where}.mediaType must be a string`);
  }
  const parsed = typeof digest === "string" ? tryParseDigest(digest) : null;
  if (!parsed) throw new ManifestInvalid(`${where}.digest is not a supported digest`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new ManifestInvalid(`${where}.size must be a non-negative integer`);
  }
  parseAnnotations(value.annotations, `${where}.annotations`);
  return { mediaType, digest: parsed, size, urls: parseUrls(urls, where) };
}

function parseUrls(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((url) => typeof url === "string")) {
    throw new ManifestInvalid(`${where}.urls must be an array of strings`);
  }
  return value.length > 0 ? value : undefined;
}

function parseAnnotations(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw new ManifestInvalid(`${where} must map strings to strings`);
  }
  return value as Record<string, string>;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new ManifestInvalid(`${where} must be a string`);
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
