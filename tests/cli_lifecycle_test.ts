/**
 * `eventfold streams` after the stream lifecycle calls: deleted and tombstoned streams
 * are listed from their `"$stream:deleted"` record, truncated ones with where truncation
 * left them.
 */
import assert from "node:assert/strict";
import { EventStore } from "../mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { cli, tempDir, testEvents } from "../cli/_test_helpers.ts";

Deno.test("cli: streams shows deleted, tombstoned and truncated streams", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/l.db`;
  {
    await using store = new EventStore({ adapter: new SqliteAdapter(path), events: testEvents });
    const opened = (stream: string) =>
      store.event({ type: "account:opened", stream, data: { owner: "Ada", opened: new Date(0), limit: 1n } });
    await store.pushManyEvents([opened("gone"), opened("closed"), opened("kept"), opened("cut")]);
    for (let i = 0; i < 3; i++) {
      await store.pushEvent(
        store.event({ type: "account:deposited", stream: "cut", data: 1, meta: { by: "ada" } }),
      );
    }
    await store.deleteStream("gone");
    await store.deleteStream("closed", { tombstone: true });
    await store.truncateStream("cut", { before: 3 });
  }
  const run = await cli(["streams", "--store", `sqlite:${path}`, "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const rows = new Map(
    run.stdout.trimEnd().split("\n").map((line) => JSON.parse(line)).map((row) => [row.stream, row]),
  );
  assert.deepEqual([rows.get("gone")?.status, rows.get("gone")?.revision, rows.get("gone")?.events], [
    "deleted",
    1,
    0,
  ]);
  assert.equal(rows.get("closed")?.status, "tombstoned");
  assert.equal(rows.get("kept")?.status, undefined);
  assert.deepEqual([rows.get("cut")?.revision, rows.get("cut")?.events, rows.get("cut")?.truncatedBefore], [
    4,
    2,
    3,
  ]);
  const table = await cli(["streams", "--store", `sqlite:${path}`]);
  assert.match(table.stdout, /closed\s+1\s+tombstoned/);
  assert.match(table.stdout, /cut\s+4\s+truncated before 3/);
});
