/** What a garbage collection found and did, and the storage used, per repository. */

export interface Usage {
  manifests: number;
  manifestBytes: number;
  /** Blobs linked into the repository, and their bytes (a blob shared with others counts here). */
  blobs: number;
  blobBytes: number;
}

export interface Removed {
  manifests: number;
  manifestBytes: number;
  links: number;
  /** Bytes of blobs deleted from the registry that only this repository held. */
  blobBytes: number;
}

export interface Report {
  id: string;
  dryRun: boolean;
  policy: "all" | "untagged";
  graceSeconds: number;
  startedAt: string;
  finishedAt?: string;
  /** Per repository: what it uses, counted before the collection, and what was (or would be) removed. */
  repositories: Record<string, { usage: Usage; removed: Removed }>;
  /** The registry as a whole, every blob counted once however many repositories link it. */
  total: { blobs: number; blobBytes: number; manifestBytes: number; bytes: number };
  /** Blobs deleted from the registry (records and the bytes they point at). */
  removedBlobs: { count: number; bytes: number };
  /** Bytes freed in all: blobs plus manifests. */
  reclaimedBytes: number;
  /** Upload sessions idle longer than the time to live, aborted with their parts. */
  abandonedUploads: number;
  /** Objects a writer needed again after they were found unused, so kept. */
  rescued: number;
  /** The steps the collection took, and the storage operations they made. */
  steps: number;
  operations: number;
}

export function emptyUsage(): Usage {
  return { manifests: 0, manifestBytes: 0, blobs: 0, blobBytes: 0 };
}

export function emptyRemoved(): Removed {
  return { manifests: 0, manifestBytes: 0, links: 0, blobBytes: 0 };
}

/** The report as a markdown table, for the command line. */
export function formatReport(report: Report): string {
  const verb = report.dryRun ? "would remove" : "removed";
  const lines = [
    `garbage collection ${report.id} (${report.dryRun ? "dry run" : "run"}, policy ${report.policy}, grace ${report.graceSeconds} s)`,
    "",
    `| repository | manifests | blobs linked | bytes used | ${verb}: manifests | links | bytes only it held |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const [name, { usage, removed }] of Object.entries(report.repositories)) {
    const used = usage.manifestBytes + usage.blobBytes;
    lines.push(
      `| ${name} | ${usage.manifests} | ${usage.blobs} | ${used} | ${removed.manifests} | ${removed.links} | ${removed.blobBytes + removed.manifestBytes} |`,
    );
  }
  const { total } = report;
  lines.push(
    "",
    `registry: ${total.blobs} blobs, ${total.bytes} bytes (shared blobs counted once)`,
    `${verb}: ${report.removedBlobs.count} blobs, ${report.reclaimedBytes} bytes in all; ${report.abandonedUploads} abandoned uploads; ${report.rescued} objects rescued by writers`,
  );
  return lines.join("\n");
}
