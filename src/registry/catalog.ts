/** The catalog: one listing of the repository index, already in byte order. */
import type { ObjectStorage } from "../storage/storage";
import { layout } from "./layout";
import { listNames, type Page } from "./listing";

export class Catalog {
  readonly #storage: ObjectStorage;

  constructor(storage: ObjectStorage) {
    this.#storage = storage;
  }

  /** Up to `limit` repository names after `last`. */
  async list(options: { last?: string; limit: number }): Promise<Page<string>> {
    if (options.limit === 0) return { items: [], more: false };
    return listNames(this.#storage, layout.catalogPrefix, options);
  }
}
