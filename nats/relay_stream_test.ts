import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { delay } from "../async.ts";
import { event, EventFactory, EventStore } from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { freshStream, readStream } from "../tests/_nats_env.ts";
import { natsServerNeed, startNatsServer } from "../tests/_nats_server.ts";
import { isRelayError, relay, RELAY_HEADERS, type RelayErrorContext } from "./mod.ts";

// The stream's creation as the server answers it, on a private server whose store a test
// can break: a failure at the server is retried, a configuration it refuses stops the relay.
const events = new EventFactory([event.type("note")]);

async function storeWith(n: number) {
  const store = new EventStore({ adapter: new MemoryAdapter(), events });
  const records = await store.pushManyEvents(
    Array.from({ length: n }, (_, i) => store.event({ type: "note", stream: `s${i % 3}` })),
  );
  return { store, records };
}

Deno.test({
  name:
    `relay() retries while the server fails to create its stream, then relays everything${natsServerNeed.note}`,
  ignore: natsServerNeed.ignore,
  fn: async () => {
    await using server = await startNatsServer();
    const stream = freshStream();
    const unblock = await server.blockStream(stream);
    const { store, records } = await storeWith(25);
    await using _store = store;
    const reports: [unknown, RelayErrorContext][] = [];
    await using running = relay(store, {
      servers: server.url,
      stream,
      subject: "ev.{type}",
      backoff: 20,
      maxBackoff: 100,
      onError: (error, context) => void reports.push([error, context]),
    });
    while (reports.length < 3 && running.info().state !== "failed") await delay(10);
    for (const [error, context] of reports) {
      assert.ok(isRelayError(error) && !error.fatal, String(error));
      assert.match(
        error.message,
        new RegExp(
          `cannot create JetStream stream "${stream}": error creating store for stream \\(a failure at the server`,
        ),
      );
      assert.equal(context.action, "retry");
    }
    assert.equal(running.info().state, "retrying");
    assert.match(running.info().lastError!.message, /error creating store for stream/);
    assert.match(await server.log(), /storage directory is not a directory/);
    await unblock();
    await running.waitFor(records.at(-1)!.position, { timeout: 10_000 });
    const nc = await connect({ servers: server.url, reconnect: false });
    try {
      const ids = (await readStream(nc, stream)).map((m) => m.header.get(RELAY_HEADERS.id));
      assert.deepEqual(ids, records.map((r) => r.id));
    } finally {
      await nc.close();
    }
  },
});

Deno.test({
  name: `relay() stops when the server refuses its stream's configuration${natsServerNeed.note}`,
  ignore: natsServerNeed.ignore,
  fn: async () => {
    await using server = await startNatsServer();
    const taken = freshStream();
    const stream = freshStream();
    const nc = await connect({ servers: server.url, reconnect: false });
    try {
      // Another stream already takes these subjects: the server refuses the overlap.
      await (await jetstreamManager(nc)).streams.add({ name: taken, subjects: ["ev.>"] });
    } finally {
      await nc.close();
    }
    const { store } = await storeWith(2);
    await using _store = store;
    const stops: RelayErrorContext[] = [];
    const running = relay(store, {
      servers: server.url,
      stream,
      subject: "ev.{type}",
      onError: (_error, context) => void stops.push(context),
    });
    await assert.rejects(running.done, (error: Error) => {
      assert.ok(isRelayError(error) && error.fatal, String(error));
      assert.match(error.message, new RegExp(`cannot create JetStream stream "${stream}": .*overlap`));
      assert.doesNotMatch(error.message, /a failure at the server/);
      return true;
    });
    assert.deepEqual(stops.map((context) => context.action), ["stop"]);
    assert.equal(running.info().state, "failed");
    assert.equal(running.info().position, null);
  },
});
