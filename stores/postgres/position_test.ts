import assert from "node:assert/strict";
import { formatPostgresPosition, parsePostgresPosition } from "./position.ts";

Deno.test("formatPostgresPosition sorts as strings in (transaction, sequence) order", () => {
  const pairs: [bigint, bigint][] = [
    [9n, 10n],
    [9n, 100n],
    [10n, 1n],
    [10n, 2n],
    [2n ** 40n, 5n],
    [2n ** 64n - 1n, 2n ** 63n - 1n],
  ];
  const positions = pairs.map(([transaction, sequence]) => formatPostgresPosition(transaction, sequence));
  assert.deepEqual([...positions].sort(), positions);
  assert.ok(positions.every((position) => position.length === 40));
});

Deno.test("parsePostgresPosition reads back what formatPostgresPosition wrote", () => {
  const position = formatPostgresPosition("18446744073709551615", "42");
  assert.deepEqual(parsePostgresPosition(position), { transaction: "18446744073709551615", sequence: "42" });
});

Deno.test("parsePostgresPosition rejects positions of other stores with RangeError", () => {
  for (
    const bad of [
      "0000000000000042",
      "",
      "1.2",
      "00000000000000000001-0000000000000000001",
      42 as unknown as string,
    ]
  ) {
    assert.throws(() => parsePostgresPosition(bad), RangeError);
  }
});

Deno.test("formatPostgresPosition rejects negative or oversized parts with RangeError", () => {
  assert.throws(() => formatPostgresPosition("-1", "1"), RangeError);
  assert.throws(() => formatPostgresPosition("1", "1".repeat(20)), RangeError);
});
