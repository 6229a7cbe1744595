/**
 * A chunk the target refuses while the next one gathers ends `import` and `copy` with
 * their one-line failure, not an uncaught rejection: the refusal here is the fidelity rule
 * of a JSON-codec SQLite store, which cannot hold a `Date`.
 */
import assert from "node:assert/strict";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { assertOneLineFailure, cli, seedSqlite, tempDir } from "../cli/_test_helpers.ts";

/** Creates an empty SQLite store recording the JSON codec (the CLI then opens it with that codec). */
async function jsonStore(path: string): Promise<void> {
  await using adapter = new SqliteAdapter(path, { codec: "json" });
  assert.equal((await adapter.stats()).events, 0);
}

/** The ids a store holds, in its log order, read back through `export`. */
async function storedIds(path: string): Promise<string[]> {
  const run = await cli(["export", "--store", `sqlite:${path}`]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line).id);
}

const id = (n: number): string => `0190a000-0000-7000-8000-${String(n).padStart(12, "0")}`;

/** Six events of one stream; `when` replaces the data of the third. */
function ndjson(when: unknown): string {
  const lines = [];
  for (let n = 1; n <= 6; n++) {
    lines.push(JSON.stringify({
      id: id(n),
      stream: "s-1",
      type: "x:happened",
      created: `2026-01-01T00:0${n}:00.000Z`,
      data: n === 3 ? { when } : { n },
      meta: null,
    }));
  }
  return lines.join("\n") + "\n";
}

Deno.test("cli: import stops on a chunk the store refuses, keeps the chunks before it, and resumes once the line is fixed", async () => {
  await using dir = await tempDir();
  const target = `${dir.path}/json.db`;
  await jsonStore(target);
  const file = `${dir.path}/events.ndjson`;
  // With --batch 2 the third line is in the second chunk, refused while the third gathers.
  await Deno.writeTextFile(file, ndjson({ $date: "2025-06-01T00:00:00.000Z" }));
  const args = ["import", "--store", `sqlite:${target}`, "--batch", "2", file];

  const failed = await cli(args);
  assert.doesNotMatch(failed.stderr, /Uncaught/);
  assertOneLineFailure(
    failed,
    1,
    /import into sqlite:.*json\.db stopped after 2 events: Invalid event "x:happened": data\.when: a Date cannot be held by the JSON codec.*; running it again resumes \(events already stored are skipped\)$/,
  );
  assert.deepEqual(await storedIds(target), [id(1), id(2)]);

  await Deno.writeTextFile(file, ndjson("2025-06-01T00:00:00.000Z"));
  const resumed = await cli([...args, "--json"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const report = JSON.parse(resumed.stdout);
  assert.deepEqual(report, { ...report, imported: 4, skipped: 2, duplicates: 0, bad: 0 });
  assert.deepEqual(await storedIds(target), [1, 2, 3, 4, 5, 6].map(id));
});

Deno.test("cli: copy from a CBOR store to a JSON store stops at the chunk holding a Date and keeps the chunks before it", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/cbor.db`;
  const target = `${dir.path}/json.db`;
  const stored: string[] = [];
  await seedSqlite(source, async (store) => {
    const deposit = (stream: string, amount: number) =>
      store.event({ type: "account:deposited", stream, data: amount, meta: { by: "teller" } });
    const events = [
      deposit("acct-1", 1),
      deposit("acct-1", 2),
      store.event({
        type: "account:opened",
        stream: "acct-2",
        data: { owner: "Ada", opened: new Date(Date.UTC(2025, 5, 1)), limit: 5n },
      }),
      deposit("acct-1", 3),
      deposit("acct-1", 4),
      deposit("acct-1", 5),
    ];
    for (const event of events) stored.push((await store.pushEvent(event)).id);
  });
  await jsonStore(target);
  const args = ["copy", "--from", `sqlite:${source}`, "--to", `sqlite:${target}`, "--batch", "2"];
  const refusal =
    'Invalid event "account:opened": data\\.opened: a Date cannot be held by the JSON codec.*; running it again resumes';

  const failed = await cli(args);
  assert.doesNotMatch(failed.stderr, /Uncaught/);
  assertOneLineFailure(
    failed,
    1,
    new RegExp(`copy to sqlite:.*json\\.db stopped after 2 events: ${refusal}`),
  );
  assert.deepEqual(await storedIds(target), stored.slice(0, 2));

  // Running it again skips what is stored and stops at the same event, adding nothing.
  const again = await cli(args);
  assertOneLineFailure(again, 1, new RegExp(`copy to sqlite:.*json\\.db stopped after 0 events: ${refusal}`));
  assert.deepEqual(await storedIds(target), stored.slice(0, 2));
});
