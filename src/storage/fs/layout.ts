/**
 * Where everything lives under a bucket's data directory (the tree is drawn in r2-fs.ts): the
 * path of a key's metadata file, of an etag's data file, of a key's lock, of an upload, and fresh
 * names in tmp/ for files being written. Paths only: nothing here touches the disk.
 */
import { createHash, randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { checkPortableKey, utf8 } from "../rules";
import { keyNames } from "./key-names";

export class Layout {
  readonly keys: string;
  readonly data: string;
  readonly uploads: string;
  readonly tmp: string;
  readonly locks: string;

  constructor(dataDir: string) {
    const root = resolve(dataDir);
    this.keys = join(root, "keys");
    this.data = join(root, "data");
    this.uploads = join(root, "uploads");
    this.tmp = join(root, "tmp");
    this.locks = join(root, "locks");
  }

  /** Every top-level directory. */
  get dirs(): string[] {
    return [this.keys, this.data, this.uploads, this.tmp, this.locks];
  }

  /** The metadata file of `key`; refuses a key that is not portable. */
  objectPath(key: string): string {
    checkPortableKey(key);
    return join(this.keys, ...keyNames(utf8(key)));
  }

  /** The data file of an object version, in a directory named by the etag's first two digits. */
  dataPath(etag: string): string {
    return join(this.data, etag.slice(0, 2), etag);
  }

  /** A fresh path in tmp/, for a file or directory being written. */
  tempPath(): string {
    return join(this.tmp, `${Date.now().toString(36)}-${randomBytes(8).toString("hex")}`);
  }

  /** The write lock of `key`, named by a hash: keys may be longer than a file name. */
  lockPath(key: string): string {
    return join(this.locks, createHash("sha1").update(key).digest("hex"));
  }

  uploadDir(uploadId: string): string {
    return join(this.uploads, uploadId);
  }
}
