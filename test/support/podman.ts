/**
 * podman bound to stores of its own, for the end-to-end tests: each store has its own root
 * (images) and runroot, so tests never share images or state with each other or the machine.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { randomName } from "./oci-image";
import { runOk } from "./tools";

const TIMEOUT = 120_000;

export interface PodmanImage {
  Id: string;
  Digest: string;
  Architecture: string;
  RootFS: { Layers: string[] };
}

export interface PodmanStore {
  /** Runs `podman <args>` on this store; resolves with stdout, fails on a non-zero exit. */
  podman(...args: string[]): Promise<string>;
  /** The one image `reference` names in this store. */
  inspect(reference: string): Promise<PodmanImage>;
}

/** Stores under one work directory, removed together by `cleanup`. */
export class PodmanStores {
  readonly #work: string;
  readonly #runRoots: string[] = [];

  constructor(work: string) {
    this.#work = work;
  }

  /**
   * A new store. podman refuses a runroot over 50 characters, so that one lives directly under
   * /tmp rather than in the work directory.
   */
  async create(name: string): Promise<PodmanStore> {
    const runRoot = await mkdtemp("/tmp/podman-run-");
    this.#runRoots.push(runRoot);
    const global = [
      `--root=${join(this.#work, randomName(name))}`,
      `--runroot=${runRoot}`,
      "--storage-driver=vfs",
      "--events-backend=none",
      "--cgroup-manager=cgroupfs",
    ];
    const podman = (...args: string[]) =>
      runOk(["podman", ...global, ...args], { timeoutMs: TIMEOUT });
    const inspect = async (reference: string) => {
      const images = JSON.parse(await podman("image", "inspect", reference)) as PodmanImage[];
      if (images.length !== 1 || !images[0]) throw new Error(`no single image ${reference}`);
      return images[0];
    };
    return { podman, inspect };
  }

  async cleanup(): Promise<void> {
    for (const runRoot of this.#runRoots) await rm(runRoot, { recursive: true, force: true });
  }
}
