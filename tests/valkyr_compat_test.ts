/**
 * What a @valkyr/event-store user writes keeps working, or fails with a message that says
 * what to write instead: read directions, `filter.types`, `snapshot: "auto"`,
 * `aggregate.from` with a snapshot object, the aggregate helpers, `getEventStatus`,
 * `store.makeReducer` and the helper types.
 */
import assert from "node:assert/strict";
import {
  ConcurrencyError,
  EventStore,
  type EventStoreHooks,
  makeReducer,
  type Prettify,
  Projector,
} from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { User, userReducer, type ValkyrEvents, valkyrEvents } from "./fixtures/valkyr_domain.ts";

const audit = { auditor: "test" };

async function seeded(options: { snapshot?: "manual" | "auto" } = {}) {
  const store = new EventStore({ adapter: new MemoryAdapter(), events: valkyrEvents, ...options });
  await store.pushManyEvents([
    store.event({
      type: "user:created",
      stream: "u1",
      data: { email: "a@x", name: { given: "Ada" } },
      meta: audit,
    }),
    store.event({ type: "user:email-set", stream: "u1", data: "b@x", meta: audit }),
    store.event({ type: "user:created", stream: "u2", data: { email: "g@x" }, meta: audit }),
    store.event({ type: "user:deactivated", stream: "u1", meta: audit }),
  ], { relations: [{ key: "team", stream: "u1" }, { key: "team", stream: "u2" }] });
  return store;
}

Deno.test("valkyr: direction asc/desc (and 1/-1) read every array and paging form in that order", async () => {
  await using store = await seeded();
  const order = (records: { stream: string; type: string }[]) => records.map((r) => `${r.stream} ${r.type}`);
  const forward = order(await store.getEvents());
  assert.equal(forward.length, 4);
  assert.deepEqual(order(await store.getEvents({ direction: "asc" })), forward);
  assert.deepEqual(order(await store.getEvents({ direction: 1 })), forward);
  assert.deepEqual(order(await store.getEvents({ direction: "desc" })), [...forward].reverse());
  assert.deepEqual(order(await store.getEvents({ direction: -1 })), [...forward].reverse());
  const u1 = order(await store.getEventsByStreams(["u1"], { direction: "asc" }));
  assert.deepEqual(order(await store.getEventsByStreams(["u1"], { direction: "desc" })), [...u1].reverse());
  const team = order(await store.getEventsByRelations(["team"], { direction: "desc" }));
  assert.deepEqual(team, [...forward].reverse());
  const revisions: number[] = [];
  for await (const record of store.readStream("u1", { direction: "desc" })) revisions.push(record.revision);
  assert.deepEqual(revisions, [3, 2, 1]);
  const all: string[] = [];
  for await (const record of store.readAll({ direction: "desc", limit: 2 })) all.push(record.stream);
  assert.deepEqual(all, ["u1", "u2"]);
  await assert.rejects(
    store.getEvents({ direction: "down" as never }),
    (error: unknown) =>
      error instanceof TypeError &&
      /"forward" or "backward" \(or "asc" \/ "desc"\), got "down"/.test(error.message),
  );
});

Deno.test("valkyr: getEvents({ filter: { types } }) filters like types, and both at once is refused", async () => {
  await using store = await seeded();
  const created = await store.getEvents({ filter: { types: ["user:created"] } });
  assert.deepEqual(created.map((r) => r.stream), ["u1", "u2"]);
  const inU1 = await store.getEventsByStreams(["u1"], { filter: { types: ["user:email-set"] } });
  assert.deepEqual(inU1.map((r) => r.type), ["user:email-set"]);
  await assert.rejects(
    store.getEvents({ types: ["user:created"], filter: { types: ["user:created"] } }),
    /either as types or as filter.types/,
  );
});

Deno.test('valkyr: snapshot: "auto" saves a snapshot after every fold that folded events', async () => {
  await using store = await seeded({ snapshot: "auto" });
  const user = await store.reduce({ name: "user", stream: "u1", reducer: userReducer });
  assert.deepEqual(user, {
    name: { given: "Ada", family: "" },
    email: "b@x",
    active: false,
    posts: { list: [], count: 0 },
  });
  assert.equal((await store.adapter.getSnapshot("user", "u1"))?.revision, 3);
  await store.pushEvent(store.event({ type: "user:activated", stream: "u1", meta: audit }));
  const again = await store.fold({ name: "user", stream: "u1", reducer: userReducer });
  assert.equal(again.folded, 1, "the fold starts from the auto snapshot");
  assert.equal((await store.adapter.getSnapshot("user", "u1"))?.revision, 4);
  // Aggregates without a policy of their own snapshot too.
  const loaded = await store.aggregate.getByStream(User, "u1");
  assert.equal(loaded?.email, "b@x");
  assert.equal((await store.adapter.getSnapshot("user", "u1"))?.revision, 4);
});

Deno.test('valkyr: without snapshot: "auto" nothing is saved, and an unknown value is a TypeError', async () => {
  await using store = await seeded();
  await store.reduce({ name: "user", stream: "u1", reducer: userReducer });
  assert.equal(await store.adapter.getSnapshot("user", "u1"), undefined);
  assert.throws(
    () => new EventStore({ adapter: new MemoryAdapter(), events: valkyrEvents, snapshot: "always" as never }),
    (error: unknown) =>
      error instanceof TypeError && /snapshot must be "manual" or "auto"/.test(error.message),
  );
  const every = makeReducer<ValkyrEvents, number>((n) => n + 1, 0, { snapshot: "auto" });
  assert.deepEqual(every.snapshot, { every: 1 });
  assert.throws(() => makeReducer((n: number) => n, 0, { snapshot: "sometimes" as never }), TypeError);
});

Deno.test("valkyr: aggregate.from(Class, notAString) throws a TypeError naming fromSnapshot", async () => {
  await using store = await seeded();
  for (const bad of [{ id: "u1", email: "x" }, 42, null, ""]) {
    assert.throws(
      () => store.aggregate.from(User, bad as never),
      (error: unknown) =>
        error instanceof TypeError && /takes the stream id/.test(error.message) &&
        /store\.aggregate\.fromSnapshot\(user, snapshot\)/.test(error.message),
    );
  }
  assert.equal(store.aggregate.from(User, "u9").id, "u9");
});

Deno.test("valkyr: fromSnapshot and static AggregateRoot.from make an aggregate from a state object", async () => {
  await using store = await seeded();
  const user = store.aggregate.fromSnapshot(User, { id: "u7", email: "s@x", active: false });
  assert.equal(user.id, "u7");
  assert.equal(user.email, "s@x");
  assert.equal(user.active, false);
  assert.equal(user.revision, 0);
  const fresh = User.from(store);
  assert.equal(fresh.id.length, 36);
  const restored = User.from(store, { id: "u8", email: "t@x" });
  assert.equal(restored.id, "u8");
  assert.equal(restored.email, "t@x");
  // At revision 0 the aggregate is new: saving it onto a stream that exists is refused.
  const stale = store.aggregate.fromSnapshot(User, { id: "u1" });
  await assert.rejects(stale.setEmail("c@x", "me").save(), ConcurrencyError);
  const current = store.aggregate.fromSnapshot(User, { id: "u1" }, { revision: 3 });
  await current.setEmail("c@x", "me").save();
  assert.equal(current.revision, 4);
  assert.throws(() => store.aggregate.fromSnapshot(User, "u1" as never), TypeError);
  assert.throws(() => store.aggregate.fromSnapshot(User, {}, { revision: -1 }), RangeError);
});

Deno.test("valkyr: isDirty, toPending() and flush() on aggregates", async () => {
  await using store = await seeded();
  const user = (await store.aggregate.getByStream(User, "u1"))!;
  assert.equal(user.isDirty, false);
  user.setEmail("d@x", "me").setGivenName("Grace");
  assert.equal(user.isDirty, true);
  const pending = user.toPending();
  assert.deepEqual(pending.map((e) => e.type), ["user:email-set", "user:name:given-set"]);
  pending.length = 0;
  assert.equal(user.pending.length, 2, "toPending() hands out a copy");
  user.flush();
  assert.equal(user.isDirty, false);
  await user.save();
  assert.equal((await store.getEventsByStreams(["u1"])).length, 3, "flushed events are not saved");
});

Deno.test("valkyr: aggregate.snapshot() saves, then stores a snapshot that later loads use", async () => {
  await using store = await seeded();
  const plain = (await store.aggregate.getByStream(User, "u1"))!;
  await assert.rejects(plain.setGivenName("Ada").snapshot(), /keeps no snapshots/);
  assert.equal((await store.getEventsByStreams(["u1"])).length, 3, "a refused snapshot() saves nothing");

  class SnappedUser extends User {
    static override readonly name: string = "snapped-user";
    static readonly snapshot = "manual" as const;
  }
  const user = (await store.aggregate.getByStream(SnappedUser, "u1"))!;
  await user.setEmail("e@x", "me").snapshot();
  assert.equal(user.isDirty, false);
  const saved = await store.adapter.getSnapshot("snapped-user", "u1");
  assert.equal(saved?.revision, 4);
  assert.equal((saved?.state as { email: string }).email, "e@x");
  assert.equal((await store.aggregate.getByStream(SnappedUser, "u1"))?.email, "e@x");
});

Deno.test("valkyr: getEventStatus tells exists and outdated as import() decides them", async () => {
  await using store = new EventStore({ adapter: new MemoryAdapter(), events: valkyrEvents });
  const at = (day: number) => `2026-01-0${day}T00:00:00.000Z`;
  const stored = await store.pushEvent(
    store.event({ type: "user:email-set", stream: "u1", data: "a@x", meta: audit, created: at(5) }),
  );
  assert.deepEqual(await store.getEventStatus(stored), { exists: true, outdated: true });
  const older = store.event({
    type: "user:email-set",
    stream: "u1",
    data: "b@x",
    meta: audit,
    created: at(3),
  });
  assert.deepEqual(await store.getEventStatus(older), { exists: false, outdated: true });
  const newer = store.event({
    type: "user:email-set",
    stream: "u1",
    data: "c@x",
    meta: audit,
    created: at(7),
  });
  assert.deepEqual(await store.getEventStatus(newer), { exists: false, outdated: false });
  const otherType = store.event({ type: "user:activated", stream: "u1", meta: audit, created: at(1) });
  assert.deepEqual(await store.getEventStatus(otherType), { exists: false, outdated: false });
  const [imported] = (await store.import([older])).imported;
  assert.equal(imported.outdated, true, "import() agrees with the status");
  await assert.rejects(store.getEventStatus({ id: "x" } as never), TypeError);
});

Deno.test("valkyr: store.makeReducer, EventStoreHooks and Prettify type-check as valkyr users write them", async () => {
  const projector = new Projector<ValkyrEvents>();
  const seen: string[] = [];
  projector.on("user:created", (record) => void seen.push(record.data.email));
  const hooks: EventStoreHooks<ValkyrEvents> = {
    async onEventsInserted(records, { batch }) {
      if (batch !== undefined) await projector.pushMany(batch, records);
      else for (const record of records) await projector.push(record, { hydrated: false, outdated: false });
    },
  };
  await using store = new EventStore({ adapter: new MemoryAdapter(), events: valkyrEvents, hooks });
  const emails = store.makeReducer<{ emails: string[] }>((state, record) => {
    if (record.type === "user:email-set") state.emails.push(record.data);
    return state;
  }, () => ({ emails: [] }));
  await store.pushManyEvents([
    store.event({ type: "user:created", stream: "u1", data: { email: "a@x" }, meta: audit }),
    store.event({ type: "user:email-set", stream: "u1", data: "b@x", meta: audit }),
  ], { batch: "signup" });
  assert.deepEqual(seen, ["a@x"]);
  assert.deepEqual(await store.reduce({ name: "emails", stream: "u1", reducer: emails }), {
    emails: ["b@x"],
  });
  type Record = Prettify<ValkyrEvents["$record"]>;
  const types: Record["type"][] = ["user:created"];
  assert.equal(types.length, 1);
});
