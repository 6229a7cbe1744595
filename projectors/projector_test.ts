import assert from "node:assert/strict";
import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory, type EventRecordOf, type EventTypeOf, type RecordOfType } from "../events/factory.ts";
import { StreamQueue } from "./_stream_queue.ts";
import { type ProjectionStatus, Projector } from "./projector.ts";
import { delay } from "../async.ts";

const events = new EventFactory([
  event.type("user:created").data(z.object({ name: z.string(), email: z.string() })),
  event.type("user:email-set").data(z.string()),
  event.type("user:activated"),
]);
type Events = typeof events;

let counter = 0;
const revisions = new Map<string, number>();

function record<T extends EventTypeOf<Events>>(
  type: T,
  stream: string,
  data: RecordOfType<Events, T>["data"],
  outdated = false,
): RecordOfType<Events, T> {
  counter++;
  const revision = (revisions.get(stream) ?? 0) + 1;
  revisions.set(stream, revision);
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, counter)).toISOString();
  return {
    id: `event-${counter}`,
    stream,
    type,
    data,
    meta: null,
    revision,
    position: String(counter).padStart(10, "0"),
    created: at,
    recorded: at,
    outdated,
  } as RecordOfType<Events, T>;
}

const created = (stream: string, name = "Ada", outdated = false) =>
  record("user:created", stream, { name, email: `${name.toLowerCase()}@example.com` }, outdated);

const FRESH: ProjectionStatus = { hydrated: false, outdated: false };
const HYDRATED: ProjectionStatus = { hydrated: true, outdated: false };
const OUTDATED: ProjectionStatus = { hydrated: true, outdated: true };

Deno.test("push runs once, on and all handlers by whether the record is fresh, hydrated or outdated", async (t) => {
  const statuses = { fresh: FRESH, hydrated: HYDRATED, outdated: OUTDATED };
  const expected = {
    once: { fresh: true, hydrated: false, outdated: false },
    on: { fresh: true, hydrated: true, outdated: false },
    all: { fresh: true, hydrated: true, outdated: true },
  } as const;
  for (const mode of ["once", "on", "all"] as const) {
    for (const [name, status] of Object.entries(statuses) as [keyof typeof statuses, ProjectionStatus][]) {
      await t.step(`${mode} with a ${name} record runs: ${expected[mode][name]}`, async () => {
        const projector = new Projector<Events>();
        const seen: string[] = [];
        const handler = (r: RecordOfType<Events, "user:created">) => void seen.push(r.data.name);
        if (mode === "once") projector.once("user:created", handler);
        else projector[mode]("user:created", handler);
        await projector.push(created("matrix", "Ada"), status);
        assert.deepEqual(seen, expected[mode][name] ? ["Ada"] : []);
      });
    }
  }
});

Deno.test("push takes outdated from the record unless the status says otherwise", async () => {
  const projector = new Projector<Events>();
  const seen: string[] = [];
  projector.on("user:created", (r) => void seen.push(r.data.name));
  await projector.push(created("s", "Stored", true), { hydrated: true });
  await projector.push(created("s", "Overridden", true), { hydrated: true, outdated: false });
  await projector.push(created("s", "Forced", false), { hydrated: false, outdated: true });
  assert.deepEqual(seen, ["Overridden"]);
});

Deno.test("handlers see their event's payload type and only the handlers of that type run", async () => {
  const projector = new Projector<Events>();
  const seen: unknown[] = [];
  projector.on("user:created", (r) => void seen.push(r.data.name.toUpperCase()));
  projector.on("user:email-set", (r) => void seen.push(r.data.toLowerCase()));
  projector.on("user:activated", (r) => void seen.push(r.data));
  // Type checks only: this projector is never pushed to.
  const typed = new Projector<Events>();
  // @ts-expect-error user:created has no field `age`
  typed.on("user:created", (r) => r.data.age);
  // @ts-expect-error user:email-set carries a string, not an object
  typed.once("user:email-set", (r) => r.data.name);
  // @ts-expect-error the factory defines no such event
  typed.all("user:deleted", () => {});
  await projector.push(created("u2", "Ada"), FRESH);
  await projector.push(record("user:email-set", "u2", "ADA@X"), FRESH);
  await projector.push(record("user:activated", "u2", null), FRESH);
  assert.deepEqual(seen, ["ADA", "ada@x", null]);
});

Deno.test("an untyped projector accepts any event type", async () => {
  const projector = new Projector();
  const seen: string[] = [];
  projector.all("anything", (r) => void seen.push(r.type));
  await projector.push(created("u1") as EventRecordOf<Events>, FRESH);
  await projector.push({ ...created("u1"), type: "anything" }, FRESH);
  assert.deepEqual(seen, ["anything"]);
});

Deno.test("records of one stream are handled one at a time in order while other streams run concurrently", async () => {
  const projector = new Projector<Events>();
  const done: string[] = [];
  const active = new Map<string, number>();
  let overlapped = false;
  projector.on("user:created", async (r) => {
    const running = (active.get(r.stream) ?? 0) + 1;
    active.set(r.stream, running);
    if (running > 1) overlapped = true;
    // The slow stream sleeps a random while per record; the fast one barely waits.
    await delay(r.stream === "slow" ? 5 + Math.floor(Math.random() * 15) : Math.floor(Math.random() * 2));
    active.set(r.stream, running - 1);
    done.push(`${r.stream}:${r.revision}`);
  });
  const pushes: Promise<void>[] = [];
  for (let i = 0; i < 6; i++) {
    pushes.push(projector.push(created("slow", `A${i}`), FRESH));
    pushes.push(projector.push(created("fast", `B${i}`), FRESH));
  }
  await Promise.all(pushes);
  const of = (stream: string) =>
    done.filter((d) => d.startsWith(`${stream}:`)).map((d) => Number(d.split(":")[1]));
  assert.deepEqual(of("slow"), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(of("fast"), [1, 2, 3, 4, 5, 6]);
  assert.equal(overlapped, false, "two records of one stream ran at the same time");
  assert.ok(
    done.lastIndexOf("fast:6") < done.indexOf("slow:2"),
    `the fast stream waited for the slow one: ${done.join(" ")}`,
  );
});

Deno.test("once handlers are awaited before the next record of the stream", async () => {
  const projector = new Projector<Events>();
  const log: string[] = [];
  projector.once("user:created", async (r) => {
    await delay(10);
    log.push(`once ${r.data.name}`);
  });
  projector.on("user:email-set", (r) => void log.push(`on ${r.data}`));
  const first = projector.push(created("u1", "Ada"), FRESH);
  const second = projector.push(record("user:email-set", "u1", "ada@x"), FRESH);
  await Promise.all([first, second]);
  assert.deepEqual(log, ["once Ada", "on ada@x"]);
});

Deno.test("the stream queue forgets a stream once its work is done", async () => {
  const queue = new StreamQueue();
  const order: number[] = [];
  const a = queue.run(["s"], async () => {
    await delay(5);
    order.push(1);
  });
  const b = queue.run(["s"], () => {
    order.push(2);
    return 2;
  });
  const c = queue.run(["s"], () => Promise.reject(new Error("c failed")));
  const d = queue.run(["s"], () => order.push(4));
  assert.equal(queue.size, 1);
  await a;
  assert.equal(await b, 2);
  await assert.rejects(c, /c failed/);
  await d;
  await delay(0);
  assert.deepEqual(order, [1, 2, 4]);
  assert.equal(queue.size, 0);
});

Deno.test("unsubscribe stops a handler and leaves the others", async () => {
  const projector = new Projector<Events>();
  const seen: string[] = [];
  const first = projector.on("user:created", (r) => void seen.push(`first ${r.data.name}`));
  projector.all("user:created", (r) => void seen.push(`second ${r.data.name}`));
  await projector.push(created("u1", "A"), FRESH);
  first.unsubscribe();
  first.unsubscribe();
  await projector.push(created("u1", "B"), FRESH);
  assert.deepEqual(seen, ["first A", "second A", "second B"]);
});

Deno.test("unsubscribe takes effect for records queued but not yet started", async () => {
  const projector = new Projector<Events>();
  const seen: string[] = [];
  const registration = projector.on("user:created", async (r) => {
    await delay(5);
    seen.push(r.data.name);
  });
  const a = projector.push(created("u1", "A"), FRESH);
  const b = projector.push(created("u1", "B"), FRESH);
  registration.unsubscribe();
  await Promise.all([a, b]);
  assert.deepEqual(seen, []);
});

Deno.test("pushMany gives the batch to its batch handler instead of per-record handlers", async () => {
  const projector = new Projector<Events>();
  const single: string[] = [];
  const batches: { ids: string[]; status: ProjectionStatus }[] = [];
  projector.on("user:created", (r) => void single.push(r.id));
  const registration = projector.batch("import", (records, status) => {
    batches.push({ ids: records.map((r) => r.id), status });
  });
  const records = [created("u1"), created("u2"), created("u1")];
  await projector.pushMany("import", records, HYDRATED);
  assert.deepEqual(batches, [{ ids: records.map((r) => r.id), status: HYDRATED }]);
  assert.deepEqual(single, []);

  assert.throws(() => projector.batch("import", () => {}), TypeError);
  registration.unsubscribe();
  await projector.pushMany("import", records);
  assert.deepEqual(single, records.map((r) => r.id));
  assert.equal(batches.length, 1);
});

Deno.test("pushMany without a batch handler pushes each record in order with the status", async () => {
  const projector = new Projector<Events>();
  const log: string[] = [];
  projector.once("user:created", (r) => void log.push(`once ${r.data.name}`));
  projector.on("user:created", async (r) => {
    await delay(r.data.name === "A" ? 10 : 0);
    log.push(`on ${r.data.name}`);
  });
  await projector.pushMany("sync", [created("u1", "A"), created("u1", "B")], { hydrated: true });
  assert.deepEqual(log, ["on A", "on B"]);
  log.length = 0;
  await projector.pushMany("local", [created("u2", "C"), created("u2", "D", true)]);
  assert.deepEqual(log, ["once C", "on C"]);
});

Deno.test("a batch waits for earlier records of its streams and holds later ones", async () => {
  const projector = new Projector<Events>();
  const log: string[] = [];
  projector.on("user:created", async (r) => {
    await delay(10);
    log.push(r.data.name);
  });
  projector.batch("b", async (records) => {
    await delay(10);
    log.push(`batch ${records.map((r) => r.data).join(",")}`);
  });
  await Promise.all([
    projector.push(created("u1", "before"), FRESH),
    projector.pushMany("b", [record("user:email-set", "u1", "x"), record("user:email-set", "u2", "y")]),
    projector.push(created("u2", "after"), FRESH),
  ]);
  assert.deepEqual(log, ["before", "batch x,y", "after"]);
});

Deno.test("once calls onSuccess after success and hands errors to onError (positional form)", async () => {
  const projector = new Projector<Events>();
  const log: string[] = [];
  projector.once("user:created", (r) => {
    if (r.data.name === "Bad") throw new Error("mail server down");
    log.push(`sent ${r.data.name}`);
  }, {
    style: "positional",
    onSuccess: (r) => void log.push(`success ${r.data.name}`),
    onError: (error, r) => void log.push(`error ${r.data.name}: ${(error as Error).message}`),
  });
  await projector.push(created("u1", "Ada"), FRESH);
  await projector.push(created("u2", "Bad"), FRESH);
  await projector.push(created("u3", "Hydrated"), HYDRATED);
  assert.deepEqual(log, ["sent Ada", "success Ada", "error Bad: mail server down"]);
});

Deno.test("once effects form (valkyr's): onSuccess gets { data, record } with the handler's return value", async () => {
  const projector = new Projector<Events>();
  const log: string[] = [];
  projector.once("user:created", async (r) => {
    await delay(1);
    if (r.data.name === "Bad") throw new Error("mail server down");
    return { messageId: `m-${r.data.name}` };
  }, {
    onSuccess: async ({ data, record }) => {
      await delay(1);
      const id: string = data.messageId;
      log.push(`success ${record.data.name} ${id}`);
    },
    onError: ({ error, record }) => void log.push(`error ${record.data.name}: ${(error as Error).message}`),
  });
  await projector.push(created("u1", "Ada"), FRESH);
  await projector.push(created("u2", "Bad"), FRESH);
  await projector.push(created("u3", "Hydrated"), HYDRATED);
  assert.deepEqual(log, ["success Ada m-Ada", "error Bad: mail server down"]);
});

Deno.test("once positional form also passes the handler's return value to onSuccess", async () => {
  const projector = new Projector<Events>();
  const got: number[] = [];
  projector.once("user:created", () => 42, {
    style: "positional",
    onSuccess: (_record, data) => void got.push(data),
  });
  await projector.push(created("u1"), FRESH);
  assert.deepEqual(got, [42]);
});

Deno.test("once callbacks are typed by form: the wrong form does not type-check", () => {
  const projector = new Projector<Events>();
  // And at run time it is refused (see below).
  assert.throws(() =>
    // @ts-expect-error: the effects form gets one object, not (error, record)
    projector.once("user:created", () => "ok", {
      onError: (error: unknown, record: { stream: string }) => void [error, record],
    }), TypeError);
  projector.once("user:created", () => "ok", {
    style: "positional",
    // @ts-expect-error: the positional form gets the record, which has no `record` field
    onSuccess: ({ record }) => void record,
  });
  projector.once("user:created", () => "ok", {
    // @ts-expect-error: data is the handler's return value (a string), not the event's data
    onSuccess: ({ data }) => void data.name,
  });
  assert.throws(
    () => projector.once("user:created", () => {}, { style: "named" as never }),
    /style must be "effects" or "positional"/,
  );
});

Deno.test("once refuses a two-argument callback unless the positional form is asked for", () => {
  const projector = new Projector<Events>();
  const positional = (error: unknown, record: unknown) => void [error, record];
  assert.throws(
    () => projector.once("user:created", () => {}, { onError: positional as never }),
    { name: "TypeError", message: /onError takes one object \(\{ error, record \}\); .*style: "positional"/ },
  );
  assert.throws(
    () =>
      projector.once("user:created", () => {}, { onSuccess: ((a: unknown, b: unknown) => [a, b]) as never }),
    { name: "TypeError", message: /onSuccess takes one object/ },
  );
  projector.once("user:created", () => {}, { style: "positional", onError: positional });
});

Deno.test("a once handler without onError makes push reject", async () => {
  const projector = new Projector<Events>();
  let succeeded = false;
  projector.once("user:created", () => Promise.reject(new Error("boom")), {
    onSuccess: () => void (succeeded = true),
  });
  await assert.rejects(projector.push(created("u1"), FRESH), /boom/);
  assert.equal(succeeded, false);
});

Deno.test("a throwing on handler rejects push but the stream keeps going", async () => {
  const projector = new Projector<Events>();
  const seen: string[] = [];
  projector.on("user:created", async (r) => {
    await delay(2);
    if (r.data.name === "Bad") throw new RangeError("bad name");
  });
  projector.all("user:created", (r) => void seen.push(r.data.name));
  const bad = projector.push(created("u1", "Bad"), FRESH);
  const good = projector.push(created("u1", "Good"), FRESH);
  await assert.rejects(bad, RangeError);
  await good;
  assert.deepEqual(seen, ["Bad", "Good"]);
});

Deno.test("several failing handlers reject push with an AggregateError", async () => {
  const projector = new Projector<Events>();
  projector.on("user:created", () => {
    throw new Error("one");
  });
  projector.all("user:created", () => {
    throw new Error("two");
  });
  const error = await projector.push(created("u1"), FRESH).catch((e) => e);
  assert.ok(error instanceof AggregateError);
  assert.deepEqual(error.errors.map((e: Error) => e.message), ["one", "two"]);
});

Deno.test("pushMany without a batch handler rejects with a failing record's error after all ran", async () => {
  const projector = new Projector<Events>();
  const seen: string[] = [];
  projector.on("user:created", (r) => {
    seen.push(r.data.name);
    if (r.data.name === "Bad") throw new Error("bad");
  });
  await assert.rejects(projector.pushMany("k", [created("u1", "Bad"), created("u1", "Good")]), /bad/);
  assert.deepEqual(seen, ["Bad", "Good"]);
});

Deno.test("registrations reject bad arguments with TypeError", () => {
  const projector = new Projector();
  assert.throws(() => projector.on("", () => {}), TypeError);
  assert.throws(() => projector.all("x", "nope" as never), TypeError);
  assert.throws(() => projector.once("x", () => {}, { onError: 1 as never }), TypeError);
  assert.throws(() => projector.batch("", () => {}), TypeError);
});
