import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { loadOpenSslHashEngine } from "../../src/bun/openssl-hash";
import type { HashEngine } from "../../src/hash/hasher";
import { typescriptHashEngine } from "../../src/hash/typescript-engine";
import type { DigestAlgorithm } from "../../src/registry/digest";

const openssl = loadOpenSslHashEngine();
const engines: HashEngine[] = [typescriptHashEngine, ...(openssl ? [openssl] : [])];
const ALGORITHMS: DigestAlgorithm[] = ["sha256", "sha512"];
/** Lengths around the block and padding boundaries of both algorithms. */
const LENGTHS = [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000, 65_537];

function sample(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 131 + 17) & 0xff);
}

function nodeDigest(algorithm: DigestAlgorithm, data: Uint8Array): string {
  return createHash(algorithm).update(data).digest("hex");
}

test("the OpenSSL engine loads on this machine", () => {
  expect(openssl?.name).toBe("openssl");
});

for (const engine of engines) {
  describe(`${engine.name} engine`, () => {
    for (const algorithm of ALGORITHMS) {
      test(`${algorithm} matches node:crypto at every boundary length`, () => {
        for (const length of LENGTHS) {
          const data = sample(length);
          const hasher = engine.create(algorithm);
          hasher.update(data.subarray(0, length >> 1));
          hasher.update(data.subarray(length >> 1));

          expect(hasher.digestHex()).toBe(nodeDigest(algorithm, data));
        }
      });
    }
  });
}

describe("saved states", () => {
  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: a state saved by one engine finishes in every other`, () => {
      for (const from of engines) {
        for (const to of engines) {
          for (const length of LENGTHS) {
            const data = sample(length);
            const first = from.create(algorithm);
            first.update(data.subarray(0, Math.floor(length / 3)));
            const second = to.restore(first.save());
            second.update(data.subarray(Math.floor(length / 3)));

            expect(second.digestHex()).toBe(nodeDigest(algorithm, data));
          }
        }
      }
    });
  }

  test("a malformed state is refused", () => {
    const good = typescriptHashEngine.create("sha256").save();
    const bad = [good.replace("sha256", "md5"), `${good}.x`, good.replace(/\.0\./, ".5.")];

    for (const state of bad) expect(() => typescriptHashEngine.restore(state)).toThrow();
  });
});
