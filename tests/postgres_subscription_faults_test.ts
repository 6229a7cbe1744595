/**
 * Issue 9, test (3): a transactional subscription on PostgreSQL, fed by writers in other
 * processes, across two server restarts and one terminated backend, on a private cluster
 * (never the shared server). Afterwards every acknowledged event is in the read model
 * exactly once (and nothing else is), the subscription reported each outage through
 * `onError`, it is live again, and no uncaught error or unhandled rejection fired here or
 * in the writers.
 */
import assert from "node:assert/strict";
import { isConnectionLostError } from "../errors.ts";
import { Projector } from "../projectors/projector.ts";
import type { SubscriptionErrorContext } from "../projectors/subscription_options.ts";
import { EventStore } from "../stores/event_store.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { txTable } from "../testing/_conformance_read_model.ts";
import { Child } from "./_child.ts";
import { clusterSupport, startCluster } from "./_pg_cluster.ts";
import { faultEvents } from "./_pg_fault_writer.ts";
import { delay } from "../async.ts";

const unsupported = await clusterSupport();

interface Report {
  readonly at: number;
  readonly message: string;
  readonly context: SubscriptionErrorContext;
}

/** Polls `check` until it holds; fails after `ms` saying `what`. */
async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms: number,
  describe: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting until ${what}; ${describe()}`);
    await delay(20);
  }
}

/**
 * Runs one of the test's own reads, again after a lost connection: the terminated
 * backends include this process's idle pool connections, whose next call fails with a
 * `ConnectionLostError` (the documented answer: retry).
 */
async function again<T>(read: () => Promise<T>): Promise<T> {
  for (let tries = 1;; tries++) {
    try {
      return await read();
    } catch (error) {
      if (!isConnectionLostError(error) || tries >= 10) throw error;
      await delay(100);
    }
  }
}

function acked(writers: readonly Child[]): string[] {
  return writers.flatMap((writer) =>
    writer.lines.filter((line) => line.startsWith("ack ")).flatMap((line) => line.slice(4).split(" "))
  );
}

Deno.test({
  name:
    "a transactional subscription survives two restarts and a terminated backend, each event applied once",
  ignore: unsupported !== undefined,
  async fn() {
    const uncaught: unknown[] = [];
    const onError = (event: ErrorEvent) => {
      event.preventDefault();
      uncaught.push(event.error ?? event.message);
    };
    const onRejection = (event: PromiseRejectionEvent) => {
      if (event.defaultPrevented) return; // handled by the adapter's guard (stores/postgres/_driver_rejections.ts)
      event.preventDefault();
      uncaught.push(event.reason);
    };
    globalThis.addEventListener("error", onError);
    globalThis.addEventListener("unhandledrejection", onRejection);
    try {
      await using cluster = await startCluster();
      const schema = `faults_${crypto.randomUUID().slice(0, 8)}`;
      const store = new EventStore({
        adapter: new PostgresAdapter(cluster.url, { schema }),
        events: faultEvents,
      });
      try {
        const applied = await txTable(store.adapter, "applied");
        const reports: Report[] = [];
        const projector = new Projector<typeof faultEvents>();
        const subscription = store.subscribe("read-model", projector, {
          transactional: true,
          pollInterval: 100,
          leaseInterval: 100,
          leaseTtl: 1000,
          backoff: 50,
          maxBackoff: 500,
          onError: (error, context) =>
            void reports.push({
              at: Date.now(),
              message: (error as Error)?.message ?? String(error),
              context,
            }),
        });
        projector.on("item:added", async (record) => await applied.add(subscription.tx(), record.id, 1));
        try {
          const writers = ["w1", "w2"].map((name) =>
            new Child("_pg_fault_writer.ts", [cluster.url, schema, name, "400"])
          );
          try {
            const faults: { kind: string; at: number }[] = [];
            const describe = () =>
              `subscription ${subscription.state}, ${reports.length} reports (last: ${
                reports.at(-1)?.message
              }); writers: ${
                writers.map((w) =>
                  `${w.lines.slice(-3).join(" | ").slice(0, 400)} [stderr ${w.stderr.slice(-300)}]`
                )
                  .join(" ;; ")
              }`;
            const outage = async (kind: string, threshold: number, act: () => Promise<unknown>) => {
              await until(
                () => acked(writers).length >= threshold,
                `${threshold} events are acknowledged`,
                60_000,
                describe,
              );
              const at = Date.now();
              faults.push({ kind, at });
              await act();
              // The next fault waits for this one's report, so each report falls in its own window.
              await until(
                () => reports.some((report) => report.at >= at),
                `${kind} is reported`,
                30_000,
                describe,
              );
            };
            await outage("restart -m immediate", 80, () => cluster.restart("immediate"));
            await outage("restart -m fast", 250, () => cluster.restart("fast"));
            await outage("pg_terminate_backend", 450, () => cluster.terminateBackends());
            for (const writer of writers) await writer.line((line) => line.startsWith("done "), 120_000);
            for (const writer of writers) assert.equal((await writer.status()).code, 0, writer.stderr);
            const problems = writers.flatMap((writer) =>
              writer.lines.filter((line) => line.startsWith("uncaught"))
            );
            assert.deepEqual(problems, [], "no uncaught error in the writers");

            const head = (await again(() => store.stats())).head!;
            await subscription.waitFor(head, { timeout: 60_000 });
            const model = await again(() => applied.read());
            const stored = (await again(() => store.getEvents())).map((record) => record.id);
            const ids = acked(writers);
            assert.equal(ids.length, 800);
            for (const id of ids) {
              assert.equal(model.get(id), 1, `acknowledged event ${id} applied ${model.get(id)} times`);
            }
            for (const id of stored) {
              assert.equal(model.get(id), 1, `stored event ${id} applied ${model.get(id)} times`);
            }
            assert.equal(
              model.size,
              stored.length,
              "the read model holds the stored events and nothing else",
            );
            assert.equal(new Set(stored).size, stored.length);

            // Each outage was reported, between its start and the next one.
            for (const [i, fault] of faults.entries()) {
              const end = faults[i + 1]?.at ?? Infinity;
              const seen = reports.filter((report) => report.at >= fault.at && report.at < end);
              assert.ok(
                seen.length > 0,
                `${fault.kind} was not reported; reports: ${JSON.stringify(reports)}`,
              );
              assert.ok(seen.every((report) => report.context.action === "recover"));
            }
            await until(() => subscription.state === "live", "the subscription is live again", 10_000);
            // info() answers even when its own query meets a dead pool connection (lag NaN): ask again.
            let info = await subscription.info();
            for (let tries = 0; Number.isNaN(info.lag) && tries < 10; tries++) {
              info = await subscription.info();
            }
            assert.equal(info.lag, 0);
            assert.equal(info.parked, 0);
            assert.equal(info.lastError?.recovered, true);
            console.log(
              `${stored.length} events, ${reports.length} outage reports (${
                faults.map((f) => f.kind).join(", ")
              }), writer retries: ${
                writers.map((w) => w.lines.filter((l) => l.startsWith("retry")).length).join("/")
              }; reported: ${[...new Set(reports.map((report) => report.message.slice(0, 90)))].join(" | ")}`,
            );
          } finally {
            for (const writer of writers) await writer[Symbol.asyncDispose]();
          }
        } finally {
          await subscription.stop();
        }
      } finally {
        await store.close();
      }
    } finally {
      globalThis.removeEventListener("error", onError);
      globalThis.removeEventListener("unhandledrejection", onRejection);
    }
    assert.deepEqual(
      uncaught.map(String),
      [],
      "no uncaught error or unhandled rejection in the test process",
    );
  },
});
