/** Tag listing: one listing of the repository's tags folder, already in byte order. */
import type { ObjectStorage } from "../storage/storage";
import { NameUnknown } from "./errors";
import { layout } from "./layout";
import { listNames, type Page } from "./listing";
import type { ManifestStore } from "./manifests";

export class Tags {
  readonly #storage: ObjectStorage;
  readonly #manifests: ManifestStore;

  constructor(storage: ObjectStorage, manifests: ManifestStore) {
    this.#storage = storage;
    this.#manifests = manifests;
  }

  /** Up to `limit` tags after `last`; `NAME_UNKNOWN` for a repository never pushed to. */
  async list(name: string, options: { last?: string; limit: number }): Promise<Page<string>> {
    if (!(await this.#manifests.repositoryExists(name))) throw new NameUnknown(name);
    if (options.limit === 0) return { items: [], more: false };
    return listNames(this.#storage, layout.tagsPrefix(name), options);
  }
}
