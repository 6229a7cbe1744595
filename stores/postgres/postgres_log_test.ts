import assert from "node:assert/strict";
import { EventInsertionError, StoreClosedError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import { PG_URL } from "../../tests/_postgres_env.ts";
import { DuplicateIdError, RevisionConflictError } from "../../contract/mod.ts";
import { delay } from "../../async.ts";
import { PostgresAdapter } from "./mod.ts";
import { append, row, test, withAdapter } from "./_test_helpers.ts";

test("insert() gives positions increasing in input order, and readLog pages both ways by cursor", async () => {
  await withAdapter(async (adapter) => {
    // More than 9 events in one transaction: sequence numbers of different lengths.
    const many = await append(adapter, Array.from({ length: 12 }, (_, i) => row("m", i + 1)));
    const first = await append(adapter, [row("b", 1), row("a", 1), row("b", 2)]);
    const second = await append(adapter, [row("a", 2), row("c", 1)]);
    const positions = [...many, ...first, ...second].map((record) => record.position);
    assert.deepEqual([...positions].sort(), positions);
    assert.equal(new Set(positions).size, 17);

    const forward: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await adapter.readLog({ direction: "forward", limit: 2, after: cursor, settle: true });
      if (page.length === 0) break;
      forward.push(...page.map((record) => record.position));
      cursor = page.at(-1)!.position;
    }
    assert.deepEqual(forward, positions);
    const backward = await adapter.readLog({
      direction: "backward",
      limit: 20,
      after: positions[15],
      settle: true,
    });
    assert.deepEqual(backward.map((record) => record.position), positions.slice(0, 15).reverse());
    assert.equal((await adapter.stats()).head, positions[16]);
    assert.equal((await adapter.lag(positions[10])).behind, 6);
    assert.deepEqual((await adapter.getByIds([second[1].id, "missing", first[0].id])).map((r) => r.id), [
      second[1].id,
      first[0].id,
    ]);
    await assert.rejects(
      () => adapter.readLog({ direction: "forward", limit: 1, after: "0000000000000042" }),
      RangeError,
    );
  });
});

test("insert() reports an existing id as DuplicateIdError and a taken revision as RevisionConflictError", async () => {
  await withAdapter(async (adapter) => {
    const [stored] = await append(adapter, [row("s", 1)]);
    await assert.rejects(
      () => append(adapter, [row("s", 2), { ...row("s", 3), id: stored.id }]),
      (error: unknown) => error instanceof DuplicateIdError && error.ids.join() === stored.id,
    );
    await assert.rejects(
      () => adapter.transaction((tx) => tx.insert([row("s", 1)])),
      (error: unknown) => error instanceof RevisionConflictError && error.stream === "s",
    );
    assert.equal((await adapter.stats()).events, 1);
    assert.deepEqual(
      await adapter.transaction((tx) => tx.revisions(["s", "new"])),
      new Map([["s", 1], ["new", 0]]),
    );
  });
});

/**
 * A slow writer: it inserts an event on stream "slow" (taking its transaction id), then
 * stays open until released.
 */
async function slowWriter(
  adapter: PostgresAdapter,
): Promise<{ slow: Promise<EventRecord[]>; release: () => void }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let inserted!: () => void;
  const insertedNow = new Promise<void>((resolve) => inserted = resolve);
  const slow = adapter.transaction(async (tx) => {
    const records = await tx.insert([row("slow", 1)]);
    inserted();
    await released;
    return records;
  });
  await insertedNow;
  return { slow, release };
}

/**
 * Reads until `done` holds (at most 10 s). The visibility horizon is server-wide: a
 * transaction of another test that is open on the shared server holds back every reader
 * for a moment, so a read without `settle` may first come back short.
 */
async function readUntil(
  read: () => Promise<EventRecord[]>,
  done: (records: EventRecord[]) => boolean,
): Promise<EventRecord[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const records = await read();
    if (done(records) || Date.now() > deadline) return records;
    await delay(20);
  }
}

test("readLog holds back events committed after an older open transaction, and lag() names it", async () => {
  await withAdapter(async (adapter) => {
    await append(adapter, [row("before", 1)]);
    const { slow, release } = await slowWriter(adapter);
    const [fast] = await append(adapter, [row("fast", 1)]);

    const visible = await readUntil(
      () => adapter.readLog({ direction: "forward", limit: 10 }),
      (records) => records.length > 0,
    );
    // "fast" committed, but after "slow" began: it stays unreadable while "slow" is open.
    assert.deepEqual(visible.map((record) => record.stream), ["before"]);
    assert.equal((await adapter.readStream("fast", { direction: "forward", limit: 10 })).length, 1);
    const lag = await adapter.lag(visible[0].position);
    assert.equal(lag.behind, 0);
    assert.equal(lag.waiting, 1);
    assert.ok(lag.heldBy !== null && typeof lag.heldBy.pid === "number" && lag.heldBy.ms !== null);
    assert.equal(lag.head, visible[0].position);

    release();
    const [slowRecord] = await slow;
    const after = await readUntil(
      () => adapter.readLog({ direction: "forward", limit: 10, after: visible[0].position }),
      (records) => records.length >= 2,
    );
    // The slow event sorts first: a reader that saw "fast" earlier would have skipped it.
    assert.deepEqual(after.map((record) => record.id), [slowRecord.id, fast.id]);
    assert.ok(slowRecord.position < fast.position);
    const done = await adapter.lag(after[1].position);
    assert.equal(done.behind, 0);
    assert.equal(done.waiting, 0);
  }, { visibilityWait: 0 });
});

test("a log read waits for events committed before it began, then returns them all in order", async () => {
  await withAdapter(async (adapter) => {
    await append(adapter, [row("before", 1)]);
    const { slow, release } = await slowWriter(adapter);
    await append(adapter, [row("fast", 1)]);
    let settled = false;
    const reading = adapter.readLog({ direction: "forward", limit: 10, settle: true }).finally(() =>
      settled = true
    );
    await delay(150);
    assert.equal(settled, false, "the read returned while an event committed before it was unreadable");
    release();
    await slow;
    assert.deepEqual((await reading).map((record) => record.stream), ["before", "slow", "fast"]);
  });
});

test("watch() wakes a listener of another adapter when events commit, and stops cleanly", async () => {
  await withAdapter(async (writer, schema) => {
    const watcher = new PostgresAdapter(PG_URL, { schema });
    try {
      let wakes = 0;
      const stop = watcher.watch(() => wakes++);
      const deadline = Date.now() + 5000;
      // LISTEN starts in the background: append until a notification arrives.
      for (let revision = 1; wakes === 0 && Date.now() < deadline; revision++) {
        await append(writer, [row("s", revision)]);
        await delay(50);
      }
      assert.ok(wakes > 0, "no notification within 5 s");
      stop();
      stop();
    } finally {
      await watcher.close();
    }
    assert.throws(() => watcher.watch(() => {}), StoreClosedError);
  });
});

test("a statement that failed unseen in a transaction rolls it all back, and savepoints work on the handle", async () => {
  await withAdapter(async (adapter, schema) => {
    await adapter.open();
    const s = adapter.sql(schema);
    await assert.rejects(
      () =>
        adapter.transaction(async (tx) => {
          await tx.revisions(["s"]);
          await tx.insert([row("s", 1)]);
          // Not awaited: the failure aborts the transaction, and COMMIT must not pretend.
          tx.handle`SELECT 1 / 0`.catch(() => {});
        }),
      EventInsertionError,
    );
    assert.equal((await adapter.stats()).events, 0);

    await adapter.transaction(async (tx) => {
      await tx.revisions(["s"]);
      await tx.insert([row("s", 1)]);
      await assert.rejects(() =>
        tx.handle.savepoint(async (inner) => {
          await inner`INSERT INTO ${s}.relations (key, stream) VALUES ('k', 's')`;
          await inner`SELECT 1 / 0`;
        })
      );
      await tx.handle`INSERT INTO ${s}.relations (key, stream) VALUES ('kept', 's')`;
    });
    assert.deepEqual(await adapter.getStreamsByKeys(["k"]), []);
    assert.deepEqual(await adapter.getStreamsByKeys(["kept"]), ["s"]);
    assert.equal((await adapter.stats()).events, 1);
  });
});

test("an append whose COMMIT PostgreSQL refuses says it was rolled back, and nothing is stored", async () => {
  await withAdapter(async (adapter, schema) => {
    await adapter.open();
    const s = adapter.sql(schema);
    await adapter.sql`CREATE TABLE ${s}.deferred (k integer UNIQUE DEFERRABLE INITIALLY DEFERRED)`;
    await assert.rejects(
      () =>
        adapter.transaction(async (tx) => {
          await tx.revisions(["s"]);
          // Checked only at COMMIT, which travels with the final insert.
          await tx.handle`INSERT INTO ${s}.deferred (k) VALUES (1), (1)`;
          await tx.insert([row("s", 1)], { final: true });
        }),
      (error: unknown) => {
        assert.ok(error instanceof EventInsertionError, Deno.inspect(error));
        assert.match(error.message, /rolled the append back at COMMIT.*nothing was written/);
        assert.doesNotMatch(error.message, /unknown/);
        assert.equal((error.cause as { code?: string }).code, "23505");
        return true;
      },
    );
    assert.equal((await adapter.stats()).events, 0);
    assert.equal((await adapter.sql`SELECT k FROM ${s}.deferred`).length, 0);
  });
});

test("revisions() makes racing writers of one stream wait, so the second reads the first one's revision", async () => {
  await withAdapter(async (adapter) => {
    await adapter.open();
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    let locked!: () => void;
    const lockedNow = new Promise<void>((resolve) => locked = resolve);
    const first = adapter.transaction(async (tx) => {
      assert.equal((await tx.revisions(["s"])).get("s"), 0);
      locked();
      await held;
      return await tx.insert([row("s", 1), row("s", 2)]);
    });
    await lockedNow;
    let seen: number | undefined;
    const second = adapter.transaction(async (tx) => {
      seen = (await tx.revisions(["s", "other"])).get("s");
      return await tx.insert([row("s", seen! + 1)]);
    });
    await delay(50);
    assert.equal(seen, undefined, "the second writer did not wait for the lock");
    release();
    await first;
    const [last] = await second;
    assert.equal(seen, 2);
    assert.equal(last.revision, 3);
  });
});

test("a record keeps the version it was inserted with (1 when none was given) on every read", async () => {
  await withAdapter(async (adapter) => {
    const stored = await append(adapter, [row("v", 1, { version: 3 }), row("v", 2)]);
    assert.deepEqual(stored.map((r) => r.version), [3, 1]);
    const versions = (records: EventRecord[]) => records.map((r) => r.version);
    assert.deepEqual(versions(await adapter.readStream("v", { direction: "forward", limit: 10 })), [3, 1]);
    assert.deepEqual(versions(await adapter.readStream("v", { direction: "backward", limit: 10 })), [1, 3]);
    assert.deepEqual(versions(await adapter.readLog({ direction: "forward", limit: 10, settle: true })), [
      3,
      1,
    ]);
    assert.deepEqual(versions(await adapter.getByIds([stored[1].id, stored[0].id])), [1, 3]);
  });
});
