/**
 * Store cases about bad options: expected revisions, limits, revisions and directions
 * that make no sense, each a `RangeError` or `TypeError` naming the option, with the
 * store unchanged.
 *
 * @module
 */

import { added, type Case, collect, rejects } from "../_fixture.ts";
import { mentions, unchanged } from "./_unchanged.ts";

/** Cases about bad options. */
export const optionCases: readonly Case[] = [
  {
    name: "a negative or fractional expected revision is rejected with RangeError",
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
          await rejects(
            () => store.pushEvent(added(store, "s", 2), { expectedRevision: bad }),
            RangeError,
            mentions(String(bad)),
          );
        }
        await rejects(
          () => store.pushManyEvents([added(store, "s", 2)], { expectedRevision: { s: 1, t: -2 } }),
          RangeError,
          mentions("-2", '"t"'),
        );
        await rejects(
          () => store.pushEvent(added(store, "s", 2), { expectedRevision: "latest" as never }),
          TypeError,
          mentions("latest"),
        );
      }),
  },
  {
    name: "limit -1 is rejected with RangeError",
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        await rejects(() => collect(store.readAll({ limit: -1 })), RangeError, mentions("limit", "-1"));
        await rejects(
          () => collect(store.readStream("s", { limit: -1 })),
          RangeError,
          mentions("limit", "-1"),
        );
        await rejects(() => store.getEvents({ limit: -1 }), RangeError, mentions("limit", "-1"));
        await rejects(() => store.getEventsByStreams(["s"], { limit: -1 }), RangeError, mentions("limit"));
      }),
  },
  {
    name: 'direction "sideways" is rejected with TypeError',
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        const sideways = { direction: "sideways" as never };
        await rejects(() => collect(store.readAll(sideways)), TypeError, mentions("sideways"));
        await rejects(() => collect(store.readStream("s", sideways)), TypeError, mentions("sideways"));
        await rejects(() => store.getEvents(sideways), TypeError, mentions("sideways"));
        await rejects(() => store.getEventsByRelations(["k"], sideways), TypeError, mentions("sideways"));
      }),
  },
  {
    name:
      'expectedRevision takes only a whole number >= 0, "any", "exists" or a non-empty record of them, else TypeError',
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        for (
          const bad of [{}, [], [0], null, "0", true, new Map([["s", 1]]), { s: {} }, { s: [] }, {
            s: "latest",
          }]
        ) {
          await rejects(
            () => store.pushEvent(added(store, "s", 2), { expectedRevision: bad as never }),
            TypeError,
            mentions("xpected"),
          );
        }
      }),
  },
  {
    name:
      "read limits and revisions that make no sense are rejected with RangeError, wrong types with TypeError",
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        for (const limit of [-1, 1.5, NaN, Infinity]) {
          await rejects(() => collect(store.readAll({ limit })), RangeError, mentions("limit"));
          await rejects(() => collect(store.readStream("s", { limit })), RangeError, mentions("limit"));
          await rejects(() => store.getEvents({ limit }), RangeError, mentions("limit"));
          await rejects(() => store.getEventsByStreams(["s"], { limit }), RangeError, mentions("limit"));
        }
        for (const fromRevision of [-1, 0.5, NaN, Infinity]) {
          await rejects(
            () => collect(store.readStream("s", { fromRevision })),
            RangeError,
            mentions("fromRevision"),
          );
        }
        await rejects(() => store.getEvents({ limit: "5" as never }), TypeError, mentions("limit"));
        await rejects(
          () => collect(store.readStream("s", { fromRevision: "1" as never })),
          TypeError,
          mentions("fromRevision"),
        );
        await rejects(() => collect(store.readAll({ types: "tick" as never })), TypeError, mentions("types"));
        await rejects(
          () => collect(store.readStream("s", { types: [7] as never })),
          TypeError,
          mentions("types"),
        );
        await rejects(
          () => collect(store.readAll({ streams: "s" as never })),
          TypeError,
          mentions("streams"),
        );
        await rejects(
          () => store.pushEvent(added(store, "s", 2), { batch: 5 as never }),
          TypeError,
          mentions("batch"),
        );
      }),
  },
];
