import assert from "node:assert/strict";
import { tempDir } from "./_sqlite_helpers.ts";
import { cuttingProxy, ids, type Node, node, serve, serveStore, until } from "./_sync_helpers.ts";
import { remote, sync, syncHandler, type SyncProgress } from "../sync/mod.ts";

/** A fetch that aborts some requests a few ms in: a client-side disconnect. */
function droppingFetch(rate: number): typeof fetch {
  return (input, init) => {
    if (Math.random() >= rate) return fetch(input, init);
    const cut = new AbortController();
    const timer = setTimeout(() => cut.abort(new Error("dropped by the test")), Math.random() * 4);
    const signal = init?.signal ? AbortSignal.any([init.signal, cut.signal]) : cut.signal;
    return fetch(input, { ...init, signal }).finally(() => clearTimeout(timer));
  };
}

/** Whether a sync out of `source` has reported reaching its last position. */
async function caughtUp(progress: SyncProgress | undefined, source: Node): Promise<boolean> {
  const [last] = await source.store.getEvents({ direction: "desc", limit: 1 });
  return progress?.caughtUp === true && progress.position === last?.position;
}

async function checkConverged(nodes: Node[]): Promise<void> {
  const all = new Set(nodes.flatMap((n) => [...n.written]));
  for (const n of nodes) {
    const records = await n.store.getEvents();
    const seen = records.map((r) => r.id);
    assert.equal(new Set(seen).size, seen.length, `${n.name} holds no duplicate`);
    assert.deepEqual(new Set(seen), all, `${n.name} holds every event`);
    // Each stream in one revision order: 1, 2, 3... without a gap or a repeat.
    const streams = new Map<string, number[]>();
    for (const r of records) streams.set(r.stream, [...(streams.get(r.stream) ?? []), r.revision]);
    for (const [stream, revisions] of streams) {
      assert.deepEqual(
        revisions.toSorted((a, b) => a - b),
        revisions.map((_, i) => i + 1),
        `${n.name} ${stream}`,
      );
      const read = [];
      for await (const r of n.store.readStream(stream)) read.push(r.revision);
      assert.deepEqual(read, revisions.map((_, i) => i + 1));
    }
    // once handlers fired at the origin only, for each of its events.
    assert.deepEqual(
      [...n.once].sort(),
      [...n.written].sort(),
      `${n.name}: once fired only for its own events`,
    );
  }
}

Deno.test("three stores with writers on each converge through syncHandler despite dropped connections", async () => {
  await using dir = await tempDir();
  await using server = node("server", dir.file("server.db"));
  await using c1 = node("c1", dir.file("c1.db"));
  await using c2 = node("c2"); // memory
  await using http = serveStore(server.store);
  await using cut = cuttingProxy(http.port, 0.15);
  const stop = new AbortController();
  const progress = new Map<string, SyncProgress>();
  let retries = 0;
  const link = (
    name: string,
    from: Parameters<typeof sync>[0]["from"],
    to: Parameters<typeof sync>[0]["to"],
  ) =>
    sync({
      from,
      to,
      live: true,
      signal: stop.signal,
      batchSize: 7,
      interval: 20,
      onProgress: (p) => void progress.set(name, p),
      onRetry: () => void retries++,
    });
  const clients = [c1, c2].map((c) => ({ c, server: remote(cut.url, { fetch: droppingFetch(0.1) }) }));
  const running = clients.flatMap(({ c, server: s }) => [
    link(`server->${c.name}`, s, c.store),
    link(`${c.name}->server`, c.store, s),
  ]);
  await Promise.all([server.write(90, 3), c1.write(80, 4), c2.write(70, 2)]);
  const nodes = [server, c1, c2];
  try {
    await until(
      async () => {
        const [a, b, c] = await Promise.all(nodes.map((n) => ids(n.store)));
        return a.length === 240 && a.join() === b.join() && b.join() === c.join() &&
          await caughtUp(progress.get("c1->server"), c1) && await caughtUp(progress.get("c2->server"), c2);
      },
      30_000,
      "the three stores to converge",
    );
  } finally {
    stop.abort();
    await Promise.all(running);
  }
  await checkConverged(nodes);
  assert(
    cut.cuts() > 0 && retries > 0,
    `connections were cut (${cut.cuts()} by the server, ${retries} retries)`,
  );
  // No echo from the clients: each sent the server exactly its own events.
  assert.equal(progress.get("c1->server")?.pulled, 80);
  assert.equal(progress.get("c2->server")?.pulled, 70);
});

Deno.test("a server restart mid-sync: the syncs resume from the checkpoints", async () => {
  await using dir = await tempDir();
  const serverPath = dir.file("server.db");
  await using c1 = node("c1", dir.file("c1.db"));
  const first = node("server", serverPath);
  let http = serveStore(first.store);
  const port = http.port;
  const stop = new AbortController();
  const s = remote(http.url);
  const pushes: SyncProgress[] = [];
  const running = [
    sync({ from: s, to: c1.store, live: true, signal: stop.signal, interval: 20, batchSize: 5 }),
    sync({
      from: c1.store,
      to: s,
      live: true,
      signal: stop.signal,
      interval: 20,
      batchSize: 5,
      onProgress: (p) => void pushes.push(p),
    }),
  ];
  await Promise.all([first.write(30, 2), c1.write(40, 2)]);
  // Down mid-sync: the live syncs keep trying while it is away.
  await http.close();
  await first.store.close();
  await c1.write(20, 2);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await using second = node("server", serverPath);
  const checkpoint = await second.store.checkpoints.get(`sync:${c1.store.adapter.location}`);
  assert(checkpoint?.position, "the server kept the client's checkpoint");
  http = serveStore(second.store, {}, port);
  await second.write(10, 2);
  try {
    await until(
      async () => {
        const [a, b] = await Promise.all([ids(second.store), ids(c1.store)]);
        return a.length === 100 && a.join() === b.join() && await caughtUp(pushes.at(-1), c1);
      },
      20_000,
      "the restarted server and the client to converge",
    );
  } finally {
    stop.abort();
    await Promise.all(running);
  }
  // Resumed, not restarted: the client's 60 events went up once each (a page in flight at the
  // restart may go twice), and fresh syncs find nothing left to send either way.
  const pulled = pushes.at(-1)?.pulled ?? 0;
  assert(pulled >= 60 && pulled <= 65, `pushed ${pulled}`);
  assert.equal((await sync({ from: c1.store, to: s })).pulled, 0);
  assert.equal((await sync({ from: s, to: c1.store })).pulled, 0);
  await http.close();
  const written = new Set([...first.written, ...second.written, ...c1.written]);
  assert.deepEqual(new Set(await ids(c1.store)), written);
  assert.deepEqual([...c1.once].sort(), [...c1.written].sort());
});

Deno.test("syncs stopped with the server and started again begin at their checkpoints, not at the start", async () => {
  await using dir = await tempDir();
  const serverPath = dir.file("server.db");
  await using c1 = node("c1", dir.file("c1.db"));
  const live = (signal: AbortSignal, url: string, pushes: SyncProgress[]) => [
    // The server moves to another port: its id keeps naming the same checkpoints.
    sync({
      from: remote(url, { id: "central" }),
      to: c1.store,
      live: true,
      signal,
      interval: 20,
      batchSize: 5,
    }),
    sync({
      from: c1.store,
      to: remote(url, { id: "central" }),
      live: true,
      signal,
      interval: 20,
      batchSize: 5,
      onProgress: (p) => void pushes.push(p),
    }),
  ];
  // Phase one, then everything stops: the server, then (after c1 wrote more, offline) the syncs.
  const first = node("server", serverPath);
  const firstHttp = serveStore(first.store);
  const stop1 = new AbortController();
  const pushes1: SyncProgress[] = [];
  const running1 = live(stop1.signal, firstHttp.url, pushes1);
  await Promise.all([first.write(20, 2), c1.write(20, 2)]);
  await until(
    async () => (await ids(c1.store)).length === 40 && await caughtUp(pushes1.at(-1), c1),
    10_000,
    "phase one",
  );
  await firstHttp.close();
  await first.store.close();
  await c1.write(20, 2);
  await new Promise((resolve) => setTimeout(resolve, 100)); // the syncs fail and retry meanwhile
  stop1.abort();
  await Promise.all(running1);
  assert.equal(pushes1.at(-1)?.pulled, 20);

  // Phase two: a new server process on the same file, new sync calls.
  const resumeAt = (await c1.store.checkpoints.get("sync:central"))?.position;
  await using second = node("server", serverPath);
  const afters: (string | null)[] = [];
  const handler = syncHandler(second.store);
  await using http = serve((request) => {
    const params = new URL(request.url).searchParams;
    if (request.method === "GET" && params.has("peer")) afters.push(params.get("after"));
    return handler(request);
  });
  const stop2 = new AbortController();
  const pushes2: SyncProgress[] = [];
  const running2 = live(stop2.signal, http.url, pushes2);
  await second.write(20, 2);
  try {
    await until(
      async () => {
        const [a, b] = await Promise.all([ids(second.store), ids(c1.store)]);
        return a.length === 80 && a.join() === b.join() && await caughtUp(pushes2.at(-1), c1);
      },
      20_000,
      "the two to converge",
    );
  } finally {
    stop2.abort();
    await Promise.all(running2);
  }
  assert(resumeAt !== undefined, "the client kept a checkpoint of the server");
  assert.equal(afters[0], resumeAt, "the new pull began at that checkpoint");
  assert.equal(pushes2.at(-1)?.pulled, 20, "the push sent only what c1 wrote since its checkpoint");
  assert.deepEqual([...c1.once].sort(), [...c1.written].sort());
});
