import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { row, tempDir } from "./_sqlite_helpers.ts";
import { delay } from "../async.ts";

const root = new URL("..", import.meta.url).pathname;

function deno(script: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${root}deno.json`, `${root}tests/${script}`, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finished(child: Deno.ChildProcess): Promise<string> {
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `writer failed: ${err}`);
  return new TextDecoder().decode(stdout);
}

/** Reads stdout line by line until `line` appears; returns the lines seen. */
async function waitForLine(reader: ReadableStreamDefaultReader<Uint8Array>, line: string): Promise<string[]> {
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stdout ended before "${line}"; got ${JSON.stringify(text)}`);
    text += decoder.decode(value);
    const lines = text.split("\n");
    if (lines.includes(line)) return lines;
  }
}

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
    deno("_sqlite_writer.ts", [path, "a", String(rounds), startAt]),
    deno("_sqlite_writer.ts", [
      path,
      "b",
      String(rounds),
      startAt,
    ]),
  ];
  const results = (await Promise.all(children.map(finished))).map((out) =>
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
    const child = deno("_sqlite_big_batch.ts", [path, String(total), ...(park ? ["park"] : [])]);
    const reader = child.stdout.getReader();
    let lines = await waitForLine(reader, "inserting");
    if (park) lines = await waitForLine(reader, "inserted");
    else await delay(100);
    child.kill("SIGKILL");
    reader.releaseLock();
    const status = await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    assert.equal(status.signal, "SIGKILL");
    assert.ok(!lines.includes("committed"), "the batch committed before the kill; make it larger");

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
