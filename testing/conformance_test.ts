import assert from "node:assert/strict";
import { MemoryAdapter } from "../stores/memory/memory_adapter.ts";
import { conformanceCases, runConformance } from "./conformance.ts";

Deno.test("conformanceCases lists unique case names", () => {
  assert.ok(conformanceCases.length > 40);
  assert.equal(new Set(conformanceCases).size, conformanceCases.length);
  assert.ok(Object.isFrozen(conformanceCases));
});

Deno.test("conformanceCases names each case's group, adapter parts first, and behaviours stay unique", () => {
  const groups = conformanceCases.map((name) => name.slice(0, name.indexOf(": ")));
  for (const group of groups) assert.match(group, /^(adapter|store)\/[a-z-]+$/);
  const firstStore = groups.findIndex((group) => group.startsWith("store/"));
  assert.ok(firstStore > 0 && groups.slice(firstStore).every((group) => group.startsWith("store/")));
  for (
    const part of ["event-log", "relation-storage", "snapshot-storage", "subscription-storage", "watchable"]
  ) {
    assert.ok(groups.includes(`adapter/${part}`), `adapter/${part} has cases`);
  }
  const behaviours = conformanceCases.map((name) => name.slice(name.indexOf(": ") + 2));
  assert.equal(
    new Set(behaviours).size,
    behaviours.length,
    "a 0.1 skip by behaviour alone stays unambiguous",
  );
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
  assert.throws(() => runConformance({ name: "x", open, only: [] }), TypeError);
  assert.throws(
    () => runConformance({ name: "x", open, only: ["driver" as never] }),
    /unknown layer "driver"/,
  );
  assert.throws(() => runConformance({ name: "x", open, reopen: "again" as never }), TypeError);
});
