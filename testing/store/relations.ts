/**
 * Store cases about relations: the `relations` API, and relations given with an append
 * committing with its events.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConcurrencyError, EventValidationError } from "../../errors.ts";
import { added, type Case, rejects } from "../_fixture.ts";

const sorted = (list: readonly string[]): string[] => [...list].sort();

/** Cases about relations. */
export const relationCases: readonly Case[] = [
  {
    name: "relations insert, remove and list streams by key and by keys",
    async run(ctx) {
      await using store = await ctx.store();
      await store.relations.insert("team:1", "u1");
      await store.relations.insert("team:1", "u2");
      await store.relations.insert("team:1", "u2");
      await store.relations.insertMany([{ key: "team:2", stream: "u2" }, { key: "team:2", stream: "u3" }]);
      assert.deepEqual(sorted(await store.relations.getByKey("team:1")), ["u1", "u2"]);
      assert.deepEqual(sorted(await store.relations.getByKeys(["team:1", "team:2"])), ["u1", "u2", "u3"]);
      assert.deepEqual(await store.relations.getByKey("team:3"), []);
      assert.deepEqual(await store.relations.getByKeys([]), []);
      await store.relations.remove("team:1", "u1");
      await store.relations.remove("team:1", "never-linked");
      assert.deepEqual(await store.relations.getByKey("team:1"), ["u2"]);
      await store.relations.removeMany([{ key: "team:2", stream: "u2" }, { key: "team:2", stream: "u3" }]);
      assert.deepEqual(await store.relations.getByKey("team:2"), []);
      assert.deepEqual(sorted(await store.relations.getByKeys(["team:1", "team:2"])), ["u2"]);
    },
  },
  {
    name: "relations given with pushManyEvents commit with the events, and not when the push fails",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushEvent(added(store, "p1", 1), { relations: [{ key: "user:u1:posts", stream: "p1" }] });
      assert.deepEqual(await store.relations.getByKey("user:u1:posts"), ["p1"]);
      await rejects(
        () =>
          store.pushEvent(added(store, "p1", 2), {
            expectedRevision: 0,
            relations: [{ key: "user:u1:posts", stream: "p2" }, { key: "user:u2:posts", stream: "p1" }],
          }),
        ConcurrencyError,
      );
      assert.deepEqual(await store.relations.getByKey("user:u1:posts"), ["p1"]);
      assert.deepEqual(await store.relations.getByKey("user:u2:posts"), []);
      await rejects(
        () =>
          store.pushEvent({ type: "item:added", stream: "p3", data: { n: "x" } } as never, {
            relations: [{ key: "user:u3:posts", stream: "p3" }],
          }),
        EventValidationError,
      );
      assert.deepEqual(await store.relations.getByKey("user:u3:posts"), []);
      await store.pushEvent(added(store, "p2", 1), {
        relations: [
          { key: "user:u1:posts", stream: "p2" },
          { key: "user:u1:posts", stream: "p1", op: "remove" },
        ],
      });
      assert.deepEqual(await store.relations.getByKey("user:u1:posts"), ["p2"]);
    },
  },
];
