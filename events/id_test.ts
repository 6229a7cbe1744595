import assert from "node:assert/strict";
import { uuidv7 } from "./id.ts";

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 48-bit millisecond timestamp of a UUIDv7. */
const millisOf = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

/** The 12-bit counter in `rand_a`. */
const counterOf = (id: string): number => parseInt(id.slice(15, 18), 16);

// The generator keeps the last millisecond it used, so each case starts past the previous one.
let clock = Date.now() + 60_000;
const nextMillisecond = (gap = 1_000): number => clock += gap;

Deno.test("uuidv7() makes lower-case RFC 9562 version 7 ids with the variant bits set", () => {
  for (let i = 0; i < 1_000; i++) {
    const id = uuidv7();
    assert.match(id, SHAPE);
    assert.equal(parseInt(id[19], 16) >> 2, 0b10, "variant 10xx");
  }
});

Deno.test("uuidv7() puts the given millisecond in the first 48 bits", () => {
  const now = nextMillisecond();
  const id = uuidv7(now);
  assert.equal(millisOf(id), now);
  assert.match(id, SHAPE);
});

Deno.test("uuidv7() ids of one millisecond sort in the order they were made", () => {
  const now = nextMillisecond();
  // The counter starts below 0x800, so 1,000 ids fit in the millisecond without running over.
  const ids = Array.from({ length: 1_000 }, () => uuidv7(now));
  assert.ok(ids.every((id) => millisOf(id) === now));
  assert.ok(counterOf(ids[0]) < 0x800, "seeded in the lower half");
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} < ${ids[i]}`);
    assert.equal(counterOf(ids[i]), counterOf(ids[i - 1]) + 1);
  }
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("uuidv7() borrows the next millisecond when the counter runs over, and stays in order", () => {
  const now = nextMillisecond();
  const ids = Array.from({ length: 5_000 }, () => uuidv7(now));
  const over = ids.findIndex((id) => millisOf(id) !== now);
  assert.ok(over > 0, "more than 4,096 ids cannot fit in one millisecond");
  assert.equal(counterOf(ids[over - 1]), 0xfff, "the counter ran to its end");
  assert.equal(millisOf(ids[over]), now + 1);
  assert.equal(counterOf(ids[over]), 0, "the borrowed millisecond counts from 0");
  assert.ok(ids.slice(over).every((id) => millisOf(id) === now + 1));
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} < ${ids[i]}`);
  // A clock that then reaches the borrowed millisecond does not go back behind those ids.
  const caughtUp = uuidv7(now + 1);
  assert.ok(ids[ids.length - 1] < caughtUp);
});

Deno.test("uuidv7() keeps order when the clock goes back", () => {
  const now = nextMillisecond();
  const first = uuidv7(now);
  const earlier = uuidv7(now - 500);
  assert.equal(millisOf(earlier), now, "the later millisecond is kept");
  assert.ok(first < earlier);
  const later = uuidv7(now + 1);
  assert.equal(millisOf(later), now + 1);
  assert.ok(earlier < later);
});

Deno.test("uuidv7() ids of different milliseconds sort by time, whatever their counters", () => {
  const now = nextMillisecond();
  const ids = [now, now + 1, now + 2, now + 1_000, now + 86_400_000].map((ms) => uuidv7(ms));
  assert.deepEqual([...ids].sort(), ids);
  clock = now + 86_400_000;
});
