/** The part writer: exact parts in order, whatever the chunks; a part stays as handed over. */
import { describe, expect, test } from "bun:test";
import { PartWriter } from "../../src/registry/part-writer";

const PART = 16;

const bytes = (from: number, count: number) =>
  Uint8Array.from({ length: count }, (_, i) => (from + i) % 256);

describe("PartWriter", () => {
  test("cuts chunks of any size into exact parts in order, and keeps the rest", async () => {
    const seen: number[][] = [];
    const writer = new PartWriter(PART, async (part) => {
      seen.push([...part]);
    });
    let offset = 0;
    for (const size of [5, 20, 1, 0, 33, 7]) {
      await writer.write(bytes(offset, size));
      offset += size;
    }
    expect(seen).toEqual([0, 16, 32, 48].map((from) => [...bytes(from, PART)]));
    expect([...writer.remainder()]).toEqual([...bytes(64, offset - 64)]);
  });

  test("a part's buffer is not filled again while it is being written", async () => {
    const copies: number[][] = [];
    const writer = new PartWriter(PART, async (part) => {
      copies.push([...part]);
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect([...part]).toEqual(copies.at(-1) ?? []);
    });
    for (let offset = 0; offset < PART * 6; offset += 3)
      await writer.write(bytes(offset, Math.min(3, PART * 6 - offset)));
    expect(copies).toEqual([0, 1, 2, 3, 4, 5].map((n) => [...bytes(n * PART, PART)]));
  });

  test("a failed part fails the write that completed it", async () => {
    const writer = new PartWriter(PART, async () => {
      throw new Error("disk full");
    });
    await writer.write(bytes(0, PART - 1));
    await expect(writer.write(bytes(PART - 1, 2))).rejects.toThrow("disk full");
  });
});
