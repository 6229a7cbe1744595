import assert from "node:assert/strict";
import { IdSet } from "./_id_set.ts";
import { uuidv7 } from "../mod.ts";

Deno.test("IdSet holds 200,000 distinct ids without a false duplicate and finds real ones", () => {
  const ids = new IdSet(16);
  const some: string[] = [];
  for (let i = 0; i < 200_000; i++) {
    const id = i % 2 === 0 ? uuidv7() : `event-${i}`;
    if (i % 50_000 === 0) some.push(id);
    assert(ids.add(id), `false duplicate at ${i}`);
  }
  assert.equal(ids.size, 200_000);
  for (const id of some) assert.equal(ids.add(id), false);
});
