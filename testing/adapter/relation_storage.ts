/**
 * Adapter cases of the `RelationStorage` part: idempotent inserts and removes, changes
 * applied in order, lookups without repeats, and relation changes that join an event
 * transaction.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isCommitChecked, type RelationChange } from "../../contract/mod.ts";
import type { Case } from "../_fixture.ts";
import { insert, row, withAdapter } from "./_log.ts";

const sorted = (list: readonly string[]): string[] => [...list].sort();
const link = (key: string, stream: string): RelationChange => ({ op: "insert", key, stream });
const unlink = (key: string, stream: string): RelationChange => ({ op: "remove", key, stream });

/** Cases about relation keys and their streams. */
export const relationStorageCases: readonly Case[] = [
  {
    name:
      "updateRelations inserts and removes idempotently, and getStreamsByKeys lists streams without repeats",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        assert.deepEqual(await adapter.getStreamsByKeys(["k1"]), []);
        await adapter.updateRelations([link("k1", "s1"), link("k1", "s2"), link("k1", "s1")]);
        await adapter.updateRelations([link("k1", "s2"), link("k2", "s2"), link("k2", "s3")]);
        assert.deepEqual(
          sorted(await adapter.getStreamsByKeys(["k1"])),
          ["s1", "s2"],
          "a pair is stored once",
        );
        const both = await adapter.getStreamsByKeys(["k1", "k2", "k1"]);
        assert.deepEqual(sorted(both), ["s1", "s2", "s3"], "streams of several keys, without repeats");
        assert.deepEqual(await adapter.getStreamsByKeys([]), []);
        assert.deepEqual(await adapter.getStreamsByKeys(["nothing"]), []);
        await adapter.updateRelations([unlink("k1", "s1"), unlink("k1", "never-linked"), unlink("k9", "s1")]);
        assert.deepEqual(
          await adapter.getStreamsByKeys(["k1"]),
          ["s2"],
          "removing an unlinked pair changes nothing",
        );
        await adapter.updateRelations([unlink("k1", "s2"), unlink("k1", "s2")]);
        assert.deepEqual(await adapter.getStreamsByKeys(["k1"]), []);
        assert.deepEqual(sorted(await adapter.getStreamsByKeys(["k1", "k2"])), ["s2", "s3"]);
        await adapter.updateRelations([]);
        assert.deepEqual(sorted(await adapter.getStreamsByKeys(["k2"])), ["s2", "s3"]);
      }),
  },
  {
    name: "changes given in one call apply in order: an insert then a remove of a pair leaves it unlinked",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        await adapter.updateRelations([link("k", "a"), unlink("k", "a"), link("k", "b")]);
        assert.deepEqual(await adapter.getStreamsByKeys(["k"]), ["b"]);
        await adapter.updateRelations([unlink("k", "b"), link("k", "b")]);
        assert.deepEqual(
          await adapter.getStreamsByKeys(["k"]),
          ["b"],
          "a remove then an insert leaves it linked",
        );
      }),
  },
  {
    name: "relation changes in a transaction commit with its events, and not when the work throws",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const events = [row("s", 1)];
        if (isCommitChecked(adapter)) {
          await adapter.transaction(async (tx) => {
            tx.insert(events).catch(() => {});
            await tx.updateRelations([link("k", "s")]);
          });
        } else {
          await adapter.transaction(async (tx) => {
            await tx.insert(events);
            await tx.updateRelations([link("k", "s")]);
          });
        }
        assert.deepEqual(await adapter.getStreamsByKeys(["k"]), ["s"]);
        assert.equal((await adapter.getByIds([events[0].id])).length, 1);
        await assert.rejects(
          adapter.transaction(async (tx) => {
            await tx.updateRelations([link("k", "t"), unlink("k", "s")]);
            throw new Error("roll back");
          }),
          /roll back/,
        );
        assert.deepEqual(await adapter.getStreamsByKeys(["k"]), ["s"], "nothing of the failed work applied");
        await adapter.transaction((tx) => tx.updateRelations([link("k", "t")]));
        assert.deepEqual(
          sorted(await adapter.getStreamsByKeys(["k"])),
          ["s", "t"],
          "a transaction of relations only",
        );
        await insert(adapter, [row("t", 1)]);
        assert.deepEqual(
          sorted(await adapter.getStreamsByKeys(["k"])),
          ["s", "t"],
          "an append leaves relations be",
        );
      }),
  },
];
