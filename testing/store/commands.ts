/**
 * Store cases about command handling (`handle`): retries under contention, rejections,
 * aggregate sources, intents guarding other streams, and exhausted attempts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { reject } from "../../aggregates/handle.ts";
import { ConcurrencyError } from "../../errors.ts";
import { type Case, collect, rejects, tick } from "../_fixture.ts";
import { Counter, streamTypes, total } from "./_counter.ts";

/** Cases about command handling. */
export const commandCases: readonly Case[] = [
  {
    name: "handle: 8 concurrent commands on one stream all succeed through retries, without a lost update",
    async run(ctx) {
      await using store = await ctx.store();
      const results = await Promise.all(
        Array.from(
          { length: 8 },
          () =>
            store.handle(
              "c",
              total,
              (sum = 0) => [{ type: "counter:incremented", data: { by: 1, before: sum } }],
            ),
        ),
      );
      assert.ok(results.every((result) => result.ok), "every command succeeded");
      assert.deepEqual(results.map((result) => result.revision).sort((a, b) => a - b), [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
      ]);
      assert.equal(await store.reduce({ name: "total", stream: "c", reducer: total }), 8);
      const stream = await collect(store.readStream("c"));
      assert.deepEqual(stream.map((record) => record.revision), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.deepEqual(
        stream.map((record) => record.type === "counter:incremented" ? record.data.before : -1),
        [0, 1, 2, 3, 4, 5, 6, 7],
        "each command decided on the state left by the one before",
      );
    },
  },
  {
    name: "handle returns a rejection as { ok: false, rejection } and writes nothing",
    async run(ctx) {
      await using store = await ctx.store();
      const decide = (sum = 0) =>
        sum >= 1
          ? reject({ code: "limit" as const, sum })
          : [{ type: "counter:incremented" as const, data: { by: 1, before: sum } }];
      const first = await store.handle("c", total, decide);
      assert.equal(first.ok, true);
      const before = await store.getEvents();
      const second = await store.handle("c", total, decide);
      assert.deepEqual(second, { ok: false, rejection: { code: "limit", sum: 1 }, revision: 1 });
      assert.deepEqual(await store.getEvents(), before);
    },
  },
  {
    name: "handle works with an aggregate class as the source",
    async run(ctx) {
      await using store = await ctx.store();
      const first = await store.handle("agg", Counter, (counter) => {
        counter.increment(2);
      });
      assert.ok(first.ok);
      assert.deepEqual([first.records.length, first.revision], [1, 1]);
      const second = await store.handle(
        "agg",
        Counter,
        (counter) => counter.value >= 2 ? reject("full") : [{ type: "tick" }],
      );
      assert.deepEqual(second, { ok: false, rejection: "full", revision: 1 });
      const third = await store.handle("agg", Counter, (counter, { revision }) => {
        assert.equal(revision, 1);
        return [{ type: "counter:incremented", data: { by: 3, before: counter.value } }];
      });
      assert.ok(third.ok);
      assert.equal(third.revision, 2);
      assert.equal((await store.aggregate.getByStream(Counter, "agg"))?.value, 5);
    },
  },
  {
    name: "handle with an intent guards other streams and commits its relations with the events",
    async run(ctx) {
      await using store = await ctx.store();
      const register = (name: string, email: string) => () => ({
        events: [
          { type: "user:created" as const, data: { name, email } },
          { type: "noted" as const, stream: `email:${email}`, data: name, meta: { by: "register" } },
        ],
        expectedRevision: { [`email:${email}`]: 0 },
        relations: [{ key: "users", stream: `email:${email}` }],
      });
      const first = await store.handle("u1", total, register("Ada", "ada@example.com"));
      assert.ok(first.ok);
      assert.deepEqual(first.records.map((record) => [record.stream, record.revision]), [
        ["u1", 1],
        ["email:ada@example.com", 1],
      ]);
      assert.deepEqual(await store.relations.getByKey("users"), ["email:ada@example.com"]);
      const before = await store.getEvents();
      await rejects(
        () => store.handle("u2", total, register("Eve", "ada@example.com"), { attempts: 2 }),
        ConcurrencyError,
        (error) => assert.equal(error.stream, "email:ada@example.com"),
      );
      assert.deepEqual(await store.getEvents(), before, "nothing of the losing command is stored");
    },
  },
  {
    name: "handle throws ConcurrencyError when its attempts are exhausted",
    async run(ctx) {
      await using store = await ctx.store();
      for (const attempts of [1, 3]) {
        const stream = `c${attempts}`;
        let decided = 0;
        await rejects(
          () =>
            store.handle(stream, total, async (sum = 0) => {
              decided++;
              // Another writer appends between load and append, every time.
              await store.pushEvent(tick(store, stream));
              return [{ type: "counter:incremented", data: { by: 1, before: sum } }];
            }, { attempts }),
          ConcurrencyError,
          (error) => assert.equal(error.stream, stream),
        );
        assert.equal(decided, attempts);
        assert.deepEqual(
          await streamTypes(store, stream),
          Array(attempts).fill("tick"),
          "no command event stored",
        );
      }
    },
  },
];
