/**
 * Garbage collection: mark and sweep over the bucket, safe while pushes go on, in bounded steps
 * whose progress lives in the bucket (`gc/run`), so that any process or Worker invocation can
 * carry a collection on and a large bucket takes as many steps as it needs.
 *
 * What is collected: manifests nothing live refers to (see repository-scan.ts for the roots and
 * the policies), their referrers entries, repository blob links no live manifest uses, blobs no
 * repository links, bytes no blob record points at, and upload sessions idle for longer than
 * their time to live. Nothing younger than the grace period is ever a candidate.
 *
 * THE INVARIANT: a collection deletes no object that a completed push refers to. A push is
 * complete when its manifest PUT (or blob upload, or mount) has answered success, and every such
 * write, after writing, runs `GcGuard.protect` on the objects it needs (marks.ts).
 *
 * Why it holds. A collection runs in this order:
 *   1. it writes `gc/run`; from then on, writers consult the marks;
 *   2. scan: it lists everything and judges each object; candidates are the unused ones;
 *   3. condemn: it marks every candidate `condemned`;
 *   4. rescan: it lists again, and a repository whose keys or etags changed since (2) is judged
 *      again: a candidate it now uses is dropped;
 *   5. claim: each remaining candidate's mark goes `condemned` → `claimed` by a conditional
 *      put; one that a writer turned `rescued` meanwhile is kept, with all it refers to;
 *   6. delete: it deletes the claimed objects, marking each `deleted` after;
 *   7. it removes the marks, then `gc/run`.
 * Take a write W that needs object X, and the moment W's protect looks at X's mark:
 * - if `gc/run` was absent when W looked, any earlier collection had finished its deletions
 *   (7 comes after 6), so W's check that X exists is final: no later collection can condemn X
 *   while W's manifest (written before the check) uses it, because its scan (2) sees it;
 * - if X was marked `condemned`, W's conditional put rescues it, or fails because GC claimed it
 *   first: then W fails and the client pushes again;
 * - if X had no mark yet, X is condemned later, if at all: after W wrote its manifest. Then the
 *   rescan (4), which starts after every mark is written, lists W's manifest, judges its
 *   repository again and drops X;
 * - `claimed`: W fails. `deleted`: X was deleted before; W then checks X exists.
 * Objects a candidate refers to are claimed after it (manifests from indexes and subjects down
 * to their children and referrers, then links, then blob records, then their bytes), so a
 * writer that rescues a manifest that is still unclaimed keeps everything below it.
 * A push overlapping a collection thus either completes with everything it needs kept, or
 * fails with 400 MANIFEST_BLOB_UNKNOWN or 503 UNAVAILABLE, which a retry clears.
 *
 * Memory: a run holds 64 bits of the digest of every live blob, the locations of the
 * multipart-assembled ones, the candidates, and one repository's keys at a time. All of it is
 * saved in `gc/run` after every step.
 */
import type { HashEngine } from "../hash/hasher";
import { parseDigest } from "../registry/digest";
import { layout } from "../registry/layout";
import type { Conditional, ObjectStorage, StoredObject } from "../storage/storage";
import { setMark } from "./marks";
import {
  addToScan,
  emptyScan,
  judge,
  type Policy,
  type References,
  type RepositoryScan,
  referencesOf,
  splitRepositoryKey,
} from "./repository-scan";
import { emptyRemoved, emptyUsage, type Report } from "./report";
import { StaleUploads } from "./stale-uploads";

export interface CollectionOptions {
  dryRun?: boolean;
  policy?: Policy;
  /** Objects younger than this are never deleted (default one hour). */
  graceMs?: number;
  /** Upload sessions idle for longer than this are aborted (default 24 hours). */
  uploadTtlMs?: number;
  /** Pause once this phase is done, until `resume` (a test's hook into the protocol). */
  pauseAfter?: Phase;
}

export const DEFAULT_GRACE_MS = 60 * 60 * 1000;
export const DEFAULT_UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

export const PHASES = [
  "clear",
  "scan",
  "blobs",
  "data",
  "condemn",
  "rescan",
  "claim",
  "delete",
  "uploads",
  "finish",
  "done",
] as const;
export type Phase = (typeof PHASES)[number];

type Kind = "manifest" | "referrer" | "link" | "blob" | "data";

interface Candidate {
  kind: Kind;
  repository?: string;
  digest?: string;
  bytes: number;
  /** For a manifest: what it refers to, and its subject. */
  references?: References;
  subject?: string;
  /** For a link or a blob record: where the bytes are, when not at the blob's key. */
  location?: string;
  /** The etag of the `condemned` mark. */
  mark?: string;
  state: "found" | "condemned" | "claimed" | "kept" | "deleted";
}

/** A collection's progress: what `gc/run` holds. */
export interface RunState {
  report: Report;
  options: Required<Omit<CollectionOptions, "pauseAfter">> & { pauseAfter?: Phase };
  /** Objects uploaded at or after this instant are young. */
  youngSince: number;
  uploadsIdleSince: number;
  phase: Phase;
  paused: boolean;
  cursor?: string;
  listed: boolean;
  scan?: RepositoryScan;
  ready: RepositoryScan[];
  references: Record<string, References>;
  fingerprints: Record<string, string>;
  live: string[];
  liveLocations: string[];
  candidates: Record<string, Candidate>;
  order: string[];
  position: number;
  lastSession?: string;
  lease?: { owner: string; until: number };
}

/** What a step may spend: storage operations (Worker subrequests) and time. */
export interface Budget {
  operations: number;
  milliseconds: number;
}

export interface CollectorOptions {
  hashEngine: HashEngine;
  now?: () => number;
  /** How long a step may hold the run before another process may take it over. */
  leaseMs?: number;
}

export interface Status {
  running: null | {
    id: string;
    phase: Phase;
    paused: boolean;
    startedAt: string;
    dryRun: boolean;
    policy: Policy;
  };
  last: Report | null;
}

export class Collector {
  readonly #storage: ObjectStorage;
  readonly #options: CollectorOptions;
  readonly #owner = crypto.randomUUID();

  constructor(storage: ObjectStorage, options: CollectorOptions) {
    this.#storage = storage;
    this.#options = options;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** Starts a collection; `false` when one is already running (it goes on unchanged). */
  async start(options: CollectionOptions = {}): Promise<boolean> {
    const now = this.#now();
    const full = {
      dryRun: options.dryRun ?? false,
      policy: options.policy ?? "all",
      graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
      uploadTtlMs: options.uploadTtlMs ?? DEFAULT_UPLOAD_TTL_MS,
      pauseAfter: options.pauseAfter,
    };
    const state: RunState = {
      report: {
        id: crypto.randomUUID(),
        dryRun: full.dryRun,
        policy: full.policy,
        graceSeconds: full.graceMs / 1000,
        startedAt: new Date(now).toISOString(),
        repositories: {},
        total: { blobs: 0, blobBytes: 0, manifestBytes: 0, bytes: 0 },
        removedBlobs: { count: 0, bytes: 0 },
        reclaimedBytes: 0,
        abandonedUploads: 0,
        rescued: 0,
        steps: 0,
        operations: 0,
      },
      options: full,
      youngSince: now - full.graceMs,
      uploadsIdleSince: now - full.uploadTtlMs,
      phase: "clear",
      paused: false,
      listed: false,
      ready: [],
      references: {},
      fingerprints: {},
      live: [],
      liveLocations: [],
      candidates: {},
      order: [],
      position: 0,
    };
    return (await save(this.#storage, state, { etagDoesNotMatch: "*" })) !== null;
  }

  /** The run in progress (from its metadata: the state itself may be large) and the last report. */
  async status(): Promise<Status> {
    const [run, report] = await Promise.all([
      this.#storage.head(layout.gcRun),
      this.#storage.get(layout.gcReport),
    ]);
    const summary = run?.customMetadata.summary;
    return {
      running: summary ? (JSON.parse(summary) as Status["running"]) : null,
      last: report ? await report.json<Report>() : null,
    };
  }

  /** Lets a run paused by `pauseAfter` go on. */
  async resume(): Promise<void> {
    await this.#update((state) => {
      state.paused = false;
      state.options.pauseAfter = undefined;
    });
  }

  /**
   * Carries the running collection on within `budget`. Returns its phase afterwards: `done`
   * when it finished (or none was running), else where it stopped.
   */
  async step(budget: Budget): Promise<Phase> {
    return (await this.#step(budget)).phase;
  }

  async #step(budget: Budget): Promise<{ phase: Phase; idle: boolean }> {
    const loaded = await this.#storage.get(layout.gcRun);
    if (!loaded) return { phase: "done", idle: true };
    const state = await loaded.json<RunState>();
    const idle = { phase: state.phase, idle: true };
    if (state.paused) return idle;
    const now = this.#now();
    if (state.lease && state.lease.owner !== this.#owner && state.lease.until > now) return idle;
    state.lease = { owner: this.#owner, until: now + (this.#options.leaseMs ?? 5 * 60_000) };
    const leased = await save(this.#storage, state, { etagMatches: loaded.etag });
    if (!leased) return idle;

    const work = new Step(this.#storage, state, budget, this.#options.hashEngine);
    await work.run();
    state.lease = undefined;
    if (state.phase === "done") {
      await this.#storage.delete(layout.gcRun);
      return { phase: "done", idle: false };
    }
    await save(this.#storage, state, { etagMatches: leased.etag });
    return { phase: state.phase, idle: false };
  }

  /**
   * Runs steps until the collection is done or paused; waits while another process holds the
   * run (until its lease runs out, should it have died).
   */
  async runToEnd(budget: Budget = { operations: 5000, milliseconds: 30_000 }): Promise<Phase> {
    for (;;) {
      const { phase, idle } = await this.#step(budget);
      if (phase === "done") return phase;
      if (!idle) continue;
      const running = (await this.status()).running;
      if (!running || running.paused) return running?.phase ?? "done";
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async #update(change: (state: RunState) => void): Promise<void> {
    for (;;) {
      const loaded = await this.#storage.get(layout.gcRun);
      if (!loaded) return;
      const state = await loaded.json<RunState>();
      change(state);
      if (await save(this.#storage, state, { etagMatches: loaded.etag })) return;
    }
  }
}

/** One step of a run: advances `state` in place until the budget is spent. */
class Step {
  readonly #storage: ObjectStorage;
  readonly #state: RunState;
  readonly #budget: Budget;
  readonly #hashEngine: HashEngine;
  readonly #started: number;
  /** The blobs some live link uses, by `liveKey`. */
  readonly #live: Set<string>;
  readonly #liveLocations: Set<string>;
  #operations = 0;

  constructor(storage: ObjectStorage, state: RunState, budget: Budget, hashEngine: HashEngine) {
    this.#storage = storage;
    this.#state = state;
    this.#budget = budget;
    this.#hashEngine = hashEngine;
    this.#started = Date.now();
    this.#live = new Set(state.live);
    this.#liveLocations = new Set(state.liveLocations);
  }

  get #spent(): boolean {
    return (
      this.#operations >= this.#budget.operations ||
      Date.now() - this.#started >= this.#budget.milliseconds
    );
  }

  /** Counts one storage operation and passes its promise through. */
  #op<T>(operation: Promise<T>): Promise<T> {
    this.#operations++;
    return operation;
  }

  async run(): Promise<void> {
    const state = this.#state;
    state.report.steps++;
    while (!this.#spent && state.phase !== "done" && !state.paused) {
      const phase = state.phase;
      await this.#advance();
      if (state.phase !== phase && state.options.pauseAfter === phase) state.paused = true;
    }
    state.live = [...this.#live];
    state.liveLocations = [...this.#liveLocations];
    if (state.phase !== "done") state.report.operations += this.#operations;
  }

  #next(phase: Phase): void {
    const state = this.#state;
    state.phase = phase;
    state.cursor = undefined;
    state.listed = false;
    state.order = [];
    state.position = 0;
  }

  async #advance(): Promise<void> {
    const state = this.#state;
    switch (state.phase) {
      case "clear":
        if (await this.#clearMarks()) this.#next("scan");
        return;
      case "scan":
      case "rescan":
        if (await this.#scanRepositories()) {
          if (state.phase === "rescan") this.#dropRescued();
          this.#next(state.phase === "scan" ? "blobs" : "claim");
        }
        return;
      case "blobs":
        if (await this.#scanBlobs()) this.#next("data");
        return;
      case "data":
        if (await this.#scanData()) this.#next(state.options.dryRun ? "uploads" : "condemn");
        return;
      case "condemn":
        if (await this.#condemn()) this.#next("rescan");
        return;
      case "claim":
        if (await this.#claim()) this.#next("delete");
        return;
      case "delete":
        if (await this.#delete()) this.#next("uploads");
        return;
      case "uploads":
        if (await this.#uploads()) this.#next("finish");
        return;
      case "finish":
        if (await this.#finish()) this.#next("done");
        return;
      case "done":
        return;
    }
  }

  /** Removes marks a run that vanished left behind; true when none are left. */
  async #clearMarks(): Promise<boolean> {
    const page = await this.#op(this.#storage.listKeys({ prefix: layout.gcMarksPrefix }));
    if (page.keys.length) await this.#op(this.#storage.delete(page.keys));
    return !page.truncated;
  }

  /** Lists `repositories/` a page at a time and judges each repository listed whole. */
  async #scanRepositories(): Promise<boolean> {
    const state = this.#state;
    if (state.ready.length) {
      await this.#judgeReady();
      return false;
    }
    if (state.listed) {
      if (!state.scan) return true;
      state.ready.push(state.scan);
      state.scan = undefined;
      return false;
    }
    const prefix = layout.repositoriesPrefix;
    const page = await this.#op(
      this.#storage.list({ prefix, cursor: state.cursor, include: ["customMetadata"] }),
    );
    for (const object of page.objects) {
      const parts = splitRepositoryKey(object.key, prefix);
      if (!parts) continue;
      if (state.scan?.name !== parts.name) {
        if (state.scan) state.ready.push(state.scan);
        state.scan = emptyScan(parts.name);
      }
      addToScan(state.scan, object, parts.folder, parts.rest);
    }
    state.cursor = page.truncated ? page.cursor : undefined;
    state.listed = !page.truncated;
    return false;
  }

  /** Reads the manifests of the first repository listed whole, then judges it. */
  async #judgeReady(): Promise<void> {
    const state = this.#state;
    const scan = state.ready[0];
    if (!scan) return;
    const fingerprint = this.#fingerprint(scan);
    if (state.phase === "rescan" && state.fingerprints[scan.name] === fingerprint) {
      state.ready.shift();
      return;
    }
    for (const digest of Object.keys(scan.manifests)) {
      if (digest in state.references) continue;
      if (this.#spent) return;
      const key = layout.manifest(scan.name, parseDigest(digest));
      const object = await this.#op(this.#storage.get(key));
      state.references[digest] = object
        ? referencesOf(new Uint8Array(await object.arrayBuffer()), object.httpMetadata.contentType)
        : { manifests: [], blobs: [] };
    }

    const verdict = judge(scan, state.references, {
      policy: state.options.policy,
      youngSince: state.youngSince,
    });
    for (const digest of verdict.liveBlobs) this.#live.add(liveKey(digest));
    if (state.phase === "scan") {
      state.fingerprints[scan.name] = fingerprint;
      this.#addCandidates(scan, verdict);
    } else {
      this.#keepWhatIsUsedAgain(scan.name, verdict);
    }
    state.references = {};
    state.ready.shift();
  }

  #fingerprint(scan: RepositoryScan): string {
    const hasher = this.#hashEngine.create("sha256");
    hasher.update(new TextEncoder().encode(scan.fingerprint.join("\n")));
    return hasher.digestHex().slice(0, 32);
  }

  #addCandidates(scan: RepositoryScan, verdict: ReturnType<typeof judge>): void {
    const state = this.#state;
    const { name } = scan;
    const usage = emptyUsage();
    for (const entry of Object.values(scan.manifests)) {
      usage.manifests++;
      usage.manifestBytes += entry.size;
    }
    for (const link of Object.values(scan.links)) {
      usage.blobs++;
      usage.blobBytes += link.size;
    }
    state.report.repositories[name] = { usage, removed: emptyRemoved() };
    state.report.total.manifestBytes += usage.manifestBytes;

    for (const digest of verdict.manifests) {
      const entry = scan.manifests[digest];
      state.candidates[layout.manifest(name, parseDigest(digest))] = {
        kind: "manifest",
        repository: name,
        digest,
        bytes: entry?.size ?? 0,
        references: state.references[digest],
        subject: entry?.subject,
        state: "found",
      };
    }
    for (const entry of verdict.referrers) {
      state.candidates[entry.key] = {
        kind: "referrer",
        repository: name,
        digest: entry.digest,
        bytes: 0,
        state: "found",
      };
    }
    for (const digest of verdict.links) {
      const link = scan.links[digest];
      state.candidates[layout.blobLink(name, parseDigest(digest))] = {
        kind: "link",
        repository: name,
        digest,
        bytes: link?.size ?? 0,
        location: link?.location,
        state: "found",
      };
    }
  }

  /** Rescan of a repository that changed: candidates it uses now are kept. */
  #keepWhatIsUsedAgain(name: string, verdict: ReturnType<typeof judge>): void {
    const still = new Set<string>([
      ...verdict.manifests.map((d) => layout.manifest(name, parseDigest(d))),
      ...verdict.links.map((d) => layout.blobLink(name, parseDigest(d))),
      ...verdict.referrers.map((entry) => entry.key),
    ]);
    for (const [key, candidate] of Object.entries(this.#state.candidates)) {
      if (candidate.repository !== name || still.has(key)) continue;
      if (candidate.state === "condemned") this.#keep(candidate);
    }
  }

  /** After the rescan: blobs a link kept uses, and their bytes, are kept too. */
  #dropRescued(): void {
    for (const candidate of Object.values(this.#state.candidates)) {
      if (candidate.state !== "condemned") continue;
      if (
        candidate.kind === "blob" &&
        candidate.digest &&
        this.#live.has(liveKey(candidate.digest))
      ) {
        this.#keep(candidate);
      }
    }
  }

  /** Lists the blob records: those no live link uses are candidates. */
  async #scanBlobs(): Promise<boolean> {
    const state = this.#state;
    const page = await this.#op(
      this.#storage.list({
        prefix: layout.blobsPrefix,
        cursor: state.cursor,
        include: ["customMetadata"],
      }),
    );
    for (const object of page.objects) {
      const digest = object.key.slice(layout.blobsPrefix.length).replace("/", ":");
      const { location, size } = object.customMetadata;
      const bytes = size === undefined ? object.size : Number(size);
      state.report.total.blobs++;
      state.report.total.blobBytes += bytes;
      if (this.#live.has(liveKey(digest)) || this.#young(object)) {
        if (location) this.#liveLocations.add(location);
        continue;
      }
      state.candidates[object.key] = {
        kind: "blob",
        digest,
        bytes,
        ...(location ? { location } : {}),
        state: "found",
      };
    }
    state.cursor = page.truncated ? page.cursor : undefined;
    return !page.truncated;
  }

  /** Lists `data/`: bytes no live record points at are candidates. */
  async #scanData(): Promise<boolean> {
    const state = this.#state;
    const page = await this.#op(
      this.#storage.list({ prefix: layout.blobDataPrefix, cursor: state.cursor }),
    );
    for (const object of page.objects) {
      if (this.#liveLocations.has(object.key) || this.#young(object)) continue;
      state.candidates[object.key] = { kind: "data", bytes: object.size, state: "found" };
    }
    state.cursor = page.truncated ? page.cursor : undefined;
    return !page.truncated;
  }

  #young(object: StoredObject): boolean {
    return object.uploaded.getTime() >= this.#state.youngSince;
  }

  /** Marks every candidate `condemned`. */
  async #condemn(): Promise<boolean> {
    const state = this.#state;
    if (!state.order.length) state.order = Object.keys(state.candidates);
    while (state.position < state.order.length) {
      if (this.#spent) return false;
      const key = state.order[state.position] as string;
      const mark = await this.#op(setMark(this.#storage, key, "condemned"));
      const candidate = state.candidates[key];
      if (candidate && mark) {
        candidate.mark = mark.etag;
        candidate.state = "condemned";
      }
      state.position++;
    }
    return true;
  }

  /** Claims the condemned candidates, parents before what they refer to. */
  async #claim(): Promise<boolean> {
    const state = this.#state;
    if (!state.order.length) state.order = claimOrder(state.candidates);
    while (state.position < state.order.length) {
      if (this.#spent) return false;
      const key = state.order[state.position] as string;
      const candidate = state.candidates[key];
      state.position++;
      if (candidate?.state !== "condemned") continue;
      const claimed = await this.#op(setMark(this.#storage, key, "claimed", candidate.mark));
      if (claimed) candidate.state = "claimed";
      else this.#keep(candidate);
    }
    return true;
  }

  /** Keeps a candidate and, through it, every candidate it refers to. */
  #keep(candidate: Candidate): void {
    const queue = [candidate];
    for (let next = queue.pop(); next; next = queue.pop()) {
      if (next.state !== "condemned") continue;
      next.state = "kept";
      this.#state.report.rescued++;
      queue.push(...this.#referredBy(next));
    }
  }

  /** The candidates that `candidate`, were it kept, would need. */
  #referredBy(candidate: Candidate): Candidate[] {
    const { candidates } = this.#state;
    const found: (Candidate | undefined)[] = [];
    const { repository, digest } = candidate;
    if (candidate.kind === "manifest" && repository && digest) {
      const refs = candidate.references;
      for (const child of refs?.manifests ?? []) {
        found.push(candidates[layout.manifest(repository, parseDigest(child))]);
      }
      for (const blob of refs?.blobs ?? []) {
        found.push(candidates[layout.blobLink(repository, parseDigest(blob))]);
      }
      if (candidate.subject) {
        const subject = parseDigest(candidate.subject);
        found.push(candidates[layout.referrer(repository, subject, parseDigest(digest))]);
      }
      for (const other of Object.values(candidates)) {
        if (other.kind === "manifest" && other.repository === repository) {
          if (other.subject === digest) found.push(other);
        }
      }
    }
    if (candidate.kind === "link" && digest) {
      found.push(candidates[layout.blob(parseDigest(digest))]);
      if (candidate.location) found.push(candidates[candidate.location]);
    }
    if (candidate.kind === "blob" && candidate.location) found.push(candidates[candidate.location]);
    return found.filter((c): c is Candidate => c !== undefined);
  }

  /** Deletes the claimed objects, a batch at a time, marking each `deleted` after. */
  async #delete(): Promise<boolean> {
    const state = this.#state;
    if (!state.order.length) {
      state.order = Object.keys(state.candidates).filter(
        (key) => state.candidates[key]?.state === "claimed",
      );
    }
    while (state.position < state.order.length) {
      if (this.#spent) return false;
      const batch = state.order.slice(state.position, state.position + DELETE_BATCH);
      await this.#op(this.#storage.delete(batch));
      for (const key of batch) {
        await this.#op(setMark(this.#storage, key, "deleted"));
        const candidate = state.candidates[key];
        if (candidate) candidate.state = "deleted";
      }
      state.position += batch.length;
    }
    return true;
  }

  async #uploads(): Promise<boolean> {
    const state = this.#state;
    const uploads = new StaleUploads(this.#storage, {
      idleSince: state.uploadsIdleSince,
      dryRun: state.options.dryRun,
      count: () => this.#operations++,
    });
    const result = await uploads.sweepPage(state.cursor, state.lastSession);
    state.report.abandonedUploads += result.aborted;
    state.lastSession = result.lastSession;
    state.cursor = result.cursor;
    return result.cursor === undefined;
  }

  /** Removes the marks, then writes the report; `gc/run` goes last (in `Collector.step`). */
  async #finish(): Promise<boolean> {
    if (!this.#state.options.dryRun && !(await this.#clearMarks())) return false;
    const report = tally(this.#state);
    report.operations += this.#operations + 1;
    await this.#op(this.#storage.put(layout.gcReport, JSON.stringify(report)));
    return true;
  }
}

const DELETE_BATCH = 100;

/**
 * A live blob as the live set holds it: the first 64 bits of its digest. A collision can only
 * make a collection keep a blob it could have deleted, never the reverse, and it saves three
 * quarters of the memory the set of a large registry takes.
 */
function liveKey(digest: string): string {
  const hex = digest.slice(digest.indexOf(":") + 1);
  return hex.slice(0, 16);
}

/** Writes the run's state, with a summary in its metadata for `status`. */
function save(storage: ObjectStorage, state: RunState, onlyIf: Conditional) {
  const summary: Status["running"] = {
    id: state.report.id,
    phase: state.phase,
    paused: state.paused,
    startedAt: state.report.startedAt,
    dryRun: state.options.dryRun,
    policy: state.options.policy,
  };
  return storage.put(layout.gcRun, JSON.stringify(state), {
    customMetadata: { summary: JSON.stringify(summary) },
    onlyIf,
  });
}

/**
 * Manifests first, each after the candidates that refer to it (an index before its children, a
 * subject before its referrers), then referrers entries, links, blob records and their bytes.
 */
function claimOrder(candidates: Record<string, Candidate>): string[] {
  const rank: Record<Kind, number> = { manifest: 0, referrer: 1, link: 2, blob: 3, data: 4 };
  const keys = Object.keys(candidates).filter((key) => candidates[key]?.state === "condemned");
  const manifests = keys.filter((key) => candidates[key]?.kind === "manifest");
  const rest = keys
    .filter((key) => candidates[key]?.kind !== "manifest")
    .sort((a, b) => rank[candidates[a]?.kind ?? "data"] - rank[candidates[b]?.kind ?? "data"]);
  return [...topological(manifests, candidates), ...rest];
}

function topological(keys: string[], candidates: Record<string, Candidate>): string[] {
  const parents = new Map<string, number>(keys.map((key) => [key, 0]));
  const children = new Map<string, string[]>();
  for (const key of keys) {
    const candidate = candidates[key];
    if (!candidate?.repository) continue;
    const below = (candidate.references?.manifests ?? []).map((d) =>
      layout.manifest(candidate.repository as string, parseDigest(d)),
    );
    const edges = below.filter((child) => parents.has(child));
    children.set(key, edges);
    for (const child of edges) parents.set(child, (parents.get(child) ?? 0) + 1);
  }
  for (const key of keys) {
    const candidate = candidates[key];
    if (!candidate?.subject || !candidate.repository) continue;
    const subject = layout.manifest(candidate.repository, parseDigest(candidate.subject));
    if (!parents.has(subject)) continue;
    children.set(subject, [...(children.get(subject) ?? []), key]);
    parents.set(key, (parents.get(key) ?? 0) + 1);
  }
  const order: string[] = [];
  const ready = keys.filter((key) => parents.get(key) === 0);
  const placed = new Set<string>();
  for (let key = ready.pop(); key !== undefined; key = ready.pop()) {
    order.push(key);
    placed.add(key);
    for (const child of children.get(key) ?? []) {
      const left = (parents.get(child) ?? 1) - 1;
      parents.set(child, left);
      if (left === 0) ready.push(child);
    }
  }
  // Cycles (which no valid push makes) go last, in any order.
  return [...order, ...keys.filter((key) => !placed.has(key))];
}

/** The final report: what was (or, in a dry run, would be) removed. */
function tally(state: RunState): Report {
  const report = structuredClone(state.report);
  const removed = state.options.dryRun ? "found" : "deleted";
  const linkOwners = new Map<string, Set<string>>();
  const candidates = Object.values(state.candidates);
  for (const c of candidates) {
    if (c.state !== removed || !c.repository) continue;
    const entry = report.repositories[c.repository];
    if (!entry) continue;
    if (c.kind === "manifest") {
      entry.removed.manifests++;
      entry.removed.manifestBytes += c.bytes;
      report.reclaimedBytes += c.bytes;
    }
    if (c.kind === "link" && c.digest) {
      entry.removed.links++;
      const owners = linkOwners.get(c.digest) ?? new Set<string>();
      linkOwners.set(c.digest, owners.add(c.repository));
    }
  }
  const recorded = new Set<string>();
  for (const c of candidates) {
    if (c.state !== removed || c.kind !== "blob") continue;
    report.removedBlobs.count++;
    report.removedBlobs.bytes += c.bytes;
    if (c.location) recorded.add(c.location);
    const owners = [...(linkOwners.get(c.digest ?? "") ?? [])];
    const only = owners.length === 1 ? report.repositories[owners[0] as string] : undefined;
    if (only) only.removed.blobBytes += c.bytes;
  }
  for (const [key, c] of Object.entries(state.candidates)) {
    if (c.state === removed && c.kind === "data" && !recorded.has(key)) {
      report.removedBlobs.bytes += c.bytes;
    }
  }
  report.reclaimedBytes += report.removedBlobs.bytes;
  report.total.bytes = report.total.blobBytes + report.total.manifestBytes;
  report.finishedAt = new Date().toISOString();
  return report;
}
