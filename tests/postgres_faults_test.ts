/**
 * Issue 9, tests (1), (2) and (4): the PostgreSQL adapter when its connections die, on a
 * private cluster this file starts itself (never the shared server on 5432). Backends are
 * terminated with `pg_terminate_backend` and the server is restarted with `-m immediate`
 * while appends, reads, checkpoint writes, a lease and a `watch()` are running. Every
 * call settles within 10 s with a typed error, later calls work as soon as the server is
 * back, every acknowledged append is stored exactly once, a retry with the same ids is a
 * no-op, and no uncaught error or unhandled rejection fires.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { ConnectionLostError, event, EventFactory, EventStore, isConnectionLostError } from "../mod.ts";
import postgres from "postgres";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { channelOf, Watcher } from "../stores/postgres/_notify.ts";
import { clusterSupport, type PgCluster, startCluster } from "./_pg_cluster.ts";
import { startProxy } from "./_tcp_proxy.ts";

const unsupported = await clusterSupport();

const SETTLE_MS = 10_000;
const events = new EventFactory([event.type("tick").data(z.object({ n: z.number() }))]);
type Store = EventStore<typeof events>;

/** Records every uncaught error and unhandled rejection while installed. */
function escapes(): { seen: string[]; [Symbol.dispose](): void } {
  const seen: string[] = [];
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    seen.push(`uncaught: ${e.error?.stack ?? e.message}`);
  };
  const onRejection = (e: PromiseRejectionEvent) => {
    if (e.defaultPrevented) return; // handled by the adapter's guard (stores/postgres/_driver_rejections.ts)
    e.preventDefault();
    seen.push(`unhandled rejection: ${(e.reason as Error)?.stack ?? String(e.reason)}`);
  };
  globalThis.addEventListener("error", onError);
  globalThis.addEventListener("unhandledrejection", onRejection);
  return {
    seen,
    [Symbol.dispose]() {
      globalThis.removeEventListener("error", onError);
      globalThis.removeEventListener("unhandledrejection", onRejection);
    },
  };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds; fails after `ms` saying `what`. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = SETTLE_MS): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await pause(20);
  }
}

interface Attempt {
  readonly batch: ReturnType<Store["event"]>[];
  readonly ids: string[];
  readonly ms: number;
  readonly error?: unknown;
}

/** A call that must settle within SETTLE_MS: a hang fails the test instead of stalling it. */
async function bounded<T>(call: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      call,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} did not settle within ${SETTLE_MS} ms`)),
          SETTLE_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writers appending batches of two events in a loop until stopped. */
function appendLoop(store: Store, writers: number): { attempts: Attempt[]; stop(): Promise<void> } {
  const attempts: Attempt[] = [];
  let stopped = false;
  let n = 0;
  const loops = Array.from({ length: writers }, async (_, w) => {
    while (!stopped) {
      const batch = [0, 1].map(() =>
        store.event({ type: "tick", stream: `w${w}-${n % 3}`, data: { n: n++ } })
      );
      const start = performance.now();
      try {
        await bounded(store.pushManyEvents(batch), "an append");
        attempts.push({ batch, ids: batch.map((e) => e.id), ms: performance.now() - start });
      } catch (error) {
        attempts.push({ batch, ids: batch.map((e) => e.id), ms: performance.now() - start, error });
        // A failing server answers at once: do not spin on it.
        await pause(10);
      }
    }
  });
  return {
    attempts,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/**
 * Runs appends across `fault`, then checks the outcome: failures are typed and settled
 * in time, appends resumed, acknowledged ones are stored exactly once, and retries with
 * the same ids store nothing twice.
 */
async function appendsSurvive(
  cluster: PgCluster,
  schema: string,
  fault: () => Promise<unknown>,
): Promise<string> {
  await using adapter = new PostgresAdapter(cluster.url, { schema });
  const store: Store = new EventStore({ adapter, events });
  await adapter.open();
  const loop = appendLoop(store, 3);
  let report: string;
  try {
    await until(() => loop.attempts.filter((a) => !a.error).length >= 30, "appends before the fault");
    const before = loop.attempts.length;
    await fault();
    const faultAt = loop.attempts.length;
    // Appends resume: 30 acknowledged after the fault.
    const resumedMs = await until(
      () => loop.attempts.slice(faultAt).filter((a) => !a.error).length >= 30,
      "appends to resume after the fault",
    );
    await loop.stop();
    const failed = loop.attempts.filter((a) => a.error !== undefined);
    assert.ok(failed.length > 0, "the fault hit no append: nothing was tested");
    for (const attempt of failed) {
      assert.ok(
        isConnectionLostError(attempt.error) && attempt.error instanceof ConnectionLostError,
        `an append failed with something else than ConnectionLostError: ${Deno.inspect(attempt.error)}`,
      );
      assert.match(attempt.error.message, /COMMIT was sent|retr/);
      assert.ok(attempt.error.cause !== undefined, "ConnectionLostError carries the driver's error");
    }
    const slowest = Math.max(...loop.attempts.map((a) => a.ms));
    assert.ok(slowest < SETTLE_MS, `an append took ${slowest} ms to settle`);

    // Acknowledged appends are stored, each event once; failed ones that could not have
    // committed are absent.
    const stored = await store.getEvents();
    const counts = new Map<string, number>();
    for (const record of stored) counts.set(record.id, (counts.get(record.id) ?? 0) + 1);
    for (const attempt of loop.attempts) {
      for (const id of attempt.ids) {
        if (attempt.error === undefined) {
          assert.equal(counts.get(id), 1, `acknowledged event ${id} is stored once`);
        } else if (!(attempt.error as ConnectionLostError).mayHaveCommitted) {
          assert.equal(counts.get(id), undefined, `event ${id} of an append lost before COMMIT is absent`);
        }
      }
    }
    assert.equal(counts.size, stored.length, "no event is stored twice");

    // Retrying with the same ids is safe: failed appends land once, acknowledged ones stay once.
    const retried = [...failed, ...loop.attempts.filter((a) => !a.error).slice(0, 3)];
    for (const attempt of retried) await store.pushManyEvents(attempt.batch);
    const after = await store.getEvents();
    const ids = new Set(after.map((record) => record.id));
    assert.equal(ids.size, after.length, "no event is stored twice after the retries");
    for (const attempt of loop.attempts) {
      for (const id of attempt.ids) assert.ok(ids.has(id), `${id} is stored`);
    }
    assert.equal(
      after.length,
      new Set(loop.attempts.flatMap((a) => a.ids)).size,
      "the retries stored only what was missing",
    );
    report =
      `${before} appends before, ${failed.length} failed (slowest settled in ${Math.round(slowest)} ms, ` +
      `${
        failed.filter((a) => (a.error as ConnectionLostError).mayHaveCommitted).length
      } may have committed), ` +
      `30 acknowledged again ${Math.round(resumedMs)} ms after the fault`;
  } finally {
    await loop.stop();
  }
  return report;
}

Deno.test({
  name: "PostgreSQL connection loss: every call settles with ConnectionLostError and the store recovers",
  ignore: unsupported !== undefined,
  async fn(t) {
    using escaped = escapes();
    await using cluster = await startCluster();

    await t.step(
      "(1) appends in flight when their backends are terminated settle, and appends resume",
      async () => {
        const report = await appendsSurvive(cluster, "terminate", async () => {
          assert.ok((await cluster.terminateBackends()) > 0, "no backend was terminated");
        });
        console.log(`  terminate: ${report}`);
      },
    );

    await t.step("(2) appends in flight across restart -m immediate settle, and appends resume", async () => {
      const report = await appendsSurvive(cluster, "restart", () => cluster.restart("immediate"));
      console.log(`  restart: ${report}`);
    });

    await t.step("reads, checkpoint writes, a lease and watch() recover after a restart", async () => {
      await using adapter = new PostgresAdapter(cluster.url, { schema: "others" });
      await using writer = new PostgresAdapter(cluster.url, { schema: "others" });
      const store: Store = new EventStore({ adapter, events });
      const writes: Store = new EventStore({ adapter: writer, events });
      await writes.pushEvent(writes.event({ type: "tick", stream: "s", data: { n: 0 } }));
      let woken = 0;
      const unwatch = adapter.watch(() => woken++);
      try {
        await until(async () => {
          await writes.pushEvent(writes.event({ type: "tick", stream: "s", data: { n: 1 } }));
          return woken > 0;
        }, "a first notification");
        const lease = await adapter.acquireLease("sub", "me", 30_000);
        assert.ok(lease !== undefined);
        assert.ok(await lease.renew());

        // Readers and checkpoint writers run across the restart; every call settles in time.
        let stopped = false;
        const failures: unknown[] = [];
        let slowest = 0;
        let calls = 0;
        let succeeded = 0;
        const run = async (call: () => Promise<unknown>) => {
          while (!stopped) {
            const start = performance.now();
            try {
              await bounded(call(), "a read or checkpoint write");
              succeeded++;
            } catch (error) {
              failures.push(error);
              await pause(10);
            }
            calls++;
            await pause(2);
            slowest = Math.max(slowest, performance.now() - start);
          }
        };
        let position = 0;
        const loops = [
          run(() => adapter.readLog({ direction: "forward", limit: 10, settle: true })),
          run(() => adapter.readStream("s", { direction: "backward", limit: 1 })),
          run(() => adapter.putCheckpoint("sub", null, { position: null }).then(() => undefined)),
          run(() =>
            adapter.putSnapshot({
              name: "n",
              stream: "s",
              state: position++,
              revision: 1,
              position: null,
              version: 1,
            })
          ),
          run(() => adapter.getCheckpoint("sub")),
          run(() => store.getEvents({ limit: 5 })),
        ];
        await until(() => calls > 20, "reads before the restart");
        const restartAt = performance.now();
        await cluster.restart("immediate");
        await until(async () => {
          const [okBefore, failedBefore] = [succeeded, failures.length];
          await pause(200);
          return succeeded - okBefore > 10 && failures.length === failedBefore;
        }, "reads to succeed again");
        stopped = true;
        await Promise.all(loops);
        assert.ok(slowest < SETTLE_MS, `a read took ${slowest} ms to settle`);
        for (const error of failures) {
          assert.ok(isConnectionLostError(error), `a read failed with ${Deno.inspect(error)}`);
        }
        // Everything works right after the server is back.
        assert.ok((await adapter.readLog({ direction: "forward", limit: 100, settle: true })).length >= 2);
        assert.ok(await adapter.putCheckpoint("sub", null, { position: null }));

        // The lease died with its session: renew says so at once, and it can be taken again.
        const renewMs = performance.now();
        assert.equal(await bounded(lease.renew(), "a renewal"), false);
        const renewTook = performance.now() - renewMs;
        const again = await adapter.acquireLease("sub", "me", 30_000);
        assert.ok(again !== undefined, "the lease can be taken again after the restart");
        assert.ok(await again.renew());
        await again.release();

        // watch() listens again: a commit by another adapter wakes it.
        const wokenBefore = woken;
        const wakeMs = await until(async () => {
          await writes.pushEvent(writes.event({ type: "tick", stream: "s", data: { n: 2 } }));
          await pause(50);
          return woken > wokenBefore;
        }, "watch() to be woken after the restart");
        console.log(
          `  reads: ${calls} calls, ${failures.length} failed with ConnectionLostError, slowest ${
            Math.round(slowest)
          } ms; ` +
            `recovered ${Math.round(performance.now() - restartAt)} ms after the restart began; ` +
            `lease renew answered false in ${Math.round(renewTook)} ms; watch woken ${
              Math.round(wakeMs)
            } ms after`,
        );
      } finally {
        unwatch();
      }
    });

    await t.step(
      "an idle transaction whose backend is terminated fails fast, and a retry succeeds",
      async () => {
        await using adapter = new PostgresAdapter(cluster.url, { schema: "idle" });
        const store: Store = new EventStore({ adapter, events });
        await adapter.open();
        const pending = store.event({ type: "tick", stream: "idle", data: { n: 1 } });
        const start = performance.now();
        // The handle sits idle inside the transaction while its backend is killed; the next
        // statement must fail at once instead of going to the dead connection.
        const attempt = adapter.transaction(async (tx) => {
          await tx.revisions(["idle"]);
          const [{ pid }] = await tx.handle<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
          await cluster.terminateBackends(`pid = ${pid}`);
          await pause(200);
          await tx.handle`SELECT 1`;
        });
        await assert.rejects(bounded(attempt, "an idle transaction"), (error: unknown) => {
          assert.ok(isConnectionLostError(error), Deno.inspect(error));
          assert.equal((error as ConnectionLostError).mayHaveCommitted, false);
          assert.match((error as Error).message, /before COMMIT was sent: nothing was written/);
          return true;
        });
        assert.ok(performance.now() - start < SETTLE_MS);
        await store.pushEvent(pending);
        await store.pushEvent(pending);
        assert.equal((await store.getEvents()).length, 1);
      },
    );

    await t.step("more outages than the pool has connections leave the pool whole", async () => {
      // Cut at the network (a proxy), which is much faster than stopping the server.
      await using proxy = startProxy(cluster.port);
      await using adapter = new PostgresAdapter(`postgres://root@127.0.0.1:${proxy.port}/test`, {
        schema: "outages",
      });
      const store: Store = new EventStore({ adapter, events });
      await adapter.open();
      const max = adapter.sql.options.max;
      const outages = max + 4;
      const start = performance.now();
      let failed = 0;
      for (let outage = 0; outage < outages; outage++) {
        await proxy.cut();
        // Appends and reads while the server is unreachable: each reservation or query fails.
        const calls = await Promise.allSettled(
          Array.from({ length: 6 }, (_, k) =>
            bounded<unknown>(
              k % 2 === 0
                ? store.pushEvent(store.event({ type: "tick", stream: `o${k}`, data: { n: outage } }))
                : adapter.readStream(`o${k - 1}`, { direction: "forward", limit: 1 }),
              "a call during an outage",
            )),
        );
        for (const call of calls) {
          if (call.status === "fulfilled") continue;
          failed++;
          assert.ok(isConnectionLostError(call.reason), Deno.inspect(call.reason));
        }
        proxy.restore();
        await until(async () => {
          try {
            await bounded(
              store.pushEvent(store.event({ type: "tick", stream: "ok", data: { n: outage } })),
              "an append",
            );
            return true;
          } catch (error) {
            assert.ok(isConnectionLostError(error), Deno.inspect(error));
            return false;
          }
        }, "an append after the outage");
      }
      const outagesMs = performance.now() - start;
      // Every connection of the pool still serves: `max` transactions each holding one for
      // 300 ms run side by side (a leaked connection would make them queue, or hang).
      const parallel = async (): Promise<{ ms: number; pids: number }> => {
        const begun = performance.now();
        const pids = await bounded(
          Promise.all(
            Array.from({ length: max }, () =>
              adapter.transaction(async (tx) => {
                const [{ pid }] = await tx.handle<
                  { pid: number }[]
                >`SELECT pg_backend_pid() AS pid, pg_sleep(0.3)`;
                return pid;
              })),
          ),
          `${max} parallel transactions`,
        );
        return { ms: performance.now() - begun, pids: new Set(pids).size };
      };
      // The first rounds reconnect the pool; under a loaded machine a reconnect may still be
      // under way in the second. A lost connection never comes back, so three rounds suffice.
      let { ms: parallelMs, pids } = await parallel();
      for (let round = 0; round < 3 && pids < max; round++) ({ ms: parallelMs, pids } = await parallel());
      assert.equal(pids, max, `${max} parallel transactions ran on ${pids} connections: the others are lost`);
      assert.equal(
        (await bounded(adapter.readStream("ok", { direction: "forward", limit: 1000 }), "a read")).length,
        outages,
      );
      console.log(
        `  ${outages} outages (pool of ${max}): ${failed} calls failed with ConnectionLostError, ` +
          `${Math.round(outagesMs)} ms in all; then ${max} parallel 300 ms transactions ran on ${pids} ` +
          `connections in ${Math.round(parallelMs)} ms`,
      );
    });

    await t.step(
      "while the server is down: a new adapter fails fast and retryably, watch() does not spin, and both recover",
      async () => {
        await using writer = new PostgresAdapter(cluster.url, { schema: "down" });
        const writes: Store = new EventStore({ adapter: writer, events });
        await writer.open();
        const sql = postgres(cluster.url, { onnotice: () => {}, fetch_types: false });
        const watcher = new Watcher(sql, channelOf("down"));
        let woken = 0;
        const unwatch = watcher.add(() => woken++);
        const wake = async (what: string): Promise<number> => {
          const before = woken;
          return await until(async () => {
            await writes.pushEvent(writes.event({ type: "tick", stream: "w", data: { n: 0 } }));
            await pause(50);
            return woken > before;
          }, what);
        };
        try {
          await wake("watch() to be woken before the outage");
          await cluster.down();
          const downAt = performance.now();
          const attemptsBefore = watcher.attempts;

          // An adapter made while the server is away: its first calls fail fast, typed as a
          // lost connection (so a retry loop on isConnectionLostError works), not cached.
          await using adapter = new PostgresAdapter(cluster.url, { schema: "down" });
          const store: Store = new EventStore({ adapter, events });
          for (const call of [() => adapter.open(), () => store.getEvents(), () => adapter.stats()]) {
            const began = performance.now();
            const error = await bounded<unknown>(call(), "a call while the server is down").then(
              () => undefined,
              (error: unknown) => error,
            );
            assert.ok(
              isConnectionLostError(error),
              `expected ConnectionLostError, got ${Deno.inspect(error)}`,
            );
            assert.equal(error.operation, "open");
            assert.ok(error.cause !== undefined);
            assert.ok(performance.now() - began < 2000, "it failed fast");
          }

          await pause(Math.max(0, 2000 - (performance.now() - downAt)));
          const attempts = watcher.attempts - attemptsBefore;
          const downMs = performance.now() - downAt;
          assert.ok(attempts < 20, `watch() tried to LISTEN ${attempts} times in ${Math.round(downMs)} ms`);

          await cluster.start();
          const startedAt = performance.now();
          // The same adapter opens now: a retry loop on isConnectionLostError gets through.
          await until(async () => {
            try {
              await adapter.open();
              return true;
            } catch (error) {
              assert.ok(isConnectionLostError(error), Deno.inspect(error));
              return false;
            }
          }, "the adapter to open after the start");
          const openedMs = performance.now() - startedAt;
          await store.pushEvent(store.event({ type: "tick", stream: "after", data: { n: 1 } }));
          assert.equal((await adapter.readStream("after", { direction: "forward", limit: 10 })).length, 1);
          const wakeMs = await wake("watch() to be woken after the start");
          console.log(
            `  down ${Math.round(downMs)} ms: watch() tried to LISTEN ${attempts} times; ` +
              `the new adapter opened ${Math.round(openedMs)} ms after the start, watch() woken after ${
                Math.round(wakeMs)
              } ms`,
          );
        } finally {
          unwatch();
          await watcher.close();
          await sql.end({ timeout: 1 });
        }
      },
    );

    await t.step("(4) no uncaught error or unhandled rejection escaped", async () => {
      // Let late driver timers run before looking.
      await pause(100);
      assert.deepEqual(escaped.seen, []);
    });
  },
});
