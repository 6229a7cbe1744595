import assert from "node:assert/strict";
import { cli, seedSqlite, tempDir, writeHistory } from "../cli/_test_helpers.ts";

Deno.test("cli: info counts events, streams and types and shows both ends of the log", async () => {
  await using dir = await tempDir();
  await seedSqlite(`${dir.path}/e.db`, async (store) => {
    await writeHistory(store);
    await store.checkpoints.set("balances", "0000000000000004", { expected: null });
  });
  const run = await cli(["info", "--store", `sqlite:${dir.path}/e.db`, "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout);
  assert.equal(info.store, `sqlite:${dir.path}/e.db`);
  assert.equal(info.kind, "sqlite");
  assert.equal(info.events, 9);
  assert.equal(info.streams, 3);
  assert.deepEqual(info.types, {
    "account:deposited": 5,
    "account:opened": 2,
    "account:tagged": 1,
    "blob:stored": 1,
  });
  assert.equal(info.first.position, "0000000000000001");
  assert.equal(info.first.created, "2026-01-01T00:00:00.000Z");
  assert.equal(info.last.position, "0000000000000009");
  assert(info.size > 0);
  assert.equal(info.checkpoints, 1);

  const text = await cli(["info", "--store", `sqlite:${dir.path}/e.db`]);
  assert.match(text.stdout, /^events {7,}9$/m);
  assert.match(text.stdout, /^ {2}account:deposited {2,}5$/m);
});

Deno.test("cli: info of an empty memory store", async () => {
  const run = await cli(["info", "--store", "memory:", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), {
    store: "memory:",
    kind: "memory",
    events: 0,
    streams: 0,
    types: {},
    first: null,
    last: null,
    size: null,
    checkpoints: 0,
  });
});

Deno.test("cli: streams lists every stream with its revision and last event", async () => {
  await using dir = await tempDir();
  await seedSqlite(`${dir.path}/e.db`, writeHistory);
  const run = await cli(["streams", "--store", `sqlite:${dir.path}/e.db`, "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const rows = run.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(rows.map((r) => [r.stream, r.revision, r.lastType]), [
    ["acct-1", 6, "account:deposited"],
    ["acct-2", 2, "account:tagged"],
    ["blob-1", 1, "blob:stored"],
  ]);
  assert.equal(rows[0].lastCreated, "2026-01-01T00:15:00.000Z");
  const prefixed = await cli(["streams", "--store", `sqlite:${dir.path}/e.db`, "--prefix", "acct-"]);
  assert.deepEqual(prefixed.stdout.trim().split("\n").map((line) => line.split(/\s+/).slice(0, 2)), [
    ["STREAM", "REVISION"],
    ["acct-1", "6"],
    ["acct-2", "2"],
  ]);
});

Deno.test("cli: checkpoints lists lag and parked events, and resets one", async () => {
  await using dir = await tempDir();
  await seedSqlite(`${dir.path}/e.db`, async (store) => {
    await writeHistory(store);
    await store.checkpoints.set("balances", "0000000000000004", { expected: null });
    await store.checkpoints.set("fresh", null, { expected: null });
    const [failed] = await store.getEvents({ limit: 1 });
    await store.adapter.parkEvent({
      name: "balances",
      id: failed.id,
      position: failed.position,
      stream: failed.stream,
      type: failed.type,
      hydrated: false,
      error: "Error: boom",
      attempts: 3,
      parked: new Date().toISOString(),
    });
  });
  const store = `sqlite:${dir.path}/e.db`;
  const list = await cli(["checkpoints", "--store", store, "--json"]);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(
    JSON.parse(list.stdout).map((
      c: { name: string; position: string | null; lag: number; parked: number },
    ) => [c.name, c.position, c.lag, c.parked]),
    [
      ["balances", "0000000000000004", 5, 1],
      ["fresh", null, 9, 0],
    ],
  );
  const reset = await cli(["checkpoints", "reset", "balances", "--store", store]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stderr, /reset checkpoint "balances" \(was at 0000000000000004\)/);
  const after = await cli(["checkpoints", "list", "--store", store]);
  assert.match(
    after.stdout,
    /^NAME {2,}POSITION {2,}UPDATED {2,}LAG {2,}PARKED\nfresh {2,}- {2,}\S+ {2,}9 {2,}0\n$/,
  );
  const missing = await cli(["checkpoints", "reset", "balances", "--store", store]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'eventfold: no checkpoint named "balances"\n');
  const bad = await cli(["checkpoints", "rewind", "--store", store]);
  assert.equal(bad.code, 2);
});
