/**
 * Two processes appending to one Deno KV file at once: every event is stored once,
 * revisions per stream have no gap, the log reads every commit once in one order, and
 * expected-revision conflicts between the processes are detected.
 */
import assert from "node:assert/strict";
import { KvAdapter } from "../stores/kv/mod.ts";
import type { EventRecord } from "../events/record.ts";
import { Child } from "./_child.ts";

async function readStream(adapter: KvAdapter, stream: string): Promise<EventRecord[]> {
  const records: EventRecord[] = [];
  for (let from = 1;; from += 1000) {
    const page = await adapter.readStream(stream, { direction: "forward", fromRevision: from, limit: 1000 });
    records.push(...page);
    if (page.length < 1000) return records;
  }
}

async function readLog(adapter: KvAdapter): Promise<EventRecord[]> {
  const records: EventRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await adapter.readLog({ direction: "forward", after, limit: 1000 });
    records.push(...page);
    if (page.length < 1000) return records;
    after = page.at(-1)!.position;
  }
}

Deno.test("kv: two processes appending to one file at once lose nothing, duplicate nothing, and see each other's conflicts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventfold_kv_processes_" });
  try {
    const path = `${dir}/events.kv`;
    await new KvAdapter(path).close();
    const rounds = 60;
    const startAt = String(Date.now() + 1500);
    const children = ["a", "b"].map((name) =>
      new Child("_kv_writer.ts", [path, name, String(rounds), startAt])
    );
    const results = (await Promise.all(children.map((child) => child.output()))).map((out) =>
      JSON.parse(out.trim()) as { name: string; ids: string[]; conflicts: number }
    );
    await using adapter = new KvAdapter(path);
    const shared = await readStream(adapter, "shared");
    const contended = await readStream(adapter, "contended");
    const log = await readLog(adapter);
    for (
      const stream of [
        shared,
        contended,
        ...await Promise.all(["own-a", "own-b"].map((s) => readStream(adapter, s))),
      ]
    ) {
      assert.deepEqual(
        stream.map((record) => record.revision),
        stream.map((_, i) => i + 1),
        "no gap, no repeat",
      );
    }
    const written = results.flatMap((result) => result.ids);
    assert.equal(new Set(written).size, written.length, "every id once");
    const stored = new Set([...shared, ...contended].map((record) => record.id));
    assert.deepEqual(
      stored,
      new Set(written),
      "every event the writers were told is stored, and nothing else",
    );
    assert.equal(new Set(log.map((record) => record.id)).size, log.length, "the log holds each event once");
    assert.equal(log.length, (await adapter.stats()).events);
    for (let i = 1; i < log.length; i++) {
      assert.ok(log[i - 1].position < log[i].position, "positions increase");
    }
    const conflicts = results.reduce((sum, result) => sum + result.conflicts, 0);
    assert.equal(
      contended.length + conflicts,
      2 * rounds,
      "each claim either landed or was told it conflicted",
    );
    assert.ok(conflicts > 0, "the writers met each other's expected revisions");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
