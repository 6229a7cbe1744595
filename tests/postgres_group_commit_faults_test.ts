/**
 * Issue 15: a connection lost under a grouped transaction (concurrent appends sharing one
 * transaction) fails every append of that group with `ConnectionLostError`, and writes
 * nothing of any of them; the same events appended again land once. On a private cluster
 * (its backends are terminated), never the shared server.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { z } from "zod";
import { ConnectionLostError, event, EventFactory, EventStore, isConnectionLostError } from "../mod.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { clusterSupport, type PgCluster, startCluster } from "./_pg_cluster.ts";

const unsupported = await clusterSupport();

const events = new EventFactory([event.type("tick").data(z.object({ n: z.number() }))]);
const STREAM_LOCK_CLASS = 0x45564653;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until a backend of the cluster waits on a lock while running a statement like `like`. */
async function waitingBackend(cluster: PgCluster, like: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const count = await cluster.psql(
      `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '${like}'`,
    );
    if (Number(count) > 0) return;
    if (Date.now() > deadline) throw new Error(`no backend came to wait on a lock running ${like}`);
    await pause(20);
  }
}

/**
 * Starts appends of one event to each of `streams` at once (one group), lets `block`
 * hold them up on the server, terminates the group's backend, and checks what every
 * caller got and that nothing was stored.
 */
async function lostGroup(
  cluster: PgCluster,
  schema: string,
  streams: string[],
  block: (sql: postgres.ReservedSql) => Promise<unknown>,
  waitingOn: string,
): Promise<ConnectionLostError[]> {
  await using adapter = new PostgresAdapter(cluster.url, { schema });
  const store = new EventStore({ adapter, events });
  await adapter.open();
  const client = postgres(cluster.url, { max: 1, onnotice: () => {} });
  const blocker = await client.reserve();
  try {
    await blocker`BEGIN`;
    await block(blocker);
    const records = streams.map((stream, n) => store.event({ type: "tick", stream, data: { n } }));
    const appends = Promise.allSettled(
      records.map((record) => store.pushEvent(record, { expectedRevision: 0 })),
    );
    await waitingBackend(cluster, waitingOn);
    assert.equal(
      await cluster.terminateBackends("wait_event_type = 'Lock'"),
      1,
      "one backend held the group",
    );
    const results = await appends;
    const errors = results.map((result) => {
      assert.equal(result.status, "rejected", `every append of the group fails: ${Deno.inspect(result)}`);
      const error = (result as PromiseRejectedResult).reason;
      assert.ok(isConnectionLostError(error) && error instanceof ConnectionLostError, Deno.inspect(error));
      return error;
    });
    await blocker`ROLLBACK`;
    assert.equal((await store.getEvents()).length, 0, "nothing of the group was written");
    // Appended again with the same ids, each lands once.
    await Promise.all(records.map((record) => store.pushEvent(record, { expectedRevision: 0 })));
    const stored = await store.getEvents();
    assert.deepEqual(stored.map((record) => record.id).sort(), records.map((record) => record.id).sort());
    await store.close();
    return errors;
  } finally {
    blocker.release();
    await client.end({ timeout: 1 });
  }
}

Deno.test({
  name: "PostgreSQL group commit: a lost connection fails every append of the group and writes none",
  ignore: unsupported !== undefined,
  async fn(t) {
    await using cluster = await startCluster();
    const streams = (prefix: string) => Array.from({ length: 5 }, (_, i) => `${prefix}-${i}`);

    await t.step("lost while the group waits for its stream locks: nothing was sent to commit", async () => {
      const schema = "lost_locking";
      const errors = await lostGroup(
        cluster,
        schema,
        streams("a"),
        (sql) =>
          sql`SELECT pg_advisory_xact_lock(${STREAM_LOCK_CLASS}::integer, hashtext(${`${schema}.a-0`}))`,
        "%pg_advisory_xact_lock%",
      );
      for (const error of errors) assert.equal(error.mayHaveCommitted, false, Deno.inspect(error));
    });

    await t.step(
      "lost during the grouped insert and COMMIT: each caller hears it may have committed",
      async () => {
        const schema = "lost_committing";
        // The group's insert waits for this uncommitted row of one of its new streams.
        const errors = await lostGroup(
          cluster,
          schema,
          streams("b"),
          (sql) => sql`INSERT INTO ${sql(schema)}.streams (stream) VALUES ('b-0')`,
          "%json_to_recordset%",
        );
        for (const error of errors) assert.equal(error.mayHaveCommitted, true, Deno.inspect(error));
      },
    );
  },
});
