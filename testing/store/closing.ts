/**
 * Store cases about closing (calls after `close` reject with `StoreClosedError`) and
 * about promise-returning methods rejecting rather than throwing.
 *
 * @module
 */

import { StoreClosedError } from "../../errors.ts";
import { added, type Case, collect, fail, rejects, type TestStore } from "../_fixture.ts";
import { count } from "./_unchanged.ts";

/** Cases about closing and rejecting. */
export const closingCases: readonly Case[] = [
  {
    name: "calls after close throw StoreClosedError, and closing twice is fine",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushEvent(added(store, "s", 1));
      await store.relations.insert("k", "s");
      await store.close();
      await store.close();
      await store[Symbol.asyncDispose]();
      for (const [name, call] of closedCalls(store)) {
        await rejects(call, StoreClosedError).catch((error) => {
          throw new Error(`${name} after close: ${error.message}`);
        });
      }
    },
  },
  {
    name: "methods that return promises reject rather than throw synchronously",
    async run(ctx) {
      const offenders: string[] = [];
      const check = async (name: string, call: () => unknown) => {
        let result: unknown;
        try {
          result = call();
        } catch (error) {
          offenders.push(`${name} threw ${(error as Error).name} synchronously`);
          return;
        }
        if (result instanceof Promise) await result.catch(() => {});
      };
      await using store = await ctx.store();
      await check("getEventsByStreams(not an array)", () => store.getEventsByStreams("s" as never));
      await check("getEventsByStreams([''])", () => store.getEventsByStreams([""]));
      await check("fold(no name)", () => store.fold({ name: "", stream: "s", reducer: count }));
      await check("handle('')", () => store.handle("", count, () => []));
      await check("relations.insert('')", () => store.relations.insert("k", ""));
      await store.close();
      for (const [name, call] of closedCalls(store)) await check(`${name} after close`, call);
      if (offenders.length > 0) {
        fail(`Promise-returning methods must reject instead:\n  ${offenders.join("\n  ")}`);
      }
    },
  },
];

function closedCalls(store: TestStore): [string, () => unknown][] {
  return [
    ["pushEvent", () => store.pushEvent(added(store, "s", 2))],
    ["pushManyEvents", () => store.pushManyEvents([added(store, "s", 2)])],
    ["import", () => store.import([added(store, "s", 2)])],
    ["readAll", () => collect(store.readAll())],
    ["readStream", () => collect(store.readStream("s"))],
    ["getEvents", () => store.getEvents()],
    ["getEventsByStreams", () => store.getEventsByStreams(["s"])],
    ["getEventsByRelations", () => store.getEventsByRelations(["k"])],
    ["reduce", () => store.reduce({ name: "count", stream: "s", reducer: count })],
    ["fold", () => store.fold({ name: "count", stream: "s", reducer: count })],
    ["createSnapshot", () => store.createSnapshot({ name: "count", stream: "s", reducer: count })],
    ["deleteSnapshot", () => store.deleteSnapshot("count", "s")],
    ["handle", () => store.handle("s", count, () => [{ type: "tick" }])],
    ["stats", () => store.stats()],
    ["relations.insert", () => store.relations.insert("k", "t")],
    ["relations.getByKey", () => store.relations.getByKey("k")],
    ["relations.getByKeys", () => store.relations.getByKeys(["k"])],
    ["checkpoints.get", () => store.checkpoints.get("c")],
    ["checkpoints.list", () => store.checkpoints.list()],
    ["checkpoints.set", () => store.checkpoints.set("c", null, { expected: null })],
    ["checkpoints.reset", () => store.checkpoints.reset("c")],
  ];
}
