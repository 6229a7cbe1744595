import assert from "node:assert/strict";
import { EventStore } from "../mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { cli, ROOT, seedSqlite, tempDir, testEvents, writeHistory } from "../cli/_test_helpers.ts";

async function events(store: string, ...args: string[]): Promise<Record<string, unknown>[]> {
  const run = await cli(["events", "--store", store, ...args]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.trim() === "" ? [] : run.stdout.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test("cli: events prints NDJSON records and filters them", async (t) => {
  await using dir = await tempDir();
  await seedSqlite(`${dir.path}/e.db`, writeHistory);
  const store = `sqlite:${dir.path}/e.db`;
  await t.step("everything, with store fields and tagged payloads", async () => {
    const all = await events(store);
    assert.equal(all.length, 9);
    assert.deepEqual(Object.keys(all[0]), [
      "id",
      "stream",
      "type",
      "version",
      "revision",
      "position",
      "created",
      "recorded",
      "outdated",
      "data",
      "meta",
    ]);
    assert.deepEqual(all[0].data, {
      owner: "Ada",
      opened: { $date: "2025-06-01T00:00:00.000Z" },
      limit: { $bigint: "1180591620717411303424" },
    });
  });
  const positions = (list: Record<string, unknown>[]) => list.map((e) => Number(e.position));
  await t.step("by stream and type", async () => {
    assert.deepEqual(positions(await events(store, "--stream", "acct-2")), [6, 7]);
    assert.deepEqual(positions(await events(store, "--stream", "acct-2", "--stream", "blob-1")), [6, 7, 8]);
    assert.deepEqual(positions(await events(store, "--type", "account:opened")), [1, 6]);
  });
  await t.step("by position and limit", async () => {
    assert.deepEqual(positions(await events(store, "--after", "3", "--before", "6")), [4, 5]);
    assert.deepEqual(positions(await events(store, "--after", "3", "-n", "2")), [4, 5]);
    assert.deepEqual(positions(await events(store, "--after", "head")), []);
    assert.deepEqual(positions(await events(store, "--after", "1", "--until", "3")), [2, 3]);
    assert.deepEqual(positions(await events(store, "--stream", "acct-2", "--until", "6")), [6]);
  });
  await t.step("by created time", async () => {
    assert.deepEqual(
      positions(await events(store, "--since", "2026-01-01T00:05:00Z", "--until", "2026-01-01T00:15:00Z")),
      [2, 6, 7, 8, 9],
    );
  });
  await t.step("bad bounds are usage errors", async () => {
    const run = await cli(["events", "--store", store, "--after", "yesterday"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--after: "yesterday" is not a position of a sqlite store/);
    const time = await cli(["events", "--store", store, "--since", "2026-13-45"]);
    assert.equal(time.code, 2);
    const until = await cli(["events", "--store", store, "--until", "3x"]);
    assert.equal(until.code, 2);
    assert.match(until.stderr, /--until: "3x" is neither a position nor a time/);
  });
});

/** Reads NDJSON lines from a child's stdout until `count` have arrived. */
async function readLines(
  reader: ReadableStreamDefaultReader<string>,
  seen: string[],
  count: number,
): Promise<void> {
  let partial = "";
  while (seen.length < count) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stdout ended after ${seen.length} lines`);
    const parts = (partial + value).split("\n");
    partial = parts.pop()!;
    seen.push(...parts);
  }
}

Deno.test("cli: events --follow prints events another process commits, and stops cleanly on SIGINT", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/e.db`;
  await seedSqlite(path, writeHistory);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "cli/mod.ts",
      "events",
      "--store",
      `sqlite:${path}`,
      "--follow",
      "--type",
      "account:deposited",
      "--interval",
      "2000",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream());
  const seen: string[] = [];
  try {
    await readLines(reader, seen, 5);
    {
      await using store = new EventStore({ adapter: new SqliteAdapter(path), events: testEvents });
      for (let i = 0; i < 3; i++) {
        await store.pushManyEvents([
          store.event({
            type: "account:opened",
            stream: `late-${i}`,
            data: { owner: "x", opened: new Date(), limit: 1n },
          }),
          store.event({
            type: "account:deposited",
            stream: `late-${i}`,
            data: i,
            meta: { by: "follower test" },
          }),
        ]);
      }
    }
    await readLines(reader, seen, 8);
    child.kill("SIGINT");
    const rest = await reader.read();
    assert(rest.done || rest.value === "", "nothing more after SIGINT");
  } finally {
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
  }
  const status = await child.status;
  let errors = "";
  for await (const text of stderr) errors += text;
  assert.equal(status.code, 0, errors);
  assert.equal(errors, "");
  const records = seen.map((line) => JSON.parse(line));
  assert.deepEqual(records.slice(5).map((r) => [r.stream, r.data]), [["late-0", 0], ["late-1", 1], [
    "late-2",
    2,
  ]]);
  assert(records.every((r) => r.type === "account:deposited"));
});
