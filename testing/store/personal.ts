/**
 * Conformance cases about crypto-shredding: personal fields are sealed before anything
 * reaches the adapter, read back as written through every read path, and read as `null`
 * with `forgotten: true` once the subject is forgotten, while the rest of each record
 * stays readable.
 *
 * @module
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { ConcurrencyError, EventValidationError } from "../../errors.ts";
import { event } from "../../events/event.ts";
import { EventFactory } from "../../events/factory.ts";
import { Projector } from "../../projectors/projector.ts";
import { makeReducer } from "../../reducers/make_reducer.ts";
import type { EventRecord } from "../../events/record.ts";
import { EventStore } from "../../stores/event_store.ts";
import { SUBJECT_FORGOTTEN, SYSTEM_STREAM } from "../../events/system.ts";
import { type Case, type CaseContext, collect, rejects } from "../_fixture.ts";
import { QUICK } from "./_subscription_helpers.ts";

const people = new EventFactory([
  event.type("person:registered")
    .data(z.object({
      personId: z.string(),
      email: z.string(),
      name: z.string(),
      address: z.object({ street: z.string(), city: z.string() }),
      plan: z.string(),
    }))
    .personal({ subject: (data) => data.personId, fields: ["email", "name", "address.street"] }),
  event.type("person:moved").data(z.object({ personId: z.string(), street: z.string() }))
    .personal({ subject: (data) => data.personId, fields: ["street"] }),
  event.type("person:upgraded").data(z.object({ plan: z.string() })),
]);

const ADA = {
  personId: "p-ada",
  email: "ada.lovelace@example.com",
  name: "Ada Lovelace",
  address: { street: "12 St James's Square", city: "London" },
  plan: "pro",
};
const ALAN = {
  personId: "p-alan",
  email: "alan.turing@example.com",
  name: "Alan Turing",
  address: { street: "2 Bletchley Park", city: "Milton Keynes" },
  plan: "free",
};
const CLEARTEXT = [ADA.email, ADA.name, ADA.address.street, ALAN.email, "99 Baker Street"];

async function written(ctx: CaseContext) {
  const adapter = await ctx.adapter();
  const store = new EventStore({ adapter, events: people });
  await store.pushManyEvents([
    store.event({ type: "person:registered", stream: "ada", data: ADA }),
    store.event({ type: "person:registered", stream: "alan", data: ALAN }),
    store.event({ type: "person:upgraded", stream: "ada", data: { plan: "team" } }),
    store.event({
      type: "person:moved",
      stream: "ada",
      data: { personId: "p-ada", street: "99 Baker Street" },
    }),
  ]);
  return { adapter, store };
}

/** The whole log, system records included, untyped. */
async function logOf(store: EventStore<typeof people>): Promise<EventRecord[]> {
  return await store.getEvents() as EventRecord[];
}

/** What the adapter holds, as text, to look for cleartext in. */
async function stored(store: EventStore<typeof people>): Promise<string> {
  const records = await store.adapter.readLog({ direction: "forward", limit: 1000 });
  return JSON.stringify(records.map((record) => [record.data, record.meta]));
}

const streets = makeReducer<typeof people, string[]>((list, record) => {
  if (record.type === "person:registered") return [...list, String(record.data.address.street)];
  if (record.type === "person:moved") return [...list, String(record.data.street)];
  return list;
}, []);

/** Cases about personal fields and forgetting a subject. */
export const personalCases: readonly Case[] = [
  {
    name: "personal fields never reach the adapter in cleartext, and read back as written through every path",
    async run(ctx) {
      const { store } = await written(ctx);
      await using _ = store;
      const raw = await stored(store);
      for (const text of CLEARTEXT) assert.ok(!raw.includes(text), `the adapter holds no ${text}`);
      assert.ok(
        raw.includes("London") && raw.includes("p-ada"),
        "fields that are not personal stay as they are",
      );
      const all = await store.getEvents();
      assert.deepEqual(all[0].data, ADA);
      assert.deepEqual(all[1].data, ALAN);
      assert.equal(all[0].forgotten, undefined);
      assert.deepEqual((await collect(store.readStream("ada"))).map((r) => r.type), [
        "person:registered",
        "person:upgraded",
        "person:moved",
      ]);
      assert.deepEqual((await collect(store.readAll({ streams: ["alan"] })))[0].data, ALAN);
      assert.deepEqual(await store.reduce({ name: "streets", stream: "ada", reducer: streets }), [
        ADA.address.street,
        "99 Baker Street",
      ]);
      const seen: string[] = [];
      const projector = new Projector<typeof people>();
      projector.on("person:registered", (record) => void seen.push(record.data.email));
      await using subscription = store.subscribe("emails", projector, QUICK);
      await subscription.waitFor(all.at(-1)!.position);
      assert.deepEqual(seen, [ADA.email, ALAN.email]);
    },
  },
  {
    name:
      "forget makes a subject's personal fields read as null with forgotten: true on every path; the rest stays",
    async run(ctx) {
      const { store } = await written(ctx);
      await using _ = store;
      assert.equal(await store.forget("p-ada"), true);
      assert.equal(await store.forget("p-ada"), false, "forgetting twice is a no-op");
      const [ada, alan, upgraded, moved] = await store.getEvents();
      assert.deepEqual(ada.data, {
        ...ADA,
        email: null,
        name: null,
        address: { street: null, city: "London" },
      });
      assert.equal(ada.forgotten, true);
      assert.deepEqual([ada.id, ada.stream, ada.revision, ada.type], [ada.id, "ada", 1, "person:registered"]);
      assert.deepEqual(alan.data, ALAN, "other subjects are untouched");
      assert.equal(alan.forgotten, undefined);
      assert.deepEqual(upgraded.data, { plan: "team" });
      assert.deepEqual([moved.data, moved.forgotten], [{ personId: "p-ada", street: null }, true]);
      assert.deepEqual(await store.reduce({ name: "streets", stream: "ada", reducer: streets }), [
        "null",
        "null",
      ]);
      // A projector rebuilt from the log sees the forgotten records too.
      const rebuilt: unknown[] = [];
      const projector = new Projector<typeof people>();
      projector.on("person:registered", (record) => void rebuilt.push([record.data.email, record.forgotten]));
      projector.on(
        SUBJECT_FORGOTTEN,
        (record) => void rebuilt.push([record.data.subject, record.data.destroyed]),
      );
      await using subscription = store.subscribe("rebuild", projector, QUICK);
      await subscription.waitFor((await store.getEvents()).at(-1)!.position);
      assert.deepEqual(rebuilt, [[null, true], [ALAN.email, undefined], ["p-ada", true], ["p-ada", false]]);
      // Events of the subject written later get a new key and read back.
      const again = await store.pushEvent(store.event({
        type: "person:moved",
        stream: "ada",
        data: { personId: "p-ada", street: "1 New Road" },
      }));
      assert.deepEqual(again.data, { personId: "p-ada", street: "1 New Road" });
      const log = await logOf(store);
      assert.equal(log.find((r) => r.id === moved.id)?.forgotten, true, "the old records stay forgotten");
      // Each forget is in the log, after the records it forgot, for projectors and sync.
      const forgets = log.filter((r) => r.type === SUBJECT_FORGOTTEN);
      assert.deepEqual(forgets.map((r) => [r.stream, r.data]), [
        [SYSTEM_STREAM, { subject: "p-ada", destroyed: true }],
        [SYSTEM_STREAM, { subject: "p-ada", destroyed: false }],
      ]);
      assert.ok(forgets[0].position > moved.position && again.position > forgets[1].position);
    },
  },
  {
    name:
      "erasure crosses stores: forgotten records import forgotten, and an imported forget forgets the subject after the events before it",
    async run(ctx) {
      const { store: source } = await written(ctx);
      await using _source = source;
      const readable = await source.getEvents();
      await using early = new EventStore({ adapter: await ctx.adapter(), events: people });
      await early.import(readable);
      assert.deepEqual((await logOf(early))[0].data, ADA, "its own key");
      assert.equal(await source.forget("p-ada"), true);
      const after = await logOf(source);
      const forget = after.find((r) => r.type === SUBJECT_FORGOTTEN)!;

      // A store that gets the records only now gets them forgotten, and no cleartext.
      await using late = new EventStore({ adapter: await ctx.adapter(), events: people });
      const { imported } = await late.import(after.filter((r) => r.type !== SUBJECT_FORGOTTEN));
      assert.deepEqual(imported.map((r) => r.forgotten ?? false), [true, false, false, true]);
      const [ada, alan, , moved] = await late.getEvents();
      assert.deepEqual([ada.data, ada.forgotten], [after[0].data, true]);
      assert.deepEqual([alan.data, moved.data], [ALAN, { personId: "p-ada", street: null }]);
      const held = await stored(late);
      for (const text of CLEARTEXT.filter((t) => t !== ALAN.email)) assert.ok(!held.includes(text), text);

      // The forget record, imported where the subject was readable, forgets it there.
      const again = await early.import(after);
      assert.deepEqual(again.imported.map((r) => [r.id, r.type]), [[forget.id, SUBJECT_FORGOTTEN]]);
      assert.deepEqual((await early.getEvents()).map((r) => r.forgotten ?? false), [
        true,
        false,
        false,
        true,
        false,
      ]);
      // Held already, it changes nothing: the subject's later events keep their new key.
      const later = await early.pushEvent(early.event({
        type: "person:moved",
        stream: "ada",
        data: { personId: "p-ada", street: "1 New Road" },
      }));
      assert.deepEqual((await early.import([forget])).skipped, [forget.id]);
      assert.deepEqual((await early.getEvents()).at(-1)?.data, later.data);

      // A type without personal fields here: stored as it reads, checked like any other.
      const upgraded = after.find((r) => r.type === "person:upgraded")!;
      const plain = await late.import([{ ...upgraded, id: crypto.randomUUID(), forgotten: true }]);
      assert.deepEqual([plain.imported[0].data, plain.imported[0].forgotten], [upgraded.data, undefined]);

      // In one call: the events before the forget are forgotten with it.
      await using fresh = new EventStore({ adapter: await ctx.adapter(), events: people });
      await fresh.import([...readable, forget]);
      assert.deepEqual((await fresh.getEvents()).map((r) => r.forgotten ?? false), [
        true,
        false,
        false,
        true,
        false,
      ]);
    },
  },
  {
    name: "bad imports of forgotten records and forgets are typed errors and store nothing",
    async run(ctx) {
      const { store: source } = await written(ctx);
      await using _source = source;
      await source.forget("p-ada");
      const [ada, , upgraded] = await logOf(source);
      const forget = (await logOf(source)).find((r) => r.type === SUBJECT_FORGOTTEN)!;
      await using store = new EventStore({ adapter: await ctx.adapter(), events: people });
      await rejects(
        () => store.import([{ ...ada, forgotten: "yes" as never }]),
        TypeError,
        (error) =>
          assert.match(error.message, /"forgotten" of event #0 \("person:registered"\) must be a boolean/),
      );
      await rejects(
        () =>
          store.import([{ ...ada, data: { ...ADA, name: null, address: { ...ADA.address, street: null } } }]),
        EventValidationError,
        (error) => assert.equal(error.issues[0].path, "data.email"),
      );
      await rejects(
        () =>
          store.import([{
            ...ada,
            data: { ...(ada.data as object), plan: { $sealed: "", $subject: "p-ada", $key: "" } },
          }]),
        EventValidationError,
        (error) =>
          assert.match(
            error.message,
            /data\.plan: a sealed field where the definition has no personal field/,
          ),
      );
      await rejects(
        () =>
          store.import([{ ...ada, data: { ...(ada.data as object), plan: 7, address: { street: null } } }]),
        EventValidationError,
        (error) =>
          assert.deepEqual(
            error.issues.map((issue) => issue.path),
            ["data.address.city", "data.plan"],
            "forgotten, it is checked all the same but for its personal fields",
          ),
      );
      await rejects(
        () => store.import([{ ...ada, data: { personId: "p-ada", plan: "pro" } }]),
        EventValidationError,
        (error) => assert.match(error.message, /holds none of its personal fields/),
      );
      for (
        const bad of [
          { ...forget, data: { subject: "", destroyed: true } },
          { ...forget, data: { subject: "p-ada" } },
          { ...forget, data: { subject: "p-ada", destroyed: true, extra: 1 } },
          { ...forget, stream: "ada" },
          { ...forget, meta: { by: "me" } },
        ]
      ) {
        await rejects(() => store.import([ada, bad as never]), TypeError);
      }
      await rejects(
        () =>
          store.pushEvent(
            {
              ...store.event({ type: "person:upgraded", stream: "x", data: { plan: "a" } }),
              forgotten: true,
            } as never,
          ),
        TypeError,
        (error) => assert.match(error.message, /carries "forgotten"/),
      );
      assert.deepEqual((await store.stats()).events, 0, "nothing stored");
      // A call with a forget and an event the schemas refuse: no part of it is written.
      const [, alan] = await logOf(source);
      await store.import([alan]);
      await rejects(
        () =>
          store.import([
            { ...forget, id: crypto.randomUUID(), data: { subject: ALAN.personId, destroyed: true } },
            { ...upgraded, id: crypto.randomUUID(), data: { plan: 7 } },
          ]),
        EventValidationError,
      );
      assert.deepEqual((await logOf(store)).map((r) => r.data), [ALAN], "the key and the log untouched");
    },
  },
  {
    name: "bad personal input is a typed error and stores nothing",
    async run(ctx) {
      const { store } = await written(ctx);
      await using _ = store;
      const before = await store.stats();
      await rejects(
        () =>
          store.pushEvent(
            store.event({ type: "person:registered", stream: "x", data: { ...ADA, personId: "" } }),
          ),
        EventValidationError,
        (error) => assert.match(error.message, /subject of personal fields must be a non-empty string/),
      );
      const dated = new EventFactory([
        event.type("person:dated").data(z.object({ id: z.string(), born: z.date() }))
          .personal({ subject: (data) => data.id, fields: ["born"] }),
      ]);
      await using other = new EventStore({ adapter: store.adapter, events: dated });
      await rejects(
        () =>
          other.pushEvent(
            other.event({ type: "person:dated", stream: "d", data: { id: "d", born: new Date(0) } }),
          ),
        EventValidationError,
        (error) => assert.equal(error.issues[0].path, "data.born"),
      );
      assert.deepEqual(await store.stats(), before);
      await rejects(() => store.forget(""), TypeError);
      await rejects(() => store.forget(7 as unknown as string), TypeError);
      await rejects(
        () => store.forget("p-ada\u0000"),
        TypeError,
        (error) => assert.match(error.message, /U\+0000/),
      );
      assert.throws(() => event.type("t").personal({ subject: "id" as never, fields: ["a"] }), TypeError);
      assert.throws(() => event.type("t").personal({ subject: () => "s", fields: [] }), TypeError);
      assert.throws(() => event.type("t").personal({ subject: () => "s", fields: ["a..b"] }), TypeError);
    },
  },
  {
    name: "folds over personal fields save no snapshot, so forget reaches folds and aggregates too",
    async run(ctx) {
      const { store } = await written(ctx);
      await using _ = store;
      const emails = makeReducer<typeof people, string[]>(
        (list, record) => record.type === "person:registered" ? [...list, String(record.data.email)] : list,
        [],
        { snapshot: "auto" },
      );
      assert.deepEqual(await store.reduce({ name: "emails", stream: "ada", reducer: emails }), [ADA.email]);
      assert.equal(
        await store.adapter.getSnapshot("emails", "ada"),
        undefined,
        "no snapshot holds the cleartext",
      );
      await rejects(() => store.fold({ name: "emails", stream: "ada", reducer: emails }, true), TypeError);
      await store.forget("p-ada");
      assert.deepEqual(await store.reduce({ name: "emails", stream: "ada", reducer: emails }), ["null"]);
    },
  },
  {
    name:
      "an upcaster that needs a forgotten field does not fail the read; older versions import only sealed",
    async run(ctx) {
      const adapter = await ctx.adapter();
      const v1 = new EventFactory([
        event.type("member:joined").data(z.object({ id: z.string(), name: z.string() }))
          .personal({ subject: (data) => data.id, fields: ["name"] }),
      ]);
      const v2 = new EventFactory([
        event.type("member:joined").version(2)
          .data(z.object({ id: z.string(), given: z.string(), family: z.string() }))
          .upcast(1, ({ data, meta }) => {
            const [given, family] = (data as { name: string }).name.split(" ");
            return { data: { id: (data as { id: string }).id, given, family }, meta };
          })
          .personal({ subject: (data) => data.id, fields: ["given", "family"] }),
      ]);
      // Written by the old code (not closed: closing a store closes its adapter).
      const old = new EventStore({ adapter, events: v1 });
      await old.pushEvent(
        old.event({ type: "member:joined", stream: "m", data: { id: "m1", name: "Ada King" } }),
      );
      await using store = new EventStore({ adapter, events: v2 });
      const [read] = await store.getEvents();
      assert.deepEqual([read.data, read.version, read.storedVersion], [
        { id: "m1", given: "Ada", family: "King" },
        2,
        1,
      ]);
      await store.forget("m1");
      const [forgotten] = await store.getEvents();
      assert.deepEqual([forgotten.data, forgotten.forgotten, forgotten.version], [
        { id: "m1", name: null },
        true,
        1,
      ]);
      const before = await store.stats();
      await rejects(
        () =>
          store.import([{
            ...store.event({
              type: "member:joined",
              stream: "n",
              data: { id: "m2", given: "x", family: "y" },
            }),
            version: 1,
            data: { id: "m2", name: "Alan Turing" },
          } as never]),
        EventValidationError,
        (error) => assert.match(error.message, /only be imported at its current version/),
      );
      assert.deepEqual(await store.stats(), before);
    },
  },
  {
    name:
      "a new subject's key commits with its first events: an append that fails leaves no key, and racing writers share one key",
    async run(ctx) {
      const adapter = await ctx.adapter();
      await using store = new EventStore({ adapter, events: people });
      await store.pushEvent(store.event({ type: "person:upgraded", stream: "ada", data: { plan: "solo" } }));
      await rejects(
        () =>
          store.pushEvent(store.event({ type: "person:registered", stream: "ada", data: ADA }), {
            expectedRevision: 0,
          }),
        ConcurrencyError,
      );
      assert.deepEqual(await adapter.getKeys!([ADA.personId]), new Map(), "the failed append stored no key");

      // Writers racing for a new subject: one key wins, every record reads back.
      const [second, third] = [
        new EventStore({ adapter, events: people }),
        new EventStore({ adapter, events: people }),
      ];
      await using _second = second;
      await using _third = third;
      const writes = [store, second, third].map((writer, i) =>
        writer.pushEvent(
          writer.event({
            type: "person:moved",
            stream: `alan-${i}`,
            data: { personId: ALAN.personId, street: `${i} Bletchley Park` },
          }),
        )
      );
      await Promise.all(writes);
      assert.equal((await adapter.getKeys!([ALAN.personId])).size, 1);
      const moves = (await store.getEvents()).filter((record) => record.type === "person:moved");
      assert.deepEqual(
        moves.map((record) => (record.data as { street: string }).street).sort(),
        ["0 Bletchley Park", "1 Bletchley Park", "2 Bletchley Park"],
      );
      assert.ok(moves.every((record) => record.forgotten !== true));
    },
  },
];
