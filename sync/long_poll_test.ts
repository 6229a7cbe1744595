import assert from "node:assert/strict";
import { tempDir } from "../tests/_sqlite_helpers.ts";
import { ids, node, serve, serveStore, until } from "../tests/_sync_helpers.ts";
import { remote, sync, syncHandler, SyncTransportError } from "./mod.ts";
import { decodeCbor } from "../stores/_cbor_decode.ts";
import { pullFrom as pullFromStore, type PullQuery } from "./endpoint.ts";

const CBOR = "application/cbor";
/** Longer than any of these tests may take: a long poll that is not woken fails them. */
const NEVER = 600_000;

/** Fails after `ms` unless `work` settles first. */
async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `pullFrom` over a test node's store (its events are a subtype of the endpoint's). */
const pullFrom = (store: object, query: PullQuery, recheck?: number) =>
  pullFromStore(store as Parameters<typeof pullFromStore>[0], query, recheck);

async function page(response: Response): Promise<{ records: { id: string }[]; cursor: string | null }> {
  assert.equal(response.status, 200);
  return decodeCbor(new Uint8Array(await response.arrayBuffer())) as {
    records: { id: string }[];
    cursor: string | null;
  };
}

Deno.test("a held pull answers when an event is appended: woken, not by reading again", async () => {
  await using server = node("server");
  await server.write(2);
  const head = await pullFrom(server.store, { after: null, limit: 10, peer: "p" });
  assert.equal(head.records.length, 2);
  let answered = false;
  // No reading again on a timer: only a wake-up can end this pull.
  const held = pullFrom(server.store, { after: head.cursor, limit: 10, peer: "p", wait: NEVER }, NEVER)
    .then((batch) => {
      answered = true;
      return batch;
    });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(answered, false, "nothing new: the pull is held");
  await server.write(1);
  const next = await within(held, 10_000, "the held pull");
  assert.deepEqual(next.records.map((r) => r.id), [...server.written].slice(2));
});

Deno.test("a held pull wakes for a commit made through another adapter on the same SQLite file", async () => {
  await using dir = await tempDir();
  await using server = node("server", dir.file("shared.db"));
  await using writer = node("writer", dir.file("shared.db"));
  const held = pullFrom(server.store, { after: null, limit: 10, peer: "p", wait: NEVER }, NEVER);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await writer.write(1);
  const next = await within(held, 10_000, "the held pull (the adapter's watch)");
  assert.deepEqual(next.records.map((r) => r.id), [...writer.written]);
});

Deno.test("a pull with wait through syncHandler is held, then answers with the new event", async () => {
  await using server = node("server");
  const handler = syncHandler(server.store, { maxWait: NEVER });
  const held = handler(new Request(`http://x/?peer=p&wait=${NEVER}`, { headers: { accept: CBOR } }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await server.write(1);
  const next = await page(await within(held, 10_000, "the held pull"));
  assert.deepEqual(next.records.map((r) => r.id), [...server.written]);
});

Deno.test("a held pull ends with what it has when the client goes away or the handler's signal aborts", async () => {
  await using server = node("server");
  const stopping = new AbortController();
  const handler = syncHandler(server.store, { maxWait: NEVER, signal: stopping.signal });
  let settled = 0;
  await using http = serve(async (request) => {
    try {
      return await handler(request);
    } finally {
      settled++;
    }
  });
  const leaving = new AbortController();
  const gone = fetch(`${http.url}?peer=p&wait=${NEVER}`, { signal: leaving.signal }).catch((error) => error);
  await new Promise((resolve) => setTimeout(resolve, 100));
  leaving.abort();
  assert.equal((await gone).name, "AbortError");
  await until(
    () => Promise.resolve(settled === 1),
    10_000,
    "the handler to end the pull of a client that left",
  );

  const held = handler(new Request(`http://x/?peer=p&wait=${NEVER}`, { headers: { accept: CBOR } }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  stopping.abort();
  const empty = await page(await within(held, 10_000, "the held pull"));
  assert.deepEqual(empty, { records: [], cursor: null, count: 0 } as unknown);
});

Deno.test("maxWait cuts a longer wait, and 0 answers at once", async () => {
  await using server = node("server");
  for (const maxWait of [0, 50]) {
    const handler = syncHandler(server.store, { maxWait });
    const answer = await within(
      handler(new Request(`http://x/?peer=p&wait=${NEVER}`, { headers: { accept: CBOR } })),
      10_000,
      `maxWait ${maxWait}`,
    );
    assert.equal((await page(answer)).records.length, 0);
  }
  // A wait past any timer is cut to maxWait too, not refused.
  const far = await within(
    syncHandler(server.store, { maxWait: 20 })(new Request("http://x/?peer=p&wait=99999999999999")),
    10_000,
    "a wait of 99999999999999 ms",
  );
  assert.equal(far.status, 200);
  await far.body?.cancel();
  assert.throws(() => syncHandler(server.store, { maxWait: -1 }), RangeError);
  assert.throws(() => syncHandler(server.store, { maxLimit: 1.5 }), RangeError);
  assert.throws(() => syncHandler(server.store, { maxLimit: "500" as unknown as number }), TypeError);
  assert.throws(
    () => syncHandler(server.store, { signal: "stop" as unknown as AbortSignal }),
    TypeError,
  );
});

Deno.test("a live sync from a remote store gets new events through the long poll, without polling", async () => {
  await using server = node("server");
  await using phone = node("phone");
  await using http = serveStore(server.store, { maxWait: NEVER });
  const pulls: string[] = [];
  await using counted = serve(async (request) => {
    pulls.push(new URL(request.url).search);
    try {
      const response = await fetch(`${http.url}${new URL(request.url).search}`, {
        headers: request.headers,
        signal: request.signal,
      });
      return new Response(await response.arrayBuffer(), {
        status: response.status,
        headers: response.headers,
      });
    } catch {
      return new Response(null, { status: 502 }); // the client left (the sync stopped)
    }
  });
  const stop = new AbortController();
  // An interval of ten minutes: only a held pull can bring the events in time.
  const running = sync({
    from: remote(counted.url),
    to: phone.store,
    live: true,
    signal: stop.signal,
    interval: NEVER,
    wait: NEVER,
  });
  try {
    for (let round = 1; round <= 3; round++) {
      // Written once the sync is caught up and its pull is held at the server.
      await until(
        () => Promise.resolve(pulls.at(-1)?.includes(`wait=${NEVER}`) === true),
        10_000,
        `a held pull before round ${round}`,
      );
      await server.write(2, 2);
      await until(
        async () => (await ids(phone.store)).length === round * 2,
        10_000,
        `round ${round} to arrive`,
      );
    }
  } finally {
    stop.abort();
  }
  const progress = await within(running, 10_000, "the sync to stop on its signal");
  assert.equal(progress.imported, 6);
  // Each of the six pushes wakes a held pull at most once, and each page is read once more.
  assert(pulls.length <= 14, `a pull per page and per wake-up, not a poll loop: ${pulls.length} pulls`);
  // A pull after a page is answered at once; one that found nothing new is followed by a held one.
  const held = pulls.filter((search) => search.includes(`wait=${NEVER}`)).length;
  assert(held >= 3, `a held pull brought each round: ${held} of ${pulls.length} held (${pulls.join(" ")})`);
});

Deno.test("remote() gives up on a server that does not answer within its timeout, as a failed transport", async () => {
  // A server that takes the connection and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(conn);
  })();
  try {
    const silent = remote(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/sync`, { timeout: 200 });
    const error = await silent.pull({ after: null, limit: 10, peer: "p" }).catch((e) => e);
    assert(error instanceof SyncTransportError, String(error));
    assert.match(error.message, /no complete reply within 200 ms/);
    await using phone = node("phone");
    const failed = await sync({ from: silent, to: phone.store, retries: 1 }).catch((e) => e);
    assert(failed instanceof SyncTransportError, String(failed));
    assert.throws(() => remote("http://127.0.0.1:1/", { timeout: 0 }), RangeError);
    assert.throws(() => remote("http://127.0.0.1:1/", { timeout: 2 ** 31 }), RangeError);
    assert.throws(() => remote("http://127.0.0.1:1/", { timeout: "5" as unknown as number }), TypeError);
    await assert.rejects(sync({ from: silent, to: phone.store, live: true, wait: 2 ** 31 }), RangeError);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of conns) conn.close();
  }
});
