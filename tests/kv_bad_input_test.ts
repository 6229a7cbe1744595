/**
 * Bad input to the KV store: what KV cannot hold is refused with a `RangeError` naming
 * the limit and writes nothing, a value over one KV value is chunked, a KV opened without
 * `--unstable-kv` says to pass it, and a bad path or source is refused clearly.
 */
import assert from "node:assert/strict";
import { event, EventFactory, EventStore, StoreOpenError } from "../mod.ts";
import { KvAdapter } from "../stores/kv/mod.ts";
import { z } from "zod";

const root = new URL("..", import.meta.url).pathname;
const events = new EventFactory([
  event.type("blob").data(z.object({ text: z.string() })),
  event.type("tick"),
]);

async function withStore(
  work: (store: EventStore<typeof events, KvAdapter>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "eventfold_kv_bad_" });
  try {
    await using store = new EventStore({ adapter: new KvAdapter(`${dir}/events.kv`), events });
    await work(store);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("kv: an event over 64 KiB is stored in chunks and reads back whole", () =>
  withStore(async (store) => {
    const text = "é".repeat(300_000);
    const pushed = await store.pushEvent(store.event({ type: "blob", stream: "s", data: { text } }));
    const [read] = await store.getEventsByStreams(["s"]);
    assert.equal((read.data as { text: string }).text, text);
    assert.deepEqual(read, pushed);
    assert.deepEqual((await store.getEvents()).map((record) => record.id), [pushed.id]);
  }));

Deno.test("kv: a snapshot over one atomic commit's 800 KiB is a RangeError naming the limit", () =>
  withStore(async (store) => {
    const state = "x".repeat(900_000);
    await assert.rejects(
      store.adapter.putSnapshot({ name: "big", stream: "s", state, revision: 1, position: null, version: 1 }),
      (error: unknown) =>
        error instanceof RangeError && /819200 bytes of mutations per atomic commit/.test(error.message),
    );
    assert.equal(await store.adapter.getSnapshot("big", "s"), undefined, "nothing was written");
  }));

Deno.test("kv: a stream name over KV's 2048-byte key limit is a RangeError naming it, and nothing is written", () =>
  withStore(async (store) => {
    await assert.rejects(
      store.pushEvent(store.event({ type: "tick", stream: "s".repeat(3000) })),
      (error: unknown) => error instanceof RangeError && /2048 bytes per key/.test(error.message),
    );
    assert.equal((await store.stats()).events, 0);
  }));

Deno.test("kv: without --unstable-kv, opening says to pass it", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-config", "--no-lock", `${root}tests/_kv_without_flag.ts`, ":memory:"],
    cwd: "/",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout).trim();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(out, /^StoreOpenError: .*--unstable-kv/);
});

Deno.test("kv: a path in a missing directory is a StoreOpenError from the first call, and a bad source a TypeError", async () => {
  const adapter = new KvAdapter("/nonexistent-eventfold-dir/deeper/events.kv");
  await assert.rejects(
    adapter.stats(),
    (error: unknown) => error instanceof StoreOpenError && /Deno\.openKv failed/.test(error.message),
  );
  await adapter.close();
  assert.throws(() => new KvAdapter(42 as unknown as string), TypeError);
  assert.throws(() => new KvAdapter(""), TypeError);
  assert.throws(() => new KvAdapter(":memory:", { codec: "yaml" as "json" }), TypeError);
});

Deno.test("kv: a database recorded with one codec refuses another", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventfold_kv_bad_" });
  try {
    const path = `${dir}/events.kv`;
    const first = new KvAdapter(path, { codec: "json" });
    await first.stats();
    await first.close();
    const second = new KvAdapter(path);
    await assert.rejects(
      second.stats(),
      (error: unknown) => error instanceof StoreOpenError && /"json" codec/.test(error.message),
    );
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
