import assert from "node:assert/strict";
import { delay } from "../async.ts";
import { AggregateRoot, event, EventFactory, EventStore } from "../mod.ts";
import { MemoryAdapter } from "./memory/mod.ts";
import { SqliteAdapter } from "./sqlite/mod.ts";

const events = new EventFactory([event.type("order:placed"), event.type("invoice:sent")]);

for (
  const [name, open] of [["memory", () => new MemoryAdapter()], [
    "sqlite",
    () => new SqliteAdapter(":memory:"),
  ]] as const
) {
  Deno.test(`an onEventsInserted listener that appends gets its reply, and its records reach listeners next (${name})`, async () => {
    await using store = new EventStore({ adapter: open(), events });
    const seen: string[] = [];
    store.onEventsInserted(async (records) => {
      for (const record of records) {
        seen.push(record.type);
        if (record.type === "order:placed") {
          // A process manager reacting to an event by appending another.
          const sent = await store.pushEvent(store.event({ type: "invoice:sent", stream: record.stream }));
          assert.equal(sent.revision, 2);
        }
      }
    });
    await store.pushEvent(store.event({ type: "order:placed", stream: "o1" }));
    await store.pushEvent(store.event({ type: "order:placed", stream: "o2" }));
    assert.deepEqual(seen, ["order:placed", "invoice:sent", "order:placed", "invoice:sent"]);
  });

  Deno.test(`listeners receive each stream's records in commit order under concurrent appends (${name})`, async () => {
    await using store = new EventStore({ adapter: open(), events });
    const revisions = new Map<string, number[]>();
    let batches = 0;
    store.onEventsInserted(async (records) => {
      for (const record of records) {
        revisions.set(record.stream, [...revisions.get(record.stream) ?? [], record.revision]);
      }
      // Listeners of different lengths (0, 1 and 2 ms in turn), so later appends commit while one runs.
      await delay(batches++ % 3);
    });
    await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) => store.pushEvent(store.event({ type: "order:placed", stream: `s${i % 3}` })),
      ),
    );
    assert.equal(batches, 40);
    assert.deepEqual([...revisions.keys()].sort(), ["s0", "s1", "s2"]);
    for (const [stream, seen] of revisions) {
      const expected = Array.from({ length: stream === "s0" ? 14 : 13 }, (_, i) => i + 1);
      assert.deepEqual(seen, expected, `stream ${stream} out of order: ${seen}`);
    }
  });

  Deno.test(`an append from inside an onEventsInserting listener is refused the same way (${name})`, async () => {
    await using store = new EventStore({ adapter: open(), events });
    store.onEventsInserting(async (records) => {
      await store.pushEvent(store.event({ type: "invoice:sent", stream: `${records[0].stream}-invoice` }));
    });
    await assert.rejects(
      () => store.pushEvent(store.event({ type: "order:placed", stream: "o1" })),
      (error: Error) =>
        error instanceof TypeError && /inside a transaction of the same store/.test(error.message),
    );
    assert.equal((await store.stats()).events, 0);
  });
}

Deno.test("saving two aggregates that expect one stream at different revisions is refused, and nothing is saved", async () => {
  const counted = new EventFactory([event.type("counted")]);
  class Counter extends AggregateRoot<typeof counted> {
    static override readonly name = "counter";
    count = 0;
    with(): void {
      this.count++;
    }
    add(): this {
      return this.push({ type: "counted" });
    }
  }
  await using store = new EventStore({ adapter: new MemoryAdapter(), events: counted });
  await store.aggregate.from(Counter, "c").add().save();
  const stale = store.aggregate.from(Counter, "c").add(); // expects a new stream
  const loaded = (await store.aggregate.getByStream(Counter, "c"))!.add(); // expects revision 1
  await assert.rejects(() => store.aggregate.save(stale, loaded), TypeError);
  assert.equal((await store.stats()).events, 1);
});
