/** Repository names and tags, by the grammars of the OCI Distribution Specification. */
import { ManifestInvalid, NameInvalid } from "./errors";

const NAME_COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const NAME = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

/** Returns the name when valid, or throws `NAME_INVALID`. */
export function checkRepositoryName(name: string): string {
  if (!isRepositoryName(name)) throw new NameInvalid(name);
  return name;
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Returns the tag when valid, or throws `MANIFEST_INVALID`. */
export function checkTag(tag: string): string {
  if (!isTag(tag)) throw new ManifestInvalid(`invalid tag: ${JSON.stringify(tag)}`);
  return tag;
}
