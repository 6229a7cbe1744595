/**
 * Group commit (issue 15): concurrent plain appends share one PostgreSQL transaction, and
 * each still gets exactly its own result or error. Connection loss during a grouped commit
 * is in `tests/postgres_group_commit_faults_test.ts` (a private cluster).
 */
import assert from "node:assert/strict";
import { z } from "zod";
import {
  ConcurrencyError,
  event,
  EventFactory,
  EventStore,
  EventValidationError,
  isConcurrencyError,
  StreamDeletedError,
} from "../../mod.ts";
import {
  type InsertableRecord,
  isDuplicateIdError,
  isRevisionConflictError,
  RevisionConflictError,
} from "../../contract/mod.ts";
import type { EventRecord } from "../../events/record.ts";
import { parsePostgresPosition } from "./position.ts";
import type { PostgresAdapter } from "./postgres_adapter.ts";
import { row, test, withAdapter } from "./_test_helpers.ts";

const events = new EventFactory([event.type("tick").data(z.object({ n: z.number() }))]);

/** The transaction part of a position: appends sharing it shared a transaction. */
function transactionOf(record: { position: string }): string {
  return parsePostgresPosition(record.position).transaction;
}

/**
 * A shared work as the store's append is: read the revisions, check the one expected of
 * the first stream, insert at the next revisions.
 */
function sharedAppend(
  adapter: PostgresAdapter,
  records: readonly InsertableRecord[],
  expected?: number,
): Promise<EventRecord[]> {
  return adapter.transaction(async (tx) => {
    const revisions = await tx.revisions(records.map((record) => record.stream));
    const stream = records[0].stream;
    if (expected !== undefined && revisions.get(stream) !== expected) throw new RevisionConflictError(stream);
    const next = new Map(revisions);
    const rows = records.map((record) => {
      const revision = (next.get(record.stream) ?? 0) + 1;
      next.set(record.stream, revision);
      return { ...record, revision };
    });
    return await tx.insert(rows, { final: true });
  }, { shared: true });
}

test("concurrent appends share a transaction; those with a stale expected revision alone fail", async () => {
  await withAdapter(async (adapter) => {
    const store = new EventStore({ adapter, events });
    const seen: EventRecord[] = [];
    store.onEventsInserted((records) => void seen.push(...records));
    const streams = Array.from({ length: 12 }, (_, i) => `g-${i}`);
    // Every stream holds one event; the odd ones are then appended to with revision 0.
    for (const stream of streams) {
      await store.pushEvent(store.event({ type: "tick", stream, data: { n: 0 } }));
    }
    seen.length = 0;
    const results = await Promise.allSettled(
      streams.map((stream, i) =>
        store.pushEvent(store.event({ type: "tick", stream, data: { n: i } }), {
          expectedRevision: i % 2 === 0 ? 1 : 0,
        })
      ),
    );
    const landed: EventRecord[] = [];
    results.forEach((result, i) => {
      if (i % 2 === 0) {
        assert.equal(result.status, "fulfilled", `append ${i} lands: ${Deno.inspect(result)}`);
        landed.push((result as PromiseFulfilledResult<EventRecord>).value);
      } else {
        assert.equal(result.status, "rejected");
        const error = (result as PromiseRejectedResult).reason;
        assert.ok(isConcurrencyError(error) && error instanceof ConcurrencyError, Deno.inspect(error));
        assert.equal(error.stream, streams[i]);
        assert.equal(error.expected, 0);
        assert.equal(error.actual, 1);
      }
    });
    for (const record of landed) assert.equal(record.revision, 2);
    assert.ok(
      new Set(landed.map(transactionOf)).size < landed.length,
      `the appends shared no transaction: ${landed.map((record) => record.position).join(", ")}`,
    );
    // Positions increase in commit order: the log reads them back in the order the hooks
    // saw them, and each caller's record is the stored one.
    const log = (await store.getEvents()).filter((record) => record.revision === 2);
    assert.deepEqual(log.map((record) => record.id), seen.map((record) => record.id));
    assert.deepEqual(
      [...landed].sort((a, b) => (a.position < b.position ? -1 : 1)).map((record) => record.position),
      log.map((record) => record.position),
    );
    for (const stream of streams.filter((_, i) => i % 2 === 1)) {
      assert.equal((await store.getEventsByStreams([stream])).length, 1, `nothing was written to ${stream}`);
    }
    await store.close();
  });
});

test("bad input in one of concurrent appends fails that append only", async () => {
  await withAdapter(async (adapter) => {
    const store = new EventStore({ adapter, events });
    await store.pushEvent(store.event({ type: "tick", stream: "gone", data: { n: 0 } }));
    await store.deleteStream("gone", { tombstone: true });
    const good = Array.from(
      { length: 6 },
      (_, i) => store.event({ type: "tick", stream: `ok-${i}`, data: { n: i } }),
    );
    const calls: Promise<unknown>[] = [
      ...good.map((record) => store.pushEvent(record, { expectedRevision: 0 })),
      store.pushEvent({
        ...store.event({ type: "tick", stream: "bad", data: { n: 1 } }),
        data: { n: "x" } as unknown as { n: number },
      }),
      store.pushEvent(store.event({ type: "tick", stream: "gone", data: { n: 1 } })),
    ];
    const results = await Promise.allSettled(calls);
    for (const result of results.slice(0, good.length)) {
      assert.equal(result.status, "fulfilled", Deno.inspect(result));
    }
    const [invalid, tombstoned] = results.slice(good.length) as PromiseRejectedResult[];
    assert.ok(invalid.reason instanceof EventValidationError, Deno.inspect(invalid));
    assert.ok(tombstoned.reason instanceof StreamDeletedError, Deno.inspect(tombstoned));
    const stored = await store.getEventsByStreams(good.map((record) => record.stream));
    assert.deepEqual(stored.map((record) => record.id).sort(), good.map((record) => record.id).sort());
    await store.close();
  });
});

test("a grouped work whose check fails writes nothing; the others of its group land", async () => {
  await withAdapter(async (adapter) => {
    await adapter.open();
    await sharedAppend(adapter, [row("c-0", 0)]);
    // Started in one turn: they form one group.
    const calls = [
      sharedAppend(adapter, [row("c-0", 0)], 0), // stale: c-0 is at 1
      sharedAppend(adapter, [row("c-1", 0), row("c-1", 0)], 0),
      sharedAppend(adapter, [row("c-2", 0)], 0),
      sharedAppend(adapter, [row("c-3", 0), row("c-4", 0)], 0),
    ];
    const [stale, ...rest] = await Promise.allSettled(calls);
    assert.ok(stale.status === "rejected" && isRevisionConflictError(stale.reason), Deno.inspect(stale));
    const landed = rest.map((result) => {
      assert.equal(result.status, "fulfilled", Deno.inspect(result));
      return (result as PromiseFulfilledResult<EventRecord[]>).value;
    });
    assert.equal(
      new Set(landed.flat().map(transactionOf)).size,
      1,
      "the three others shared one transaction",
    );
    assert.deepEqual(landed[0].map((record) => record.revision), [1, 2]);
    const positions = landed.flat().map((record) => record.position);
    assert.deepEqual(positions, [...positions].sort(), "positions follow the order of the calls");
    assert.equal((await adapter.readStream("c-0", { direction: "forward", limit: 10 })).length, 1);
  });
});

test("a server error in a grouped insert fails only the work at fault; the others are run again and land", async () => {
  await withAdapter(async (adapter) => {
    await adapter.open();
    const [taken] = await sharedAppend(adapter, [row("d-0", 0)]);
    const duplicate = row("d-1", 0, { id: taken.id }); // an id that is stored already
    const nul = row("d-\u0000", 0); // PostgreSQL text cannot hold NUL: the server refuses the statement
    const good = [row("d-2", 0), row("d-3", 0), row("d-4", 0)];
    const results = await Promise.allSettled([
      sharedAppend(adapter, [good[0]]),
      sharedAppend(adapter, [duplicate]),
      sharedAppend(adapter, [good[1]]),
      sharedAppend(adapter, [nul]),
      sharedAppend(adapter, [good[2]]),
    ]);
    const [a, dup, b, bad, c] = results;
    for (const result of [a, b, c]) assert.equal(result.status, "fulfilled", Deno.inspect(result));
    assert.ok(dup.status === "rejected" && isDuplicateIdError(dup.reason), Deno.inspect(dup));
    assert.deepEqual(dup.reason.ids, [taken.id]);
    assert.equal(bad.status, "rejected");
    const ids = (await adapter.getByIds([...good, duplicate].map((record) => record.id))).map((record) =>
      record
    );
    assert.deepEqual(
      ids.map((record) => record.stream).sort(),
      ["d-0", "d-2", "d-3", "d-4"],
      "the good ones are stored, the duplicate is the old event",
    );
    assert.equal((await adapter.readStream("d-1", { direction: "forward", limit: 10 })).length, 0);
  });
});

test("two grouped works naming the same stream both land, one after the other", async () => {
  await withAdapter(async (adapter) => {
    await adapter.open();
    const results = await Promise.all([
      sharedAppend(adapter, [row("same", 0)]),
      sharedAppend(adapter, [row("other", 0)]),
      sharedAppend(adapter, [row("same", 0)]),
    ]);
    const same = await adapter.readStream("same", { direction: "forward", limit: 10 });
    assert.deepEqual(same.map((record) => record.revision), [1, 2]);
    assert.deepEqual(same.map((record) => record.id), [results[0][0].id, results[2][0].id]);
    assert.ok(same[0].position < same[1].position);
  });
});

test("grouped works that only read, or throw before inserting, end the transaction with nothing written", async () => {
  await withAdapter(async (adapter) => {
    await adapter.open();
    const results = await Promise.allSettled([
      adapter.transaction(async (tx) => (await tx.revisions(["r-0"])).get("r-0"), { shared: true }),
      adapter.transaction(async (tx) => {
        await tx.existing(["nope"]);
        throw new Error("changed its mind");
      }, { shared: true }),
    ]);
    assert.deepEqual(results[0], { status: "fulfilled", value: 0 });
    assert.equal((results[1] as PromiseRejectedResult).reason.message, "changed its mind");
    // The connection went back to the pool outside a transaction: a plain append works.
    const [stored] = await sharedAppend(adapter, [row("r-0", 0)]);
    assert.equal(stored.revision, 1);
    assert.equal((await adapter.stats()).events, 1);
  });
});
