/**
 * `eventfold scavenge` and the retention rules in `eventfold streams`: what the rules hide
 * is removed for good, ages are told by this machine's clock, bad flags are usage errors,
 * and a store without stream metadata is a one-line failure.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { assertOneLineFailure, cli, seedSqlite, tempDir, type TestStore } from "../cli/_test_helpers.ts";

function deposits(store: TestStore, stream: string, count: number, created?: string) {
  return store.pushManyEvents(
    Array.from(
      { length: count },
      () => store.event({ type: "account:deposited", stream, data: 1, meta: { by: "ada" }, created }),
    ),
  );
}

function stored(path: string, stream: string): number[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare("SELECT revision FROM eventfold_events WHERE stream = ? ORDER BY revision").all(stream)
      .map((row) => Number(row.revision));
  } finally {
    db.close();
  }
}

Deno.test("cli: scavenge removes what maxCount and maxAge hide, streams shows the rules, and a second run removes nothing", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/r.db`;
  await seedSqlite(path, async (store) => {
    await deposits(store, "counted", 6);
    // Two years old by this machine's clock, then one from now.
    await deposits(store, "aged", 3, new Date(Date.now() - 2 * 365 * 86_400_000).toISOString());
    await deposits(store, "aged", 1);
    await deposits(store, "plain", 2);
    await store.setStreamMetadata("counted", { maxCount: 2 });
    await store.setStreamMetadata("aged", { maxAge: 30 * 86_400_000 });
  });

  const listed = await cli(["streams", "--store", `sqlite:${path}`, "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  const rows = new Map(
    listed.stdout.trimEnd().split("\n").map((line) => JSON.parse(line)).map((r) => [r.stream, r]),
  );
  assert.equal(rows.get("counted")?.maxCount, 2);
  assert.equal(rows.get("aged")?.maxAge, 30 * 86_400_000);
  assert.equal(rows.get("plain")?.maxCount, undefined);
  const table = await cli(["streams", "--store", `sqlite:${path}`]);
  assert.match(table.stdout, /counted\s+6\s+maxCount 2/);
  assert.match(table.stdout, /aged\s+4\s+maxAge 30d/);

  const run = await cli(["scavenge", "--store", `sqlite:${path}`, "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.deepEqual(
    [result.streams, result.truncated, result.removed, result.transactions, result.complete],
    [2, 2, 7, 2, true],
  );
  assert.deepEqual(stored(path, "counted"), [5, 6]);
  assert.deepEqual(stored(path, "aged"), [4]);
  assert.deepEqual(stored(path, "plain"), [1, 2]);

  const again = await cli(["scavenge", "--store", `sqlite:${path}`]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /2 with retention rules, removed 0 events from 0 streams in 0 transactions/);
  const after = await cli(["streams", "--store", `sqlite:${path}`]);
  assert.match(after.stdout, /counted\s+6\s+truncated before 5, maxCount 2/);
});

Deno.test("cli: scavenge refuses bad flags, a missing store and one without stream metadata, changing nothing", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/b.db`;
  await seedSqlite(path, async (store) => {
    await deposits(store, "s", 3);
    await store.setStreamMetadata("s", { maxCount: 1 });
  });
  for (const args of [["--batch", "0"], ["--batch", "many"], ["--bogus"], ["extra"]]) {
    const run = await cli(["scavenge", "--store", `sqlite:${path}`, ...args]);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
  }
  assertOneLineFailure(await cli(["scavenge", "--store", `sqlite:${dir.path}/missing.db`]), 1, /missing\.db/);
  assertOneLineFailure(await cli(["scavenge"]), 2, /--store/);
  assert.deepEqual(stored(path, "s"), [1, 2, 3]);
});
