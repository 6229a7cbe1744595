/**
 * Adapter cases of the `EventLog` part, about writing: what `insert` returns, positions
 * in input and commit order, the reads a transaction makes, duplicate ids and work that
 * throws. They call the adapter directly, under either transaction model.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isCommitChecked, isDuplicateIdError } from "../../contract/mod.ts";
import type { EventRecord } from "../../events/record.ts";
import { assertIncreasing, type Case } from "../_fixture.ts";
import { idsOf, insert, row, rows, withAdapter } from "./_log.ts";

/** Cases about inserting through `transaction`. */
export const eventLogWriteCases: readonly Case[] = [
  {
    name: "insert returns the records as given, with positions increasing in input order and recorded set",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const given = [
          row("a", 1, { type: "item:added", data: { n: 1 }, meta: { by: "ada" } }),
          row("b", 1, { data: null }),
          row("a", 2, { type: "noted", data: "text", seconds: 7 }),
          row("c", 1, { imported: true }),
        ];
        const stored = await insert(adapter, given);
        assert.deepEqual(idsOf(stored), idsOf(given), "in the given order");
        for (const [i, record] of stored.entries()) {
          const { imported: _imported, ...fields } = given[i];
          assert.deepEqual(
            {
              id: record.id,
              stream: record.stream,
              type: record.type,
              data: record.data,
              meta: record.meta,
              revision: record.revision,
              created: record.created,
              outdated: record.outdated,
            },
            fields,
            `record #${i} comes back as given`,
          );
          assert.equal(typeof record.position, "string");
          assert.ok(!Number.isNaN(Date.parse(record.recorded)), `recorded is a time: ${record.recorded}`);
        }
        assert.equal(stored[3].imported, true, "imported is stored");
        assert.ok(stored.slice(0, 3).every((record) => record.imported !== true), "others are not imported");
        assertIncreasing(stored.map((record) => record.position), "positions of one insert");
        assert.deepEqual(await adapter.getByIds(idsOf(stored)), stored, "what insert returned is stored");
      }),
  },
  {
    name: "positions increase from one transaction to the next, and several inserts in one keep their order",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const first = await insert(adapter, rows("s", 1, 2));
        const second = await insert(adapter, [row("t", 1), row("s", 3)]);
        let third: EventRecord[];
        if (isCommitChecked(adapter)) {
          let staged: Promise<EventRecord[]>[] = [];
          await adapter.transaction((tx) => {
            staged = [tx.insert([row("u", 1)]), tx.insert([row("u", 2)])];
            for (const promise of staged) promise.catch(() => {});
            return Promise.resolve();
          });
          third = (await Promise.all(staged)).flat();
        } else {
          third = await adapter.transaction(async (tx) => [
            ...await tx.insert([row("u", 1)]),
            ...await tx.insert([row("u", 2)]),
          ]);
        }
        const all = [...first, ...second, ...third];
        assertIncreasing(all.map((record) => record.position), "positions in commit order");
        const log = await adapter.readLog({ direction: "forward", limit: 100, settle: true });
        assert.deepEqual(idsOf(log), idsOf(all), "the log reads in commit order");
      }),
  },
  {
    name: "revisions, existing and latestCreated inside a transaction answer from what is committed",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const stored = await insert(adapter, [
          row("s", 1, { type: "noted", seconds: 30 }),
          row("s", 2, { type: "noted", seconds: 10 }),
          row("s", 3, { type: "tick", seconds: 50 }),
          row("t", 1, { type: "noted", seconds: 20 }),
        ]);
        const answers = await adapter.transaction(async (tx) => {
          const revisions = await tx.revisions(["s", "t", "nothing"]);
          const existing = await tx.existing([stored[0].id, "missing-id", stored[3].id]);
          const latest = [
            await tx.latestCreated("s", "noted"),
            await tx.latestCreated("t", "noted"),
            await tx.latestCreated("s", "user:created"),
            await tx.latestCreated("nothing", "noted"),
          ];
          const many = tx.latestCreatedMany === undefined ? undefined : await tx.latestCreatedMany([
            { stream: "s", type: "noted" },
            { stream: "t", type: "noted" },
            { stream: "s", type: "user:created" },
            { stream: "nothing", type: "noted" },
          ]);
          return { revisions, existing, latest, many };
        });
        assert.deepEqual(answers.revisions, new Map([["s", 3], ["t", 1], ["nothing", 0]]));
        assert.deepEqual(answers.existing, new Set([stored[0].id, stored[3].id]));
        const expected = [stored[0].created, stored[3].created, null, null];
        assert.deepEqual(answers.latest, expected, "the greatest created of the type in the stream");
        if (answers.many !== undefined) assert.deepEqual(answers.many, expected, "latestCreatedMany agrees");
      }),
  },
  {
    name: "a duplicate id rejects with a DuplicateIdError and the transaction writes nothing",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const [kept] = await insert(adapter, [row("s", 1)]);
        const before = await adapter.stats();
        const fresh = row("u", 1);
        const duplicate = row("s", 2, { id: kept.id });
        for (const attempt of [[fresh, duplicate], [duplicate]]) {
          await assert.rejects(insert(adapter, attempt), (error: unknown) => {
            assert.ok(isDuplicateIdError(error), `expected a DuplicateIdError, got ${error}`);
            assert.ok(error.ids.length > 0, "it names the ids that exist");
            return true;
          });
          assert.deepEqual(await adapter.stats(), before, "nothing of the transaction is stored");
          assert.deepEqual(await adapter.getByIds([fresh.id]), []);
          assert.deepEqual(await adapter.readStream("u", { direction: "forward", limit: 10 }), []);
        }
        assert.deepEqual(await adapter.getByIds([kept.id]), [kept], "the stored event is unchanged");
        const next = await insert(adapter, [fresh, row("s", 2)]);
        assert.deepEqual(next.map((record) => record.revision), [1, 2], "the adapter goes on");
      }),
  },
  {
    name: "work that throws commits nothing of its transaction, and transaction rejects with its error",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        await insert(adapter, [row("s", 1)]);
        const before = await adapter.stats();
        const boom = new Error("work failed");
        const lost = row("s", 2);
        await assert.rejects(
          adapter.transaction(async (tx) => {
            const staged = tx.insert([lost]);
            if (isCommitChecked(adapter)) staged.catch(() => {});
            else await staged;
            await tx.updateRelations([{ op: "insert", key: "k", stream: "s" }]);
            throw boom;
          }),
          (error) => error === boom,
        );
        assert.deepEqual(await adapter.stats(), before);
        assert.deepEqual(await adapter.getByIds([lost.id]), []);
        assert.deepEqual(await adapter.getStreamsByKeys(["k"]), [], "relations roll back with the events");
        assert.equal(
          await adapter.transaction(() => Promise.resolve(42)),
          42,
          "transaction returns the work's value",
        );
        const [again] = await insert(adapter, [row("s", 2)]);
        assert.equal(again.revision, 2, "the revision the failed work used is free");
      }),
  },
];
