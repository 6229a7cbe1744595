/**
 * Lifecycle and erasure figures for `deno task bench` (SQLite files): appends of events
 * with two personal fields against the same events without, `forget` of one subject
 * among many, and `scavenge` against `node:sqlite` deleting the same rows in the same
 * batches. Every figure is the median of repeated runs, the two sides alternating.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { uuidv7 } from "../events/id.ts";
import { EventStore } from "../stores/event_store.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { type BenchRow, median } from "./_report.ts";

const profile = z.object({ userId: z.string(), name: z.string(), email: z.string(), age: z.number() });
const plain = new EventFactory([event.type("user:updated").data(profile)]);
const personal = new EventFactory([
  event.type("user:updated").data(profile).personal({
    subject: (data) => data.userId,
    fields: ["email", "name"],
  }),
]);

function payload(userId: string, i: number) {
  return { userId, name: `user ${i}`, email: `u${i}@example.com`, age: i % 90 };
}

/** Batches of 50 events, each batch one user's stream; `events` picks plain or personal. */
async function appendRun(
  path: string,
  events: typeof plain | typeof personal,
  users: readonly string[],
  calls: number,
): Promise<number> {
  await using store = new EventStore({ adapter: new SqliteAdapter(path), events });
  const started = performance.now();
  for (let call = 0; call < calls; call++) {
    const user = users[call % users.length];
    const batch = new Array(50);
    for (let i = 0; i < 50; i++) batch[i] = { type: "user:updated", stream: user, data: payload(user, i) };
    await store.pushManyEvents(batch);
  }
  return (calls * 50) / ((performance.now() - started) / 1000);
}

async function discard(path: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
}

/**
 * Runs the lifecycle cases.
 *
 * @param options `quick` for a short run (smaller counts, fewer repeats)
 * @returns the rows
 */
export async function bench(options: { quick: boolean }): Promise<BenchRow[]> {
  const { quick } = options;
  const dir = await Deno.makeTempDir({ prefix: "eventfold_bench_lifecycle_" });
  let files = 0;
  const file = () => `${dir}/bench_${files++}.db`;
  const repeats = quick ? 3 : 7;
  try {
    // Appends with two personal fields against the same appends without.
    const users = Array.from({ length: 200 }, () => uuidv7());
    const calls = quick ? 400 : 2000;
    const sealed: number[] = [];
    const clear: number[] = [];
    for (let n = -1; n < repeats; n++) {
      // The first round warms both sides up and is not counted.
      const order = n % 2 === 0 ? [true, false] : [false, true];
      for (const withPersonal of order) {
        const path = file();
        const rate = await appendRun(path, withPersonal ? personal : plain, users, calls);
        await discard(path);
        if (n >= 0) (withPersonal ? sealed : clear).push(rate);
      }
    }

    // forget of one subject among many: one event (and key) per subject.
    const subjects = quick ? 10_000 : 100_000;
    const forgetPath = file();
    const forgets: number[] = [];
    {
      await using store = new EventStore({ adapter: new SqliteAdapter(forgetPath), events: personal });
      const ids = Array.from({ length: subjects }, () => uuidv7());
      for (let done = 0; done < subjects; done += 1000) {
        await store.pushManyEvents(
          ids.slice(done, done + 1000).map((id, i) => ({
            type: "user:updated",
            stream: id,
            data: payload(id, i),
          })),
        );
      }
      for (let n = 0; n < (quick ? 10 : 30); n++) {
        const subject = ids[(n * 7919) % subjects];
        const started = performance.now();
        if (!await store.forget(subject)) throw new Error(`no key for ${subject}`);
        forgets.push(performance.now() - started);
      }
    }

    // scavenge: one stream of expired events against raw deletes of the same batches.
    const length = quick ? 20_000 : 100_000;
    const keep = 100;
    const scavengeStore = async (): Promise<{ rate: number; path: string }> => {
      const path = file();
      await using store = new EventStore({ adapter: new SqliteAdapter(path), events: plain });
      await fill(store, length);
      await store.setStreamMetadata("s", { maxCount: keep });
      const started = performance.now();
      const result = await store.scavenge({ batchSize: 1000 });
      if (result.removed !== length - keep) throw new Error(`scavenge removed ${result.removed}`);
      return { rate: result.removed / ((performance.now() - started) / 1000), path };
    };
    const scavengeRaw = async (): Promise<{ rate: number; path: string }> => {
      const path = file();
      {
        await using store = new EventStore({ adapter: new SqliteAdapter(path), events: plain });
        await fill(store, length);
      }
      const db = new DatabaseSync(path);
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
      const remove = db.prepare("DELETE FROM eventfold_events WHERE stream = ? AND revision < ?");
      const started = performance.now();
      for (let before = 1001; before <= length - keep + 1; before += 1000) {
        db.exec("BEGIN IMMEDIATE");
        remove.run("s", Math.min(before, length - keep + 1));
        db.exec("COMMIT");
      }
      const rate = (length - keep) / ((performance.now() - started) / 1000);
      db.close();
      return { rate, path };
    };
    const scavenged: number[] = [];
    const deleted: number[] = [];
    for (let n = 0; n < Math.min(repeats, 3); n++) {
      const sides = n % 2 === 0 ? [scavengeStore, scavengeRaw] : [scavengeRaw, scavengeStore];
      for (const side of sides) {
        const { rate, path } = await side();
        await discard(path);
        (side === scavengeStore ? scavenged : deleted).push(rate);
      }
    }

    return [
      {
        store: "sqlite",
        case: "append batch 50, two personal fields (baseline: the same without)",
        unit: "events/s",
        value: median(sealed),
        baseline: median(clear),
        target: ">= 0.7x",
      },
      {
        store: "sqlite",
        case: `forget one subject among ${subjects.toLocaleString("en-US")}`,
        unit: "ms",
        value: median(forgets),
        target: "reported",
      },
      {
        store: "sqlite",
        case: `scavenge ${(length - keep).toLocaleString("en-US")} events (maxCount), batches of 1,000`,
        unit: "events/s",
        value: median(scavenged),
        baseline: median(deleted),
        target: "reported",
      },
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function fill(store: EventStore<typeof plain>, length: number): Promise<void> {
  for (let done = 0; done < length; done += 5000) {
    await store.pushManyEvents(
      Array.from(
        { length: 5000 },
        (_, i) => ({ type: "user:updated", stream: "s", data: payload("u", done + i) }),
      ),
    );
  }
}

if (import.meta.main) {
  const { renderTable } = await import("./_report.ts");
  console.log(renderTable(await bench({ quick: Deno.args.includes("--quick") })));
}
