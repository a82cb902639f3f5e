/**
 * Measures the hash engines against the runtime's native hasher, in MiB/s, with 1 MiB updates.
 * Run with `bun bench/hash-throughput.ts`.
 */
import { createHash } from "node:crypto";
import { loadOpenSslHashEngine } from "../src/bun/openssl-hash";
import type { HashEngine } from "../src/hash/hasher";
import { typescriptHashEngine } from "../src/hash/typescript-engine";
import type { DigestAlgorithm } from "../src/registry/digest";

const CHUNK = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
const SECONDS = 1;

function throughput(update: () => void): number {
  let chunks = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    update();
    chunks++;
  }
  return chunks / ((performance.now() - started) / 1000);
}

function engineRow(engine: HashEngine, algorithm: DigestAlgorithm): number {
  const hasher = engine.create(algorithm);
  return throughput(() => hasher.update(CHUNK));
}

const rows: [string, DigestAlgorithm, number][] = [];
for (const algorithm of ["sha256", "sha512"] as const) {
  const native = createHash(algorithm);
  rows.push([
    "node:crypto (native, no saved state)",
    algorithm,
    throughput(() => native.update(CHUNK)),
  ]);
  const openssl = loadOpenSslHashEngine();
  if (openssl) rows.push(["openssl engine (bun:ffi)", algorithm, engineRow(openssl, algorithm)]);
  rows.push(["typescript engine", algorithm, engineRow(typescriptHashEngine, algorithm)]);
}

console.log(`| hasher | algorithm | MiB/s |\n| --- | --- | ---: |`);
for (const [name, algorithm, rate] of rows)
  console.log(`| ${name} | ${algorithm} | ${rate.toFixed(0)} |`);
