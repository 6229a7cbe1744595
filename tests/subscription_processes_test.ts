/**
 * Subscriptions across real processes, on a SQLite file and on PostgreSQL: a subscriber
 * killed with SIGKILL in the middle of catch-up and restarted applies every event (at
 * least once; exactly once with the read model in the same transaction), and of two
 * subscribers with the same name only one handles events until it is killed, when the
 * other takes over (SQLite: within the lease time to live, 1 s here, plus a renewal
 * interval; PostgreSQL: within a lease interval, 100 ms here, of the holder's death).
 */
import assert from "node:assert/strict";
import { Projector } from "../projectors/projector.ts";
import type { Adapter } from "../contract/mod.ts";
import { EventStore } from "../stores/event_store.ts";
import { txTable } from "../testing/_conformance_read_model.ts";
import { Child } from "./_child.ts";
import { dropSchema, freshSchema, pgAvailable } from "./_postgres_env.ts";
import { events, openTarget } from "./_subscriber.ts";
import { delay } from "../async.ts";

type Store = EventStore<typeof events, Adapter>;

interface Place extends AsyncDisposable {
  readonly target: string;
  readonly store: Store;
}

async function place(kind: "sqlite" | "postgres"): Promise<Place> {
  const directory = kind === "sqlite" ? await Deno.makeTempDir({ prefix: "eventfold_subscriptions_" }) : "";
  const schema = freshSchema();
  const target = kind === "sqlite" ? `sqlite:${directory}/events.db` : `postgres:${schema}`;
  const store = new EventStore({ adapter: openTarget(target), events });
  // Made here, before children race to create them.
  await txTable(store.adapter, "applied");
  await txTable(store.adapter, "sums");
  return {
    target,
    store,
    [Symbol.asyncDispose]: async () => {
      await store.close();
      if (kind === "sqlite") await Deno.remove(directory, { recursive: true });
      else await dropSchema(schema);
    },
  };
}

async function append(store: Store, total: number): Promise<void> {
  for (let done = 0; done < total; done += 500) {
    await store.pushManyEvents(
      Array.from(
        { length: Math.min(500, total - done) },
        (_, i) => store.event({ type: "item:added", stream: `s${(done + i) % 20}`, data: { n: done + i } }),
      ),
    );
  }
}

async function head(store: Store): Promise<string> {
  return (await store.stats()).head!;
}

/** The read model built from scratch by a fresh subscription, in the test process. */
async function freshReplay(
  store: Store,
): Promise<{ applied: Map<string, number>; sums: Map<string, number> }> {
  const applied = await txTable(store.adapter, "replay_applied");
  const sums = await txTable(store.adapter, "replay_sums");
  const projector = new Projector<typeof events>();
  const replay = store.subscribe("fresh-replay", projector, { transactional: true });
  projector.on("item:added", async (record) => {
    await applied.add(replay.tx(), record.id, 1);
    await sums.add(replay.tx(), record.stream, record.data.n);
  });
  await replay.waitFor(await head(store), { timeout: 60_000 });
  await replay.stop();
  return { applied: await applied.read(), sums: await sums.read() };
}

const pg = await pgAvailable();

for (const kind of ["sqlite", "postgres"] as const) {
  const ignore = kind === "postgres" && !pg;
  for (const tx of [true, false]) {
    const how = tx ? "exactly once (read model in the same transaction)" : "at least once";
    Deno.test({
      name: `${kind}: a subscriber killed in the middle of catch-up and restarted applies every event ${how}`,
      ignore,
      async fn(t) {
        await using at = await place(kind);
        const { store, target } = at;
        const total = kind === "sqlite" ? 6000 : 2000;
        await append(store, total);
        const flags = tx ? ["--tx"] : [];
        {
          await using first = new Child("_subscriber.ts", [target, "killable", "a", ...flags, "--slow"]);
          await first.line((line) => line === "handled 1500", 60_000);
          first.process.kill("SIGKILL");
          assert.equal((await first.status()).signal, "SIGKILL");
        }
        const checkpoint = await store.checkpoints.get("killable");
        assert.ok(checkpoint?.position, "it saved checkpoints before the kill");
        assert.ok(checkpoint.position < await head(store), "it was killed in the middle of catch-up");
        {
          await using second = new Child("_subscriber.ts", [
            target,
            "killable",
            "b",
            ...flags,
            "--until-caught-up",
          ]);
          const status = await second.status();
          assert.equal(status.code, 0, second.stderr);
          assert.ok(second.lines.includes("caught up"));
        }
        const ids = (await store.getEvents()).map((record) => record.id);
        const applied = await (await txTable(store.adapter, "applied")).read();
        assert.deepEqual(new Set(applied.keys()), new Set(ids), "every event was applied");
        const twice = [...applied.values()].filter((n) => n > 1).length;
        if (tx) assert.equal(twice, 0, "no event was applied twice");
        // A measurement, shown as a step so that it stays under this test in a parallel run.
        else await t.step(`measured: ${twice} events applied twice after the kill`, () => {});
        const replay = await freshReplay(store);
        assert.deepEqual(new Set(replay.applied.keys()), new Set(applied.keys()));
        if (tx) assert.deepEqual(await (await txTable(store.adapter, "sums")).read(), replay.sums);
      },
    });
  }

  Deno.test({
    name:
      `${kind}: of two subscribers with one name only one handles events, and the other takes over when it dies`,
    ignore,
    async fn(t) {
      await using at = await place(kind);
      const { store, target } = at;
      await append(store, 100);
      const epoch = Date.now();
      const flags = ["--tx", "--stamp", String(epoch)];
      await using a = new Child("_subscriber.ts", [target, "single", "a", ...flags]);
      await a.line((line) => line === "state live");
      await using b = new Child("_subscriber.ts", [target, "single", "b", ...flags]);
      await b.line((line) => line === "state waiting-for-lease");
      let writing = true;
      const writer = (async () => {
        for (let n = 0; writing; n++) {
          await store.pushEvent(store.event({ type: "item:added", stream: `w${n % 5}`, data: { n } }));
          await delay(10);
        }
      })();
      await delay(700);
      const killedAt = Date.now() - epoch;
      a.process.kill("SIGKILL");
      await a.status();
      const { at: tookOver } = await b.line(
        (line) => line === "state catching-up" || line === "state live",
        15_000,
      );
      const takeover = tookOver - epoch - killedAt;
      await t.step(
        `measured: the second subscriber took over ${takeover} ms after the first was killed`,
        () => {},
      );
      assert.ok(
        takeover < (kind === "sqlite" ? 1000 + 100 + 1500 : 100 + 1000),
        `took over after ${takeover} ms`,
      );
      await delay(300);
      writing = false;
      await writer;
      const ids = (await store.getEvents()).map((record) => record.id);
      const applied = await txTable(store.adapter, "applied");
      const deadline = Date.now() + 30_000;
      let stamps = await applied.read();
      while (stamps.size < ids.length && Date.now() < deadline) {
        await delay(50);
        stamps = await applied.read();
      }
      const byOwner = { a: [] as number[], b: [] as number[] };
      const handled = new Set<string>();
      for (const [key, at] of stamps) {
        const [id, owner] = key.split("|");
        assert.ok(!handled.has(id), `${id} was handled twice`);
        handled.add(id);
        byOwner[owner as "a" | "b"].push(at);
      }
      assert.deepEqual(handled, new Set(ids), "every event was handled once");
      assert.ok(byOwner.a.length > 100 && byOwner.b.length > 0);
      assert.ok(Math.max(...byOwner.a) <= killedAt, "the first handled nothing after it died");
      assert.ok(Math.min(...byOwner.b) >= killedAt, "the second handled nothing while the first lived");
    },
  });
}
