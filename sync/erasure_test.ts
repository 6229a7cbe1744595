/**
 * Erasure through sync: records forgotten at the source arrive forgotten (no cleartext
 * reaches the target, whatever their version), a `forget` at either end of a two-way sync
 * reaches the other once and does not bounce, and bad forgotten records in a push are
 * refused with a 4xx, storing nothing.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { event, EventFactory, type EventRecord, EventStore, SUBJECT_FORGOTTEN } from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { serve } from "../tests/_sync_helpers.ts";
import { local, remote, sync, syncHandler, type SyncHandlerOptions, SyncRequestError } from "./mod.ts";
import { delay } from "../async.ts";

const people = new EventFactory([
  event.type("person:registered").data(z.object({ id: z.string(), email: z.string() }))
    .personal({ subject: (data) => data.id, fields: ["email"] }),
  // Version 2 splits the name; its upcaster fails on a forgotten (null) name.
  event.type("member:joined").version(2)
    .data(z.object({ id: z.string(), given: z.string(), family: z.string() }))
    .upcast(1, ({ data, meta }) => {
      const [given, family] = (data as { name: string }).name.split(" ");
      return { data: { id: (data as { id: string }).id, given, family }, meta };
    })
    .personal({ subject: (data) => data.id, fields: ["given", "family"] }),
]);
const joinedV1 = new EventFactory([
  event.type("member:joined").data(z.object({ id: z.string(), name: z.string() }))
    .personal({ subject: (data) => data.id, fields: ["name"] }),
]);

type Store = EventStore<typeof people>;

function store(adapter = new MemoryAdapter()): Store {
  return new EventStore({ adapter, events: people });
}

/** The whole log, system records included. */
async function logOf(store: Store): Promise<EventRecord[]> {
  return await store.getEvents() as EventRecord[];
}

/** Everything the adapter holds, as text, to look for cleartext in. */
async function held(store: Store): Promise<string> {
  return JSON.stringify(await store.adapter.readLog({ direction: "forward", limit: 1000 }));
}

/** A source with Ada (forgotten), Alan, and a member written at version 1 (forgotten). */
async function forgottenSource(): Promise<Store> {
  const adapter = new MemoryAdapter();
  const old = new EventStore({ adapter, events: joinedV1 });
  await old.pushEvent(
    old.event({ type: "member:joined", stream: "m", data: { id: "m1", name: "Ada King" } }),
  );
  const source = store(adapter);
  await source.pushManyEvents([
    source.event({
      type: "person:registered",
      stream: "ada",
      data: { id: "p-ada", email: "ada@example.com" },
    }),
    source.event({
      type: "person:registered",
      stream: "alan",
      data: { id: "p-alan", email: "alan@example.com" },
    }),
  ]);
  await source.forget("p-ada");
  await source.forget("m1");
  return source;
}

Deno.test("records forgotten before a sync arrive forgotten, at any version, here and over HTTP in NDJSON and CBOR", async (t) => {
  await using source = await forgottenSource();
  const expected = (await logOf(source)).map((r) => [r.id, r.type, r.forgotten ?? false, r.version]);
  assert.deepEqual(expected.map(([, type, forgotten, version]) => [type, forgotten, version]), [
    ["member:joined", true, 1],
    ["person:registered", true, 1],
    ["person:registered", false, 1],
    [SUBJECT_FORGOTTEN, false, 1],
    [SUBJECT_FORGOTTEN, false, 1],
  ]);
  const stopping = new AbortController();
  await using http = serve(syncHandler(source, { signal: stopping.signal }));
  const sides = {
    "a store here": local(source),
    "NDJSON": remote(http.url, { format: "ndjson" }),
    "CBOR": remote(http.url, { format: "cbor" }),
  };
  for (const [name, from] of Object.entries(sides)) {
    await t.step(name, async () => {
      await using target = store();
      const progress = await sync({ from, to: target });
      assert.equal(progress.imported, 5);
      const log = await logOf(target);
      assert.deepEqual(log.map((r) => [r.id, r.type, r.forgotten ?? false, r.version]), expected);
      assert.deepEqual(log.map((r) => r.data), (await logOf(source)).map((r) => r.data));
      assert.deepEqual(log[0].data, { id: "m1", name: null }, "kept at its stored version");
      const text = await held(target);
      for (const cleartext of ["ada@example.com", "Ada King", "Ada", "King"]) {
        assert.ok(!text.includes(`"${cleartext}"`), `${cleartext} reached the target`);
      }
      assert.ok(!text.includes("alan@example.com"), "the target seals what it holds");
    });
  }
  stopping.abort();
});

Deno.test("a forget at either end of a live two-way sync reaches the other once and does not bounce back", async () => {
  const [adapterA, adapterB] = [new MemoryAdapter(), new MemoryAdapter()];
  const [a, b] = [store(adapterA), store(adapterB)];
  const registered = (store: Store, id: string, email: string) =>
    store.pushEvent(store.event({ type: "person:registered", stream: id, data: { id, email } }));
  const until = async (what: string, done: () => Promise<boolean>) => {
    const deadline = Date.now() + 10_000;
    while (!(await done())) {
      if (Date.now() > deadline) assert.fail(`not within 10 s: ${what}`);
      await delay(10);
    }
  };
  const forgottenAt = (store: Store, id: string) => async () =>
    (await logOf(store)).find((r) => r.id === id)?.forgotten === true;
  const stop = new AbortController();
  const running = [
    sync({ from: a, to: b, live: true, signal: stop.signal, interval: 5 }),
    sync({ from: b, to: a, live: true, signal: stop.signal, interval: 5 }),
  ];
  try {
    const ada = await registered(a, "p-ada", "ada@example.com");
    const alan = await registered(b, "p-alan", "alan@example.com");
    await until(
      "both events at both",
      async () => (await b.getEvents()).length === 2 && (await a.getEvents()).length === 2,
    );
    await b.forget("p-ada");
    await a.forget("p-alan");
    await until("Ada forgotten at a", forgottenAt(a, ada.id));
    await until("Alan forgotten at b", forgottenAt(b, alan.id));
    // After the forgets, Ada's new events get a new key at each store, and stay readable.
    const again = await registered(a, "p-ada", "ada@new.example.com");
    await until("the new event at b", async () => (await b.getEvents()).some((r) => r.id === again.id));
    await delay(100); // rounds enough for a bounce to show
  } finally {
    stop.abort();
    await Promise.all(running);
  }
  const forgets = async (store: Store) =>
    (await logOf(store)).filter((r) => r.type === SUBJECT_FORGOTTEN).map((r) => r.id).sort();
  assert.deepEqual(await forgets(a), await forgets(b));
  assert.equal((await forgets(a)).length, 2, "one record per forget, none echoed");
  // Restarted (the echo memory is gone): the forgets go back once, are held already, and
  // destroy none of the newer keys.
  // (a and b stay open: closing a store closes its adapter.)
  await using a2 = store(adapterA);
  await using b2 = store(adapterB);
  await sync({ from: a2, to: b2 });
  await sync({ from: b2, to: a2 });
  for (const s of [a2, b2]) {
    const log = await logOf(s);
    const events = log.filter((r) => r.type !== SUBJECT_FORGOTTEN)
      .map((r) => JSON.stringify([r.forgotten ?? false, r.data])).sort();
    assert.deepEqual(
      events,
      [
        [true, { id: "p-ada", email: null }],
        [true, { id: "p-alan", email: null }],
        [false, { id: "p-ada", email: "ada@new.example.com" }],
      ].map((entry) => JSON.stringify(entry)).sort(),
    );
    assert.equal((await forgets(s)).length, 2);
  }
});

Deno.test("a push of bad forgotten records or forgets is a 4xx with a reason, and stores nothing", async (t) => {
  await using source = await forgottenSource();
  await using target = store();
  await target.pushEvent(
    target.event({
      type: "person:registered",
      stream: "alan",
      data: { id: "p-alan", email: "alan@example.com" },
    }),
  );
  const stopping = new AbortController();
  await using http = serve(syncHandler(target, { signal: stopping.signal }));
  const [, ada] = await logOf(source);
  const forget = (await logOf(source)).find((r) => r.type === SUBJECT_FORGOTTEN)!;
  const line = (r: EventRecord, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: r.id,
      stream: r.stream,
      type: r.type,
      version: r.version,
      created: r.created,
      position: r.position,
      data: r.data,
      meta: r.meta,
      ...extra,
    });
  const end = (count: number) => JSON.stringify({ $end: true, cursor: "9", count });
  const cases: [string, string[], number, RegExp][] = [
    [
      "forgotten that is not a boolean",
      [line(ada, { forgotten: "yes" })],
      400,
      /"forgotten" must be true or false/,
    ],
    [
      "a forgotten record whose personal field holds a value",
      [line(ada, { forgotten: true, data: { id: "p-ada", email: "ada@example.com" } })],
      422,
      /data\.email: the record is forgotten/,
    ],
    [
      "a forget without its subject",
      [line(forget, { id: crypto.randomUUID(), data: { destroyed: true } })],
      400,
      /"data\.subject" of event #0/,
    ],
    [
      "a forget of Alan before a record the schemas refuse",
      [
        line(forget, { id: crypto.randomUUID(), data: { subject: "p-alan", destroyed: true } }),
        line(ada, { id: crypto.randomUUID(), data: { id: "p-x", email: 7 } }),
      ],
      422,
      /data\.email/,
    ],
  ];
  const before = await logOf(target);
  for (const [name, lines, status, reason] of cases) {
    await t.step(name, async () => {
      const response = await fetch(`${http.url}?from=elsewhere`, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: [...lines, end(lines.length)].join("\n") + "\n",
      });
      const body = await response.json();
      assert.equal(response.status, status, JSON.stringify(body));
      assert.match(body.error, reason);
      assert.deepEqual(await logOf(target), before, "nothing stored, Alan still readable");
      assert.equal(await target.checkpoints.get("sync:elsewhere"), undefined);
    });
  }
  stopping.abort();
});

Deno.test("a server takes pushed forgets only as acceptForgets allows; a refused push is a 403 and stores nothing", async (t) => {
  await using source = await forgottenSource();
  const [forgetAda] = (await logOf(source)).filter((r) => r.type === SUBJECT_FORGOTTEN);
  const policies: [string, SyncHandlerOptions["acceptForgets"], boolean][] = [
    ["false", false, false],
    ["a function that takes another subject", (subject) => subject === "p-alan", false],
    ["a function that throws", () => {
      throw new Error("no policy store");
    }, false],
    [
      "an async function that takes this one",
      async (subject, request) =>
        await Promise.resolve(["p-ada", "m1"].includes(subject) && request.headers.get("x-user") === "p-ada"),
      true,
    ],
  ];
  for (const [name, acceptForgets, taken] of policies) {
    await t.step(name, async () => {
      await using target = store();
      const readable = await target.pushEvent(
        target.event({
          type: "person:registered",
          stream: "ada",
          data: { id: "p-ada", email: "ada@example.com" },
        }),
      );
      const stopping = new AbortController();
      await using http = serve(syncHandler(target, { signal: stopping.signal, acceptForgets }));
      const pushed = sync({
        from: local(source, { id: "source" }),
        to: remote(http.url, { headers: { "x-user": "p-ada" } }),
      });
      if (taken) await pushed;
      else {
        await assert.rejects(
          pushed,
          (error: Error) =>
            error instanceof SyncRequestError && error.status === 403 &&
            /forgetting "p-ada" is not accepted here/.test(error.message),
        );
      }
      const log = await logOf(target);
      assert.equal(log.find((r) => r.id === readable.id)?.forgotten, taken ? true : undefined);
      assert.equal(log.some((r) => r.id === forgetAda.id), taken);
      if (!taken) assert.deepEqual(log.map((r) => r.id), [readable.id], "nothing of the page stored");
      stopping.abort();
    });
  }
  assert.throws(() => syncHandler(store(), { acceptForgets: "yes" as never }), TypeError);
});
