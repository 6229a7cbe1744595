import assert from "node:assert/strict";
import { tempDir } from "../tests/_sqlite_helpers.ts";
import { ids, node, serveStore } from "../tests/_sync_helpers.ts";
import { hlc, local, remote, sync } from "./mod.ts";

Deno.test("a pull and a push through syncHandler round-trip the log, ids and payloads kept, hydrated", async (t) => {
  await using dir = await tempDir();
  for (const format of ["cbor", "ndjson"] as const) {
    await t.step(format, async () => {
      await using server = node("server", dir.file(`server-${format}.db`));
      await using phone = node("phone", dir.file(`phone-${format}.db`));
      await using http = serveStore(server.store);
      const other = remote(http.url, { format });
      await server.write(20, 4);
      await phone.write(30, 7);

      const pulled = await sync({ from: other, to: phone.store });
      assert.equal(pulled.imported, 20);
      assert.equal(pulled.caughtUp, true);
      const pushed = await sync({ from: phone.store, to: other });
      assert.equal(pushed.pulled, 30, "the 20 events pulled from the server are not sent back");
      assert.equal(pushed.imported, 30);

      assert.deepEqual(await ids(server.store), await ids(phone.store));
      const byId = new Map((await phone.store.getEvents()).map((r) => [r.id, r]));
      for (const record of await server.store.getEvents()) {
        const copy = byId.get(record.id)!;
        assert.deepEqual([copy.type, copy.created, copy.data], [record.type, record.created, record.data]);
        assert.equal(copy.imported, server.written.has(record.id), "imported where it was synced in");
      }
      assert.deepEqual([...phone.once].sort(), [...phone.written].sort(), "once fired only for own events");
      assert.deepEqual([...server.once].sort(), [...server.written].sort());

      // Again: both resume from their checkpoints and find nothing to do.
      assert.equal((await sync({ from: other, to: phone.store })).pulled, 0);
      assert.equal((await sync({ from: phone.store, to: other })).pulled, 0);
      await http.close();
    });
  }
});

Deno.test("sync between two stores of one process runs both ways at once without echo", async () => {
  await using a = node("a");
  await using b = node("b");
  await a.write(40, 5);
  await b.write(25, 3);
  const [ab, ba] = await Promise.all([
    sync({ from: a.store, to: b.store, batchSize: 7 }),
    sync({ from: b.store, to: a.store, batchSize: 7 }),
  ]);
  // What came in from the other side does not go back.
  const [ab2, ba2] = await Promise.all([
    sync({ from: a.store, to: b.store }),
    sync({ from: b.store, to: a.store }),
  ]);
  assert.equal(ab.imported + ab2.imported, 40);
  assert.equal(ba.imported + ba2.imported, 25);
  assert.equal(ab.skipped + ab2.skipped + ba.skipped + ba2.skipped, 0, "nothing was sent back");
  assert.deepEqual(await ids(a.store), await ids(b.store));
});

Deno.test("a live sync follows new events and stops on its signal", async () => {
  await using a = node("a");
  await using b = node("b");
  const stop = new AbortController();
  const seen: number[] = [];
  const running = sync({
    from: a.store,
    to: b.store,
    live: true,
    signal: stop.signal,
    onProgress: (p) => void seen.push(p.imported),
  });
  await a.write(10, 2);
  const deadline = Date.now() + 5000;
  while ((await b.store.getEvents()).length < 10 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  stop.abort();
  const progress = await running;
  assert.equal(progress.imported, 10);
  assert.equal(seen.at(-1), 10);
});

Deno.test("with hlc(), outdated is decided at the target by causal order, not by the wall clocks", async () => {
  // a's wall clock is 10 s behind b's.
  await using a = node("a", undefined, hlc({ node: "a", now: () => Date.UTC(2026, 0, 1, 0, 0, 0) }));
  await using b = node("b", undefined, hlc({ node: "b", now: () => Date.UTC(2026, 0, 1, 0, 0, 10) }));
  const edit = (n: typeof a, text: string) =>
    n.store.pushEvent(n.store.event({ type: "note:edited", stream: "doc", data: { text } }));
  await edit(b, "b1");
  await edit(a, "a1"); // made without seeing b1, and stamped earlier
  await sync({ from: a.store, to: b.store });
  await sync({ from: b.store, to: a.store }); // a's clock learns b1's time
  const a2 = await edit(a, "a2"); // made after seeing b1: it sorts after, whatever a's wall clock says
  await sync({ from: a.store, to: b.store });
  const at = async (n: typeof a) =>
    Object.fromEntries((await n.store.getEvents()).map((r) => [r.data.text, r.outdated]));
  assert.deepEqual(await at(b), { b1: false, a1: true, a2: false });
  assert.deepEqual(await at(a), { a1: false, b1: false, a2: false });
  assert.equal(a2.created, "2026-01-01T00:00:10.000Z-0001-a");
});

Deno.test("local() gives a store an id: its checkpoint at the target is named by it", async () => {
  await using a = node("a");
  await using b = node("b");
  await a.write(3);
  await sync({ from: local(a.store, { id: "phone-1" }), to: b.store });
  const checkpoint = await b.store.checkpoints.get("sync:phone-1");
  assert.equal(checkpoint?.position, (await a.store.getEvents()).at(-1)?.position);
  await assert.rejects(sync({ from: a.store, to: a.store }), TypeError);
});
