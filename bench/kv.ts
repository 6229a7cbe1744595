/**
 * Deno KV figures for `deno task bench`: the store (an `EventStore` over a file-backed
 * `KvAdapter`) against raw `Deno.openKv` atomics doing the same writes in the same run:
 * each event under its position, its stream revision and its id, the stream's counter
 * and the head, in one atomic that checks the head's versionstamp (and, for single
 * appends, reads the stream's revision first). Medians of repeated runs, store and raw
 * alternating.
 *
 * @module
 */

import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { uuidv7 } from "../events/id.ts";
import { cborCodec } from "../stores/codec.ts";
import { EventStore } from "../stores/event_store.ts";
import { KvAdapter } from "../stores/kv/mod.ts";
import { type BenchRow, median } from "./_report.ts";
import { payload, singleAppends } from "./_users.ts";

const events = new EventFactory([
  event.type("user:updated").data(
    z.object({ name: z.string(), email: z.string(), age: z.number(), tags: z.array(z.string()) }),
  ),
]);

/** The raw writer: the adapter's writes, without the store or the adapter around them. */
class Raw {
  readonly kv: Deno.Kv;
  head: Deno.KvEntryMaybe<{ position: number }>;
  constructor(kv: Deno.Kv, head: Deno.KvEntryMaybe<{ position: number }>) {
    this.kv = kv;
    this.head = head;
  }
  static async open(path: string): Promise<Raw> {
    const kv = await Deno.openKv(path);
    return new Raw(kv, await kv.get(["raw", "head"]));
  }
  /** Appends `count` events to `stream` in one checked atomic. */
  async append(stream: string, count: number, first: number, checkStream: boolean): Promise<void> {
    const meta = checkStream ? await this.kv.get<{ revision: number }>(["raw", "stream", stream]) : undefined;
    let revision = meta?.value?.revision ?? first - 1;
    let position = this.head.value?.position ?? 0;
    const atomic = this.kv.atomic().check(this.head);
    if (meta !== undefined) atomic.check(meta);
    const recorded = new Date().toISOString();
    for (let i = 0; i < count; i++) {
      const id = uuidv7();
      const bytes = cborCodec.encode([
        id,
        stream,
        "user:updated",
        ++revision,
        ++position,
        recorded,
        cborCodec.encode(payload(i)),
      ]);
      atomic.set(["raw", "log", position, 0], bytes).set(["raw", "rev", stream, revision, 0], bytes)
        .set(["raw", "id", id], position);
    }
    atomic.set(["raw", "stream", stream], { revision }).set(["raw", "head"], { position });
    const result = await atomic.commit();
    if (!result.ok) throw new Error("conflict");
    this.head = { key: ["raw", "head"], value: { position }, versionstamp: result.versionstamp };
  }
}

async function alternate(repeats: number, store: () => Promise<number>, raw: () => Promise<number>) {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < repeats; i++) {
    a.push(await store());
    b.push(await raw());
  }
  return { store: median(a), raw: median(b) };
}

/**
 * Runs the KV benchmark.
 *
 * @param options `quick` for a short run
 * @returns one row per case
 */
export async function bench(options: { quick: boolean }): Promise<BenchRow[]> {
  const { quick } = options;
  const dir = await Deno.makeTempDir({ prefix: "eventfold_bench_kv_" });
  let files = 0;
  const file = () => `${dir}/bench_${files++}.kv`;
  const repeats = quick ? 3 : 5;
  const streams = Array.from({ length: 200 }, () => uuidv7());
  try {
    const calls = quick ? 100 : 400;
    const batch = await alternate(repeats, async () => {
      await using store = new EventStore({ adapter: new KvAdapter(file()), events });
      await store.stats();
      const started = performance.now();
      for (let call = 0; call < calls; call++) {
        const stream = streams[call % streams.length];
        await store.pushManyEvents(
          Array.from({ length: 50 }, (_, i) => ({ type: "user:updated" as const, stream, data: payload(i) })),
        );
      }
      return (calls * 50) / ((performance.now() - started) / 1000);
    }, async () => {
      const raw = await Raw.open(file());
      const revisions = new Map<string, number>();
      const started = performance.now();
      for (let call = 0; call < calls; call++) {
        const stream = streams[call % streams.length];
        const from = (revisions.get(stream) ?? 0) + 1;
        await raw.append(stream, 50, from, false);
        revisions.set(stream, from + 49);
      }
      const rate = (calls * 50) / ((performance.now() - started) / 1000);
      raw.kv.close();
      return rate;
    });
    const appends = quick ? 500 : 2000;
    const single = await alternate(repeats, async () => {
      await using store = new EventStore({ adapter: new KvAdapter(file()), events });
      await store.stats();
      return await singleAppends(store, streams, appends);
    }, async () => {
      const raw = await Raw.open(file());
      const started = performance.now();
      for (let n = 0; n < appends; n++) await raw.append(streams[n % streams.length], 1, 1, true);
      const rate = appends / ((performance.now() - started) / 1000);
      raw.kv.close();
      return rate;
    });
    return [
      {
        store: "kv",
        case: "append batch 50 x 200 streams",
        unit: "events/s",
        value: batch.store,
        baseline: batch.raw,
      },
      {
        store: "kv",
        case: "append 1 event, expected revision",
        unit: "events/s",
        value: single.store,
        baseline: single.raw,
      },
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
