import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { row, tempDir } from "./_sqlite_helpers.ts";
import { Child } from "./_child.ts";
import { delay } from "../async.ts";

function integrity(path: string): string {
  const db = new DatabaseSync(path);
  try {
    return String(db.prepare("PRAGMA integrity_check").get()!.integrity_check);
  } finally {
    db.close();
  }
}

Deno.test("two processes appending to one file at once lose nothing and duplicate no revision", async (t) => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await new SqliteAdapter(path).close();
  const rounds = 150;
  const startAt = String(Date.now() + 1500);
  const children = [
    new Child("_sqlite_writer.ts", [path, "a", String(rounds), startAt]),
    new Child("_sqlite_writer.ts", [path, "b", String(rounds), startAt]),
  ];
  const results = (await Promise.all(children.map((child) => child.output()))).map((out) =>
    JSON.parse(out.trim()) as { name: string; ids: string[]; conflicts: number }
  );
  assert.equal(integrity(path), "ok");
  await using adapter = new SqliteAdapter(path);
  const read = async (stream: string) => {
    const records = [];
    for (let from = 1;; from += 1000) {
      const page = await adapter.readStream(stream, {
        direction: "forward",
        fromRevision: from,
        limit: 1000,
      });
      records.push(...page);
      if (page.length < 1000) return records;
    }
  };
  const shared = await read("shared");
  const contended = await read("contended");
  // Revisions are contiguous from 1: none duplicated, none skipped.
  assert.deepEqual(shared.map((r) => r.revision), shared.map((_, i) => i + 1));
  assert.deepEqual(contended.map((r) => r.revision), contended.map((_, i) => i + 1));
  assert.equal(shared.length, 2 * rounds * 20);
  // Every event a writer was told it stored is there; the claims that lost were reported as conflicts.
  const stored = new Set([...shared, ...contended].map((r) => r.id));
  for (const result of results) {
    for (const id of result.ids) assert.ok(stored.has(id), `${result.name} lost ${id}`);
  }
  const claims = results.reduce((sum, r) => sum + r.ids.length, 0) - shared.length;
  assert.equal(contended.length, claims);
  assert.equal(claims + results[0].conflicts + results[1].conflicts, 2 * rounds);
  // Positions follow commit order: each batch of 20 is contiguous in the log.
  const positions = shared.map((r) => Number(r.position));
  for (let i = 0; i < positions.length; i += 20) {
    assert.equal(positions[i + 19] - positions[i], 19, "a batch interleaved with another");
  }
  assert.deepEqual((await adapter.stats()).events, shared.length + contended.length + 2 * rounds);
  // A measurement, shown as a step so that it stays under this test in a parallel run.
  await t.step(`measured: conflicts reported ${results[0].conflicts} + ${results[1].conflicts}`, () => {});
});

for (const park of [false, true]) {
  const when = park ? "after its last insert, before the commit" : "in the middle of a large batch";
  Deno.test(`a process killed ${when} leaves all of the batch or none, and the file opens cleanly`, async (t) => {
    await using dir = await tempDir();
    const path = dir.file("events.db");
    {
      await using adapter = new SqliteAdapter(path);
      await adapter.transaction((tx) => tx.insert([row("before", 1), row("before", 2)]));
    }
    const total = 100_000;
    await using child = new Child("_sqlite_big_batch.ts", [path, String(total), ...(park ? ["park"] : [])]);
    await child.line((line) => line === "inserting");
    if (park) await child.line((line) => line === "inserted");
    else await delay(100);
    child.process.kill("SIGKILL");
    const status = await child.status();
    assert.equal(status.signal, "SIGKILL");
    assert.ok(!child.lines.includes("committed"), "the batch committed before the kill; make it larger");

    assert.equal(integrity(path), "ok");
    await using adapter = new SqliteAdapter(path);
    const stats = await adapter.stats();
    const big = stats.events - 2;
    assert.ok(big === 0 || big === total, `found ${big} of ${total} events of the batch`);
    assert.equal((await adapter.readStream("before", { direction: "forward", limit: 10 })).length, 2);
    const [next] = await adapter.transaction((tx) => tx.insert([row("after", 1)]));
    assert.equal(Number(next.position), stats.events + 1);
    await t.step(`measured: ${big} events of the batch after the kill`, () => {});
  });
}
