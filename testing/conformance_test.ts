import assert from "node:assert/strict";
import { MemoryAdapter } from "../stores/memory/memory_adapter.ts";
import { conformanceCases, runConformance } from "./conformance.ts";

Deno.test("conformanceCases lists unique case names", () => {
  assert.ok(conformanceCases.length > 40);
  assert.equal(new Set(conformanceCases).size, conformanceCases.length);
  assert.ok(Object.isFrozen(conformanceCases));
});

Deno.test("runConformance rejects bad options before registering anything", () => {
  const open = () => new MemoryAdapter();
  assert.throws(() => runConformance({ name: "", open }), TypeError);
  assert.throws(() => runConformance({ name: "x", open: undefined as never }), TypeError);
  assert.throws(() => runConformance({ name: "x", open, scale: 0 }), RangeError);
  assert.throws(
    () => runConformance({ name: "x", open, skip: { "no such case": "why" } }),
    /unknown case "no such case"/,
  );
});
