import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { delay } from "../async.ts";
import { event, EventFactory, EventStore, Projector } from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { freePort, freshStream, NATS_URL, natsAvailable, withStreams } from "../tests/_nats_env.ts";
import { consume, isRelayError, relay, type RelayErrorContext } from "./mod.ts";

// Skipped (with the reason printed by natsAvailable) when no server answers, except under CI=true.
const ignore = !(await natsAvailable());
const events = new EventFactory([event.type("order:placed"), event.type("order:paid")]);

Deno.test({
  name:
    "consume() feeds a projector from a durable consumer: history hydrated, later events fresh, acked after handling",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async () => {
      await using store = new EventStore({ adapter: new MemoryAdapter(), events });
      await using running = relay(store, { servers: NATS_URL, stream, subject: "shop.{type}" });
      const history = [];
      for (let i = 0; i < 5; i++) {
        history.push(await store.pushEvent(store.event({ type: "order:placed", stream: `o${i}` })));
      }
      await running.waitFor(history.at(-1)!.position, { timeout: 10_000 });
      const seen: string[] = [];
      const mails: string[] = [];
      const projector = new Projector<typeof events>();
      projector.on("order:placed", (record) => void seen.push(record.id));
      projector.once("order:placed", (record) => void mails.push(record.stream));
      {
        await using consumer = consume(projector, { servers: NATS_URL, stream, consumer: "mailer" });
        await consumer.waitFor(history.at(-1)!.position, { timeout: 10_000 });
        assert.deepEqual(seen, history.map((r) => r.id));
        assert.deepEqual(mails, [], "history is hydrated: once handlers stay silent");
        const fresh = await store.pushEvent(store.event({ type: "order:placed", stream: "o-new" }));
        await running.waitFor(fresh.position);
        await consumer.waitFor(fresh.position, { timeout: 10_000 });
        assert.deepEqual(mails, ["o-new"]);
        assert.equal(consumer.info().handled, 6);
      }
      // Acked: a restarted durable consumer goes on after what it handled.
      const later = await store.pushEvent(store.event({ type: "order:paid", stream: "o1" }));
      await running.waitFor(later.position);
      const paid: string[] = [];
      projector.on("order:paid", (record) => void paid.push(record.id));
      await using again = consume(projector, {
        servers: NATS_URL,
        stream,
        consumer: "mailer",
        resumeAs: "fresh",
      });
      await again.waitFor(later.position, { timeout: 10_000 });
      assert.deepEqual(paid, [later.id]);
      assert.equal(again.info().handled, 1);
      assert.equal(seen.length, 6);
    });
  },
});

Deno.test({
  name: "consume() stops on a message whose handlers keep failing, and leaves it unacknowledged",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async () => {
      await using store = new EventStore({ adapter: new MemoryAdapter(), events });
      await using running = relay(store, { servers: NATS_URL, stream, subject: "shop.{type}" });
      const record = await store.pushEvent(store.event({ type: "order:paid", stream: "o1" }));
      await running.waitFor(record.position, { timeout: 10_000 });
      let tries = 0;
      const projector = new Projector<typeof events>();
      projector.on("order:paid", () => {
        tries++;
        throw new Error("ledger down");
      });
      const consumer = consume(projector, {
        servers: NATS_URL,
        stream,
        consumer: "ledger",
        attempts: 2,
        backoff: 5,
        onError: () => {},
      });
      await assert.rejects(consumer.done, (error: Error) => {
        assert.ok(isRelayError(error) && error.fatal);
        assert.match(error.message, /failed 2 times on event .*ledger down/);
        return true;
      });
      assert.equal(tries, 2);
      assert.equal(consumer.info().state, "failed");
    });
  },
});

Deno.test({
  name: "consume() carries hydrated and outdated from the headers: an imported event is no fresh one",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async (nc) => {
      // The stream exists and the consumer is made before the events come: none of them is history.
      await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: ["shop.*"] });
      const seen: { once: string[]; on: string[]; all: [string, boolean][] } = { once: [], on: [], all: [] };
      const projector = new Projector<typeof events>();
      projector.once("order:placed", (record) => void seen.once.push(record.stream));
      projector.on("order:placed", (record) => void seen.on.push(record.stream));
      projector.all("order:placed", (record) => void seen.all.push([record.stream, record.outdated]));
      await using consumer = consume(projector, { servers: NATS_URL, stream, consumer: "view" });
      while (consumer.info().state !== "consuming") await delay(5);
      await using store = new EventStore({ adapter: new MemoryAdapter(), events });
      await using running = relay(store, { servers: NATS_URL, stream, subject: "shop.{type}" });
      await store.pushEvent(
        store.event({ type: "order:placed", stream: "a", created: "2026-01-02T00:00:00.000Z" }),
      );
      const { imported } = await store.import([
        store.event({ type: "order:placed", stream: "a", created: "2026-01-01T00:00:00.000Z" }), // behind a newer one
        store.event({ type: "order:placed", stream: "b", created: "2026-01-01T00:00:00.000Z" }),
      ]);
      assert.deepEqual(imported.map((record) => record.outdated), [true, false]);
      await running.waitFor(imported[1].position, { timeout: 10_000 });
      await consumer.waitFor(imported[1].position, { timeout: 10_000 });
      assert.deepEqual(seen.once, ["a"], "imported events are hydrated: once handlers stay silent");
      assert.deepEqual(seen.on, ["a", "b"], "on skips the outdated one");
      assert.deepEqual(seen.all, [["a", false], ["a", true], ["b", false]]);
    });
  },
});

Deno.test("consume() against a NATS port where nothing listens reports it and keeps retrying", async () => {
  const port = freePort();
  const reports: [unknown, RelayErrorContext][] = [];
  await using consumer = consume(new Projector(), {
    servers: `nats://127.0.0.1:${port}`,
    stream: "EVENTS",
    consumer: "view",
    backoff: 10,
    onError: (error, context) => void reports.push([error, context]),
  });
  while (reports.length < 3) await delay(10);
  const [error, context] = reports[0];
  assert.ok(isRelayError(error) && !error.fatal);
  assert.match(
    error.message,
    new RegExp(`^Relay "view": cannot reach NATS at nats://127\\.0\\.0\\.1:${port}`),
  );
  assert.equal(context.action, "retry");
  assert.deepEqual(reports.map(([, { attempt }]) => attempt), [1, 2, 3]);
  assert.equal(consumer.info().state, "retrying");
  await consumer.stop();
  assert.equal(consumer.info().state, "stopped");
});
