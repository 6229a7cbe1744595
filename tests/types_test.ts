/**
 * Types flow from event definitions into pushes, reducers, aggregates, projectors and
 * commands without casts. Each `@ts-expect-error` below must be an error, or the type
 * check of this file (run by `deno test`) fails.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import { z } from "zod";
import {
  AggregateRoot,
  event,
  EventFactory,
  EventStore,
  makeReducer,
  Projector,
  type RecordOfType,
  reject,
} from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";

const events = new EventFactory([
  event.type("user:created").data(z.object({ name: z.string(), email: z.string() })).meta(
    v.object({ auditor: v.string() }),
  ),
  event.type("user:email-set").data(v.string()),
  event.type("user:activated"),
]);

Deno.test("records carry the data type of their definition", async () => {
  type Created = RecordOfType<typeof events, "user:created">;
  const name: (record: Created) => string = (record) => record.data.name;
  // @ts-expect-error: user:created has no `age`
  const age: (record: Created) => number = (record) => record.data.age;
  const auditor: (record: Created) => string = (record) => record.meta.auditor;
  await using store = new EventStore({ adapter: new MemoryAdapter(), events });
  const record = await store.pushEvent(
    store.event({
      type: "user:created",
      stream: "u1",
      data: { name: "Ada", email: "a@x" },
      meta: { auditor: "ops" },
    }),
  );
  if (record.type !== "user:created") throw new Error(`expected user:created, got ${record.type}`);
  // The typed accessors read what the store returns.
  assert.equal(name(record), "Ada");
  assert.equal(auditor(record), "ops");
  assert.equal(age(record), undefined);
});

Deno.test("store.event checks the payload against the event's type", async () => {
  await using store = new EventStore({ adapter: new MemoryAdapter(), events });
  store.event({ type: "user:email-set", stream: "u1", data: "a@x" });
  // @ts-expect-error: user:email-set carries a string
  store.event({ type: "user:email-set", stream: "u1", data: 42 });
  // @ts-expect-error: user:created needs its meta
  store.event({ type: "user:created", stream: "u1", data: { name: "A", email: "a@x" } });
  // @ts-expect-error: not a defined type
  store.event({ type: "user:deleted", stream: "u1" });
  store.event({ type: "user:activated", stream: "u1" });
});

Deno.test("reducer folds see a union narrowed by type", () => {
  const reducer = makeReducer<typeof events, { email: string; active: boolean }>((state, record) => {
    switch (record.type) {
      case "user:created":
        return { ...state, email: record.data.email };
      case "user:email-set":
        // @ts-expect-error: the payload of user:email-set is a string, not an object
        return { ...state, email: record.data.email };
      case "user:activated":
        return { ...state, active: true };
    }
  }, { email: "", active: false });
  assert.equal(reducer.initial().active, false);
});

Deno.test("projector handlers see their event's record", () => {
  const projector = new Projector<typeof events>();
  projector.on("user:created", (record) => void record.data.name.toUpperCase());
  // @ts-expect-error: user:email-set's data has no `name`
  projector.on("user:email-set", (record) => void record.data.name);
  // @ts-expect-error: not a defined type
  projector.all("user:deleted", () => {});
  projector.clear();
});

class User extends AggregateRoot<typeof events> {
  static override readonly name = "user";
  email = "";
  with(record: typeof events.$record): void {
    if (record.type === "user:email-set") this.email = record.data;
  }
  setEmail(email: string): this {
    return this.push({ type: "user:email-set", data: email });
  }
  wrong(): this {
    // @ts-expect-error: the payload must be a string
    return this.push({ type: "user:email-set", data: { email: "x" } });
  }
}

Deno.test("commands return typed rejections", async () => {
  await using store = new EventStore({ adapter: new MemoryAdapter(), events });
  const result = await store.handle("u1", User, (user) => {
    if (user.email !== "") return reject({ code: "exists" as const });
    user.setEmail("a@x");
  });
  if (!result.ok) {
    const code: "exists" = result.rejection.code;
    assert.fail(`unexpected rejection ${code}`);
  }
  assert.equal(result.revision, 1);
  const again = await store.handle(
    "u1",
    User,
    (user) => user.email !== "" ? reject("exists" as const) : undefined,
  );
  assert.equal(again.ok, false);
  if (!again.ok) assert.equal(again.rejection, "exists");
});
