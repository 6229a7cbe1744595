/**
 * Store cases about bad events: unknown types, payloads failing their schema, streams,
 * forged records, forbidden characters and `created` times, each a typed error naming
 * what was wrong, with the store unchanged.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EventValidationError, UnknownEventError } from "../../errors.ts";
import { added, type Case, collect, rejects, tick } from "../_fixture.ts";
import { count, mentions, unchanged } from "./_unchanged.ts";

/** Cases about bad events. */
export const inputCases: readonly Case[] = [
  {
    name: "an unknown event type is rejected with UnknownEventError and nothing is stored",
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        const check = (error: UnknownEventError) => {
          assert.equal(error.type, "user:deleted");
          mentions("user:deleted")(error);
        };
        await rejects(
          () => store.pushEvent({ type: "user:deleted", stream: "s" } as never),
          UnknownEventError,
          check,
        );
        await rejects(
          () => store.pushManyEvents([added(store, "s", 2), { type: "user:deleted", stream: "s" } as never]),
          UnknownEventError,
          check,
        );
        await rejects(
          () => store.import([{ ...added(store, "s", 2), type: "user:deleted" }]),
          UnknownEventError,
          check,
        );
      }),
  },
  {
    name: "data failing its schema is rejected with EventValidationError naming the type and path",
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        const paths = (error: EventValidationError) => error.issues.map((issue) => issue.path).sort();
        await rejects(
          () =>
            store.pushManyEvents([
              added(store, "s", 2),
              { type: "user:created", stream: "u", data: { name: 5, email: "not an email" } } as never,
            ]),
          EventValidationError,
          (error) => {
            assert.equal(error.type, "user:created");
            assert.deepEqual(paths(error), ["data.email", "data.name"]);
            mentions("user:created", "data.name", "data.email")(error);
          },
        );
        await rejects(
          () => store.pushEvent({ type: "noted", stream: "n", data: "x", meta: { by: 1 } } as never),
          EventValidationError,
          (error) => assert.deepEqual(paths(error), ["meta.by"]),
        );
        await rejects(
          () => store.pushEvent({ type: "item:added", stream: "s" } as never),
          EventValidationError,
          (error) => assert.deepEqual(paths(error), ["data"]),
        );
        await rejects(
          () => store.pushEvent({ type: "tick", stream: "s", data: { surprise: true } } as never),
          EventValidationError,
          (error) => assert.deepEqual(paths(error), ["data"]),
        );
        await rejects(
          () => store.import([{ ...added(store, "s", 2), data: { n: 1.5 } }]),
          EventValidationError,
          (error) => assert.deepEqual(paths(error), ["data.n"]),
        );
      }),
  },
  {
    name: "a non-string stream is rejected with TypeError",
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        await rejects(
          () => store.pushEvent({ type: "tick", stream: 42 } as never),
          TypeError,
          mentions("stream"),
        );
        await rejects(
          () => store.pushManyEvents([tick(store, "s"), { type: "tick", stream: "" }]),
          TypeError,
          mentions("stream"),
        );
        await rejects(
          () => store.import([{ ...tick(store, "s"), stream: null as never }]),
          TypeError,
          mentions("stream"),
        );
        await rejects(() => collect(store.readStream(42 as never)), TypeError, mentions("stream"));
        await rejects(() => store.getEventsByStreams([7 as never]), TypeError, mentions("stream"));
        await rejects(() => store.reduce({ name: "count", stream: 7 as never, reducer: count }), TypeError);
        await rejects(() => store.relations.insert("k", 7 as never), TypeError, mentions("stream"));
      }),
  },
  {
    name: "a record with a forged revision or position passed to pushEvent is rejected with TypeError",
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        const [stored] = await store.getEvents({ limit: 1 });
        await rejects(
          () => store.pushEvent({ ...added(store, "s", 2), revision: 1 } as never),
          TypeError,
          mentions("revision"),
        );
        await rejects(
          () => store.pushEvent({ ...added(store, "s", 2), position: stored.position } as never),
          TypeError,
          mentions("position"),
        );
        await rejects(
          () => store.pushManyEvents([added(store, "s", 2), { ...stored, id: crypto.randomUUID() } as never]),
          TypeError,
          mentions("revision"),
        );
      }),
  },
  {
    name:
      "U+0000 or a lone surrogate in a stream, type, id or relation key is rejected with TypeError naming the field",
    run: (ctx) =>
      unchanged(ctx, async (store) => {
        for (const bad of ["acct\u0000victim", "acct\uD800"]) {
          await rejects(() => store.pushEvent(tick(store, bad)), TypeError, mentions("stream"));
          await rejects(
            () =>
              store.pushManyEvents([tick(store, "s"), { ...tick(store, "s"), type: `tick${bad}` as "tick" }]),
            TypeError,
            mentions("type"),
          );
          await rejects(() => store.pushEvent({ ...tick(store, "s"), id: bad }), TypeError, mentions("id"));
          await rejects(() => store.import([{ ...tick(store, bad) }]), TypeError, mentions("stream"));
          await rejects(
            () => store.pushEvent(tick(store, "s"), { relations: [{ key: bad, stream: "s" }] }),
            TypeError,
            mentions("relation key"),
          );
          await rejects(() => store.relations.insert(bad, "s"), TypeError, mentions("relation key"));
          await rejects(() => store.relations.insert("k", bad), TypeError, mentions("stream"));
          await rejects(
            () => store.pushEvent(tick(store, "s"), { expectedRevision: { [bad]: 0 } }),
            TypeError,
            mentions("stream"),
          );
          await rejects(() => collect(store.readStream(bad)), TypeError, mentions("stream"));
          await rejects(() => store.getEventsByStreams(["s", bad]), TypeError, mentions("stream"));
        }
      }),
  },
  {
    name: "created must be an ISO-8601 UTC time with milliseconds naming a real date, else TypeError",
    async run(ctx) {
      await unchanged(ctx, async (store) => {
        const bad = [
          "yesterday",
          "",
          "2026-02-30T00:00:00.000Z",
          "2026-13-01T00:00:00.000Z",
          "2026-01-01T24:00:00.000Z",
          "2026-01-01T00:00:00Z",
          "2026-01-01T00:00:00.000+02:00",
          "2026-01-01",
          " 2026-01-01T00:00:00.000Z",
          1_767_225_600_000,
        ];
        for (const created of bad) {
          await rejects(
            () => store.pushEvent({ ...tick(store, "s"), created: created as string }),
            TypeError,
            mentions("created"),
          );
          await rejects(
            () => store.import([{ ...tick(store, "s"), created: created as string }]),
            TypeError,
            mentions("created"),
          );
        }
      });
      // The form the clock writes, a leap day and the epoch are kept as given.
      await using store = await ctx.store();
      const good = ["2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z"];
      const { imported } = await store.import(good.map((created) => ({ ...tick(store, "s"), created })));
      assert.deepEqual(imported.map((record) => record.created), good);
      assert.deepEqual(await store.getEvents(), imported);
    },
  },
  {
    name: "a store with a clock of its own takes created in that clock's form, and decides outdated by it",
    async run(ctx) {
      // A hybrid-logical-clock-like form: zero-padded milliseconds, a counter, a node.
      let counter = 0;
      const clock = {
        now: () =>
          `${String(1_767_225_600_000 + counter).padStart(16, "0")}-${String(counter++).padStart(4, "0")}-a`,
        accepts: (created: string) => /^\d{16}-\d{4}-[a-z]+$/.test(created),
      };
      await using store = await ctx.store({ clock });
      const first = await store.pushEvent(tick(store, "s"));
      assert.match(first.created, /^\d{16}-0000-a$/);
      const later = "9999999999999999-0000-b";
      const earlier = "0000000000000001-0000-b";
      const { imported } = await store.import([
        { ...tick(store, "s"), created: later },
        { ...tick(store, "s"), created: earlier },
      ]);
      assert.deepEqual(imported.map((record) => record.outdated), [false, true]);
      for (const created of ["2026-01-01T00:00:00.000Z", "", "1-2-a"]) {
        await rejects(() => store.import([{ ...tick(store, "s"), created }]), TypeError, mentions("created"));
      }
      // Without accepts, any non-empty string without U+0000 or a lone surrogate sorts as it is.
      await using plain = await ctx.store({ clock: { now: clock.now } });
      await plain.import([{ ...tick(plain, "s"), created: "node-b/17" }]);
      await rejects(
        () => plain.import([{ ...tick(plain, "s"), created: "" }]),
        TypeError,
        mentions("created"),
      );
      await rejects(() => plain.import([{ ...tick(plain, "s"), created: "a\u0000b" }]), TypeError);
    },
  },
];
