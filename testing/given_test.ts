import assert, { AssertionError } from "node:assert/strict";
import { z } from "zod";
import { AggregateRoot } from "../aggregates/aggregate_root.ts";
import { reject } from "../aggregates/handle.ts";
import { EventValidationError } from "../errors.ts";
import { event } from "../events/event.ts";
import { EventFactory, type EventRecordOf } from "../events/factory.ts";
import { makeReducer } from "../reducers/make_reducer.ts";
import { EventStore } from "../stores/event_store.ts";
import { MemoryAdapter } from "../stores/memory/memory_adapter.ts";
import { given } from "./given.ts";

const events = new EventFactory([
  event.type("account:opened").data(z.object({ owner: z.string() })),
  event.type("account:deposited").data(z.number().positive()),
]);
type Events = typeof events;

const balance = makeReducer<Events, { owner: string; total: number }>((state, record) => {
  if (record.type === "account:opened") state.owner = record.data.owner;
  else state.total += record.data;
  return state;
}, { owner: "", total: 0 });

const deposit = (amount: number) => (state = { owner: "", total: 0 }) =>
  state.total + amount > 100
    ? reject({ code: "limit" as const, total: state.total })
    : [{ type: "account:deposited" as const, data: amount }];

class Account extends AggregateRoot<Events> {
  static override readonly name: string = "account";
  owner = "";
  total = 0;
  with(record: EventRecordOf<Events>): void {
    if (record.type === "account:opened") this.owner = record.data.owner;
    else this.total += record.data;
  }
  deposit(amount: number): this {
    return this.push({ type: "account:deposited", data: amount });
  }
}

const opened = { type: "account:opened", data: { owner: "ada" } } as const;

Deno.test("given/when(reducer)/then passes when the folded state matches", async () => {
  await given(events).events([opened, { type: "account:deposited", data: 5 }]).when(balance).then({
    owner: "ada",
    total: 5,
  });
  await given(events).when(balance).then(undefined);
});

Deno.test("given/when(reducer)/then fails with an AssertionError showing a diff", async () => {
  await assert.rejects(
    () => given(events).events([opened]).when(balance).then({ owner: "bob", total: 0 }),
    (error: Error) => {
      assert.ok(error instanceof AssertionError);
      assert.match(error.message, /state of stream "given" differs/);
      assert.match(error.message, /\+ +owner: 'ada'/);
      assert.match(error.message, /- +owner: 'bob'/);
      return true;
    },
  );
});

Deno.test("given events on another stream are not folded into the checked stream", async () => {
  await given(events, { stream: "acct-1" })
    .events([opened, { type: "account:deposited", stream: "acct-2", data: 7 }])
    .when(balance)
    .then({ owner: "ada", total: 0 });
});

Deno.test("given/when(reducer, decide)/then compares the appended events and rejections", async () => {
  const start = given(events).events([opened, { type: "account:deposited", data: 90 }]);
  await start.when(balance, deposit(10)).then([{ type: "account:deposited", data: 10 }]);
  await start.when(balance, deposit(11)).then(reject({ code: "limit", total: 90 }));
  await assert.rejects(
    () => start.when(balance, deposit(11)).then([{ type: "account:deposited", data: 11 }]),
    (error: Error) => error instanceof AssertionError && /expected these events/.test(error.message),
  );
  await assert.rejects(
    () => start.when(balance, deposit(10)).then(reject({ code: "limit", total: 90 })),
    (error: Error) => error instanceof AssertionError && /expected a rejection/.test(error.message),
  );
  await assert.rejects(
    () => start.when(balance, deposit(20)).then(reject({ code: "limit", total: 91 })),
    (error: Error) => error instanceof AssertionError && error.message.includes("total: 90"),
  );
});

Deno.test("given/when(aggregate)/then compares the named fields, or undefined without events", async () => {
  await given(events).events([opened, { type: "account:deposited", data: 3 }]).when(Account).then({
    total: 3,
  });
  await given(events).events([opened]).when(Account).then({ owner: "ada", total: 0 });
  await given(events).when(Account).then(undefined);
  await assert.rejects(
    () => given(events).events([opened]).when(Account).then({ total: 1 }),
    (error: Error) =>
      error instanceof AssertionError && /aggregate account of stream "given"/.test(error.message),
  );
  await assert.rejects(() => given(events).when(Account).then({ total: 0 }), AssertionError);
});

Deno.test("given/when(aggregate, decide)/then compares what the aggregate's actions pushed", async () => {
  const start = given(events, { stream: "a1" }).events([opened]);
  await start.when(Account, (account) => void account.deposit(4).deposit(5)).then([
    { type: "account:deposited", data: 4 },
    { type: "account:deposited", stream: "a1", data: 5 },
  ]);
  await start.when(Account, (account) => account.owner === "ada" ? reject("frozen") : undefined).then(
    reject("frozen"),
  );
});

Deno.test("given(store) runs on that store and leaves it open", async () => {
  await using store = new EventStore({ adapter: new MemoryAdapter(), events });
  await given(store, { stream: "s1" }).events([opened]).when(balance).then({ owner: "ada", total: 0 });
  await given(store, { stream: "s1" }).when(balance, deposit(1)).then([{
    type: "account:deposited",
    data: 1,
  }]);
  assert.equal((await store.stats()).events, 2);
});

Deno.test("given events that fail their schema fail the check with EventValidationError", async () => {
  await assert.rejects(
    () => given(events).events([{ type: "account:deposited", data: -1 }]).when(balance).then(undefined),
    EventValidationError,
  );
});

Deno.test("awaiting given(...).when(...) without then rejects with a TypeError saying so", async () => {
  const check = given(events).when(balance) as unknown as Promise<void>;
  await assert.rejects(async () => await check, /call \.then\(expected\)/);
});

Deno.test("given rejects what is not event definitions or a store", () => {
  assert.throws(() => given(undefined as never), TypeError);
  assert.throws(() => given(events, { stream: "" }), TypeError);
  assert.throws(() => given(events).events("x" as never), TypeError);
});
