import assert from "node:assert/strict";
import { hlc, parseHlc } from "./mod.ts";

const T0 = Date.UTC(2026, 0, 1);

Deno.test("hlc() stamps times that rise strictly, with a counter within one millisecond", () => {
  let now = T0;
  const clock = hlc({ node: "n1", now: () => now });
  const a = clock.now();
  const b = clock.now();
  now += 1;
  const c = clock.now();
  assert.deepEqual([a, b, c], [
    "2026-01-01T00:00:00.000Z-0000-n1",
    "2026-01-01T00:00:00.000Z-0001-n1",
    "2026-01-01T00:00:00.001Z-0000-n1",
  ]);
  assert(a < b && b < c);
});

Deno.test("hlc() does not go back when the wall clock does", () => {
  let now = T0 + 5000;
  const clock = hlc({ node: "n1", now: () => now });
  const before = clock.now();
  now = T0; // the wall clock jumps back
  const after = clock.now();
  assert(after > before, `${after} > ${before}`);
  assert.equal(parseHlc(after)?.ms, T0 + 5000);
});

Deno.test("hlc() moves past the times it receives or accepts, up to maxDrift ahead", () => {
  const clock = hlc({ node: "a", now: () => T0, maxDrift: 10_000 });
  assert.equal(clock.accepts!("2026-01-01T00:00:03.000Z-0007-b"), true);
  assert.equal(clock.now(), "2026-01-01T00:00:03.000Z-0008-a");
  clock.receive("2026-01-01T00:00:04.000Z"); // a plain ISO time (a node on the system clock)
  assert.equal(clock.now(), "2026-01-01T00:00:04.000Z-0001-a");
  clock.receive("2026-01-01T01:00:00.000Z-0000-far"); // an hour ahead: accepted, not followed
  assert.equal(clock.now(), "2026-01-01T00:00:04.000Z-0002-a");
});

Deno.test("hlc() accepts its form and ISO-8601, and refuses others", () => {
  const clock = hlc({ node: "a" });
  assert.equal(clock.accepts!("2026-01-01T00:00:00.000Z"), true);
  assert.equal(clock.accepts!("2026-01-01T00:00:00.000Z-00ff-node-2.eu:1"), true);
  for (
    const bad of [
      "yesterday",
      "2026-02-30T00:00:00.000Z-0000-a",
      "2026-01-01T00:00:00.000Z-0000-",
      "2026-01-01T00:00:00.000Z-zz00-a",
    ]
  ) {
    assert.equal(clock.accepts!(bad), false, bad);
  }
  assert.throws(() => hlc({ node: "has space" }), TypeError);
  assert.throws(() => hlc({ node: "" }), TypeError);
  assert.throws(() => hlc({ maxDrift: -1 }), RangeError);
  assert.match(hlc().now(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z-0000-[0-9a-f]{8}$/);
});

Deno.test("hlc() past 65,535 events in one millisecond moves to the next", () => {
  const clock = hlc({ node: "a", now: () => T0 });
  let last = "";
  for (let i = 0; i <= 0xffff; i++) last = clock.now();
  assert.equal(last, "2026-01-01T00:00:00.000Z-ffff-a");
  const next = clock.now();
  assert.equal(next, "2026-01-01T00:00:00.001Z-0000-a");
});
