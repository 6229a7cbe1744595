import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { checkPartition, partitionOf } from "./partitions.ts";

/** The reference: node's MD5, first four bytes big-endian. */
function reference(stream: string, count: number): number {
  return createHash("md5").update(stream, "utf8").digest().readUInt32BE(0) % count;
}

Deno.test("partitionOf() agrees with MD5 for short, long, empty and non-ASCII stream ids", () => {
  const streams = [
    "",
    "a",
    "abc",
    "order-17",
    "é",
    "日本語のストリーム",
    "x".repeat(55),
    "y".repeat(56),
    "z".repeat(64),
  ];
  for (let n = 0; n < 300; n++) streams.push(`stream-${n}-${"q".repeat(n % 130)}`);
  for (const stream of streams) {
    for (const count of [1, 2, 7, 16, 1024]) {
      assert.equal(partitionOf(stream, count), reference(stream, count), stream);
    }
  }
});

Deno.test("partitionOf() spreads streams over the partitions", () => {
  const counts = new Array(16).fill(0);
  for (let n = 0; n < 16_000; n++) counts[partitionOf(`s-${n}`, 16)]++;
  for (const count of counts) assert(count > 800 && count < 1200, `uneven: ${counts}`);
});

Deno.test("partitionOf() and checkPartition() refuse bad partition counts and indexes", () => {
  for (const bad of [0, -1, 1.5, NaN, 1025, "4" as unknown as number]) {
    assert.throws(() => partitionOf("s", bad), RangeError);
  }
  assert.throws(() => checkPartition(null), TypeError);
  assert.throws(() => checkPartition({ index: 4, count: 4 }), RangeError);
  assert.throws(() => checkPartition({ index: -1, count: 4 }), RangeError);
  checkPartition({ index: 3, count: 4 });
});
