/**
 * Store cases about event evolution: a store written with version-1 definitions, read by
 * a second store over the same adapter with version-3 definitions (upcasters, a rename),
 * through every read path; the three policies for unknown types; and upcasters that fail.
 *
 * @module
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { AggregateRoot } from "../../aggregates/aggregate_root.ts";
import { DecodeError, EventValidationError, UnknownEventError } from "../../errors.ts";
import { event } from "../../events/event.ts";
import { EventFactory, type EventRecordOf } from "../../events/factory.ts";
import type { EventRecord } from "../../events/record.ts";
import { Projector } from "../../projectors/projector.ts";
import { makeReducer } from "../../reducers/make_reducer.ts";
import type { Adapter } from "../../contract/mod.ts";
import { EventStore } from "../../stores/event_store.ts";
import { type Case, type CaseContext, collect, rejects } from "../_fixture.ts";
import { QUICK } from "./_subscription_helpers.ts";

const nameV1 = z.object({ name: z.string() });
const nameV2 = z.object({ given: z.string(), family: z.string() });
const nameV3 = z.object({ given: z.string(), family: z.string(), email: z.email().nullable() });

/** What version-1 code wrote: a user by its full name, the same under an older type name, and a type later dropped. */
const v1 = new EventFactory([
  event.type("user:created").data(nameV1),
  event.type("user:created-old").data(nameV1),
  event.type("legacy:note").data(z.string()),
]);

type V2 = z.infer<typeof nameV2>;
type V3 = z.infer<typeof nameV3>;

function split({ name }: z.infer<typeof nameV1>): V2 {
  const [given, ...rest] = name.split(" ");
  return { given, family: rest.join(" ") };
}

/** The version-3 definitions, with the step from 2 to 3 replaceable to make it fail. */
function v3Events(step2: (data: V2) => unknown = (data) => ({ ...data, email: null })) {
  return new EventFactory([
    event.type("user:created").version(3).data(nameV3)
      .upcast(1, ({ data, meta }) => ({ data: split(data), meta }), { data: nameV1 })
      .upcast(2, ({ data, meta }) => ({ data: step2(data), meta }), { data: nameV2 })
      .renamedFrom("user:created-old"),
  ]);
}

const v3 = v3Events();
type V3Events = typeof v3;

/** A person folded from `user:created` at version 3. */
class Person extends AggregateRoot<V3Events> {
  static override readonly name: string = "person";
  /** The user as last created. */
  user: V3 | undefined;

  /** Folds one record. */
  with(record: EventRecordOf<V3Events>): void {
    if (record.type === "user:created") this.user = record.data;
  }
}

const ADA: V3 = { given: "Ada", family: "Lovelace", email: null };
const ALAN: V3 = { given: "Alan", family: "Mathison Turing", email: null };
const GRACE: V3 = { given: "Grace", family: "Hopper", email: null };

interface Written {
  readonly adapter: Adapter;
  /** Positions of what version 1 wrote, by what it is. */
  readonly at: { readonly ada: string; readonly alan: string; readonly grace: string };
}

/**
 * Writes the history with version-1 definitions: Ada and Alan as `user:created` in streams
 * u1 and u2 (u1 linked to `team:1`), Grace as `user:created-old` in u3. The version-1 store
 * is not closed: closing it would close the shared adapter.
 */
async function writeV1(ctx: CaseContext): Promise<Written> {
  const adapter = await ctx.adapter();
  const old = new EventStore({ adapter, events: v1 });
  const ada = await old.pushEvent(
    old.event({ type: "user:created", stream: "u1", data: { name: "Ada Lovelace" } }),
    { relations: [{ key: "team:1", stream: "u1" }] },
  );
  const alan = await old.pushEvent(
    old.event({ type: "user:created", stream: "u2", data: { name: "Alan Mathison Turing" } }),
  );
  const grace = await old.pushEvent(
    old.event({ type: "user:created-old", stream: "u3", data: { name: "Grace Hopper" } }),
  );
  return { adapter, at: { ada: ada.position, alan: alan.position, grace: grace.position } };
}

/** A version-3 store over a fresh adapter. */
async function v3Store(ctx: CaseContext): Promise<EventStore<V3Events, Adapter>> {
  return new EventStore({ adapter: await ctx.adapter(), events: v3 });
}

/** Writes, with version 1, users u1 to u3 between `legacy:note` records (stream n), a type version 3 does not know. */
async function writeUnknowns(ctx: CaseContext): Promise<{ adapter: Adapter; note: string; users: string[] }> {
  const adapter = await ctx.adapter();
  const old = new EventStore({ adapter, events: v1 });
  const note = (n: number) => old.event({ type: "legacy:note", stream: "n", data: `note ${n}` });
  const user = (name: string) =>
    old.event({ type: "user:created", stream: name, data: { name: `${name} X` } });
  const records = await old.pushManyEvents([
    note(1),
    user("u1"),
    note(2),
    note(3),
    user("u2"),
    note(4),
    note(5),
    user("u3"),
    note(6),
  ]);
  return {
    adapter,
    note: records[0].position,
    users: records.filter((r) => r.type === "user:created").map((r) => r.position),
  };
}

function assertV3(records: readonly EventRecord[], expected: readonly V3[], what: string): void {
  assert.deepEqual(records.map((r) => r.type), expected.map(() => "user:created"), `${what}: types`);
  assert.deepEqual(records.map((r) => r.data), expected, `${what}: data`);
  assert.deepEqual(
    records.map((r) => [r.version, r.storedVersion]),
    expected.map(() => [3, 1]),
    `${what}: versions`,
  );
}

/** Cases about reading older versions and renamed or unknown types. */
export const evolutionCases: readonly Case[] = [
  {
    name:
      "records written at version 1 read at version 3 through every array read, with version and storedVersion",
    async run(ctx) {
      const { adapter } = await writeV1(ctx);
      await using store = new EventStore({ adapter, events: v3 });
      assertV3(await store.getEvents(), [ADA, ALAN, GRACE], "getEvents");
      assertV3(
        await store.getEvents({ direction: "backward", limit: 2 }),
        [GRACE, ALAN],
        "getEvents backward",
      );
      assertV3(await store.getEventsByStreams(["u1", "u3"]), [ADA, GRACE], "getEventsByStreams");
      assertV3(await store.getEventsByRelations(["team:1"]), [ADA], "getEventsByRelations");
      assertV3(await collect(store.readStream("u2")), [ALAN], "readStream");
      assertV3(await collect(store.readAll()), [ADA, ALAN, GRACE], "readAll");
      const pages = await collect(store.readAllPages({ types: ["user:created"] }));
      assertV3(pages.flat(), [ADA, ALAN, GRACE], "readAllPages");
    },
  },
  {
    name: "new writes are stored at the current version and read back with storedVersion 3",
    async run(ctx) {
      const { adapter } = await writeV1(ctx);
      await using store = new EventStore({ adapter, events: v3 });
      const pushed = await store.pushEvent(
        store.event({ type: "user:created", stream: "u4", data: { ...GRACE, email: "grace@navy.mil" } }),
      );
      assert.deepEqual([pushed.version, pushed.storedVersion], [3, 3], "the returned record");
      const [read] = await collect(store.readStream("u4"));
      assert.deepEqual(read.data, { ...GRACE, email: "grace@navy.mil" }, "not upcast again");
      assert.deepEqual([read.version, read.storedVersion], [3, 3], "the stored record");
      const all = await store.getEvents();
      assert.deepEqual(all.map((r) => r.storedVersion), [1, 1, 1, 3]);
      assert.ok(all.every((r) => r.version === 3));
    },
  },
  {
    name: "import keeps a given version: the record is stored as given and upcast on read",
    async run(ctx) {
      await using store = await v3Store(ctx);
      const old = { ...store.event({ type: "user:created", stream: "u9", data: { ...ADA } }), version: 1 };
      const { imported } = await store.import([{ ...old, data: { name: "Ada Lovelace" } } as typeof old]);
      assert.deepEqual([imported[0].data, imported[0].storedVersion], [ADA, 1]);
      const current = store.event({ type: "user:created", stream: "u9", data: GRACE });
      await store.import([current]);
      const read = await collect(store.readStream("u9"));
      assert.deepEqual(read.map((r) => [r.data, r.version, r.storedVersion]), [[ADA, 3, 1], [GRACE, 3, 3]]);
    },
  },
  {
    name: "a fold over version-1 records sees version 3, and a snapshot saved at version 3 stays valid",
    async run(ctx) {
      const { adapter } = await writeV1(ctx);
      await using store = new EventStore({ adapter, events: v3 });
      let folds = 0;
      const families = makeReducer<V3Events, string[]>(
        (state, record) => {
          folds++;
          assert.equal(record.version, 3);
          if (record.type === "user:created") state.push(`${record.data.family}:${record.data.email}`);
          return state;
        },
        () => [],
        { snapshot: { every: 1 } },
      );
      const first = await store.reduce({ name: "families", relation: "team:1", reducer: families });
      assert.deepEqual(first, ["Lovelace:null"]);
      assert.deepEqual(await store.reduce({ name: "families", stream: "u3", reducer: families }), [
        "Hopper:null",
      ]);
      const snapshot = await store.adapter.getSnapshot("families", "u3");
      assert.deepEqual(snapshot?.state, ["Hopper:null"], "the snapshot holds the version-3 state");
      await store.pushEvent(
        store.event({ type: "user:created", stream: "u3", data: { ...GRACE, email: "g@h.io" } }),
      );
      folds = 0;
      const later = await store.fold({ name: "families", stream: "u3", reducer: families });
      assert.deepEqual(later.state, ["Hopper:null", "Hopper:g@h.io"]);
      assert.equal(folds, 1, "only the event after the snapshot was folded");
    },
  },
  {
    name: "an aggregate loads from version-1 records in the version-3 shape",
    async run(ctx) {
      const { adapter } = await writeV1(ctx);
      await using store = new EventStore({ adapter, events: v3 });
      const ada = await store.aggregate.getByStream(Person, "u1");
      assert.deepEqual([ada?.user, ada?.revision], [ADA, 1]);
      const grace = await store.aggregate.getByStream(Person, "u3");
      assert.deepEqual(grace?.user, GRACE, "under its old name too");
    },
  },
  {
    name: "a projector fed by a subscription gets version-1 records at version 3",
    async run(ctx) {
      const { adapter, at } = await writeV1(ctx);
      await using store = new EventStore({ adapter, events: v3 });
      const projector = new Projector<V3Events>();
      const seen: EventRecord[] = [];
      projector.on("user:created", (record) => void seen.push(record));
      await using subscription = store.subscribe("people", projector, QUICK);
      await subscription.waitFor(at.grace, { timeout: 20_000 });
      assertV3(seen, [ADA, ALAN, GRACE], "projected");
      const fresh = await store.pushEvent(
        store.event({ type: "user:created", stream: "u5", data: { ...ADA, email: "ada@x.org" } }),
      );
      await subscription.waitFor(fresh.position, { timeout: 20_000 });
      assert.deepEqual([seen[3]?.data, seen[3]?.storedVersion], [{ ...ADA, email: "ada@x.org" }, 3]);
    },
  },
  {
    name:
      "records stored under an old name read under renamedFrom's new one, and filters by either name find them",
    async run(ctx) {
      const { adapter, at } = await writeV1(ctx);
      await using store = new EventStore({ adapter, events: v3 });
      const [grace] = await store.getEvents({ after: at.alan });
      assert.deepEqual([grace.type, grace.position, grace.data], ["user:created", at.grace, GRACE]);
      for (const name of ["user:created", "user:created-old"]) {
        // Either name is the one type: a filter by it finds what was stored under both.
        assertV3(await store.getEvents({ types: [name] }), [ADA, ALAN, GRACE], name);
        const streamed = await collect(store.readStream("u3", { types: [name] }));
        assertV3(streamed, [GRACE], `readStream ${name}`);
        assertV3(
          await collect(store.readAll({ types: [name], streams: ["u3"] })),
          [GRACE],
          `readAll ${name}`,
        );
      }
    },
  },
  {
    name: 'unknownEvents "error" (the default) throws UnknownEventError naming the type and position',
    async run(ctx) {
      const { adapter, note } = await writeUnknowns(ctx);
      await using store = new EventStore({ adapter, events: v3 });
      const named = (error: UnknownEventError) => {
        assert.equal(error.type, "legacy:note");
        assert.equal(error.position, note);
        assert.ok(error.message.includes("legacy:note") && error.message.includes(note), error.message);
      };
      await rejects(() => store.getEvents(), UnknownEventError, named);
      await rejects(() => collect(store.readAll()), UnknownEventError, named);
      await rejects(() => collect(store.readStream("n")), UnknownEventError, named);
      const strict = new EventStore({ adapter, events: v3, unknownEvents: "error" });
      await rejects(() => strict.getEventsByStreams(["n"]), UnknownEventError, named);
    },
  },
  {
    name:
      'unknownEvents "skip" leaves unknown types out, and limits count only what is returned, across pages',
    async run(ctx) {
      const { adapter, users } = await writeUnknowns(ctx);
      await using store = new EventStore({ adapter, events: v3, unknownEvents: "skip", pageSize: 2 });
      const streamsOf = (records: readonly EventRecord[]) => records.map((r) => r.stream);
      assert.deepEqual(streamsOf(await store.getEvents()), ["u1", "u2", "u3"]);
      assert.deepEqual(streamsOf(await store.getEvents({ limit: 2 })), ["u1", "u2"]);
      assert.deepEqual(streamsOf(await store.getEvents({ limit: 2, after: users[0] })), ["u2", "u3"]);
      assert.deepEqual(streamsOf(await store.getEvents({ direction: "backward", limit: 2 })), ["u3", "u2"]);
      assert.deepEqual(streamsOf(await collect(store.readAll({ limit: 3 }))), ["u1", "u2", "u3"]);
      assert.deepEqual(await collect(store.readStream("n")), []);
      assert.ok((await store.getEvents()).every((r) => r.version === 3 && r.storedVersion === 1));
    },
  },
  {
    name: 'unknownEvents "pass" returns unknown types untyped, as stored',
    async run(ctx) {
      const { adapter, note } = await writeUnknowns(ctx);
      await using store = new EventStore({ adapter, events: v3, unknownEvents: "pass" });
      const all: EventRecord[] = await store.getEvents();
      assert.equal(all.length, 9);
      const [first] = all;
      assert.deepEqual(
        [first.type, first.position, first.data, first.version, first.storedVersion],
        ["legacy:note", note, "note 1", 1, 1],
      );
      assert.deepEqual(all.filter((r) => r.type === "user:created").map((r) => r.version), [3, 3, 3]);
    },
  },
  {
    name:
      "an upcaster that throws fails the read with DecodeError naming position, type and versions; nothing is written",
    async run(ctx) {
      const { adapter, at } = await writeV1(ctx);
      await using store = new EventStore({
        adapter,
        events: v3Events(() => {
          throw new Error("no email service");
        }),
      });
      const before = await store.stats();
      const named = (error: DecodeError) => {
        assert.equal(error.position, at.ada);
        assert.ok(error.message.includes(at.ada), error.message);
        assert.ok(error.message.includes("user:created"), error.message);
        assert.match(error.message, /\b2\b.*\b3\b/, "names the step from version 2 to 3");
      };
      await rejects(() => store.getEvents(), DecodeError, named);
      await rejects(() => collect(store.readStream("u1")), DecodeError, named);
      const count = makeReducer<V3Events, number>((n) => n + 1, 0, { snapshot: { every: 1 } });
      await rejects(() => store.reduce({ name: "count", stream: "u1", reducer: count }), DecodeError, named);
      await rejects(() => store.aggregate.getByStream(Person, "u1"), DecodeError, named);
      assert.equal(await store.adapter.getSnapshot("count", "u1"), undefined, "no snapshot was saved");
      assert.deepEqual(await store.stats(), before, "nothing was written");
    },
  },
  {
    name: "with validateOnRead, an upcast result failing the current schema is an EventValidationError",
    async run(ctx) {
      const { adapter } = await writeV1(ctx);
      const wrong = v3Events((data) => ({ ...data, email: 42 }));
      const lax = new EventStore({ adapter, events: wrong });
      assert.deepEqual((await lax.getEvents()).map((r) => (r.data as { email: unknown }).email), [
        42,
        42,
        42,
      ]);
      await using store = new EventStore({ adapter, events: wrong, validateOnRead: true });
      const before = await store.stats();
      const named = (error: EventValidationError) => {
        assert.equal(error.type, "user:created");
        assert.ok(error.issues.some((issue) => issue.path.includes("email")), error.message);
      };
      await rejects(() => store.getEvents(), EventValidationError, named);
      await rejects(() => collect(store.readAll()), EventValidationError, named);
      assert.deepEqual(await store.stats(), before, "nothing was written");
      const valid = new EventStore({ adapter, events: v3, validateOnRead: true });
      assertV3(await valid.getEvents(), [ADA, ALAN, GRACE], "good upcasters pass validateOnRead");
    },
  },
];
