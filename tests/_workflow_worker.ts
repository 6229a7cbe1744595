/**
 * A worker process for the multi-process workflow tests: runs the order workflow of the
 * conformance cases (`testing/store/_orders.ts`, name `"orders"`) over a SQLite file or a
 * PostgreSQL schema until every one of the expected instances is final, then stops the run,
 * closes the store and exits 0. Its clock is a hand clock the parent moves: the ISO-8601
 * time written in `<clock file>`, read again every few ms.
 *
 * Usage: `deno run -A tests/_workflow_worker.ts <sqlite:PATH | postgres:SCHEMA> <clock file> <instances> [flags]`
 *
 * - `--slow MS`: each reaction waits up to MS ms (at random) after deciding, before its
 *   effects commit, so that commits of the inputs a batch handles concurrently spread out
 *   and a run can be killed in the middle of them;
 * - `--owner NAME`: the subscription's owner (shown in its lease).
 *
 * Stdout: `ready` once the run is started, `react <type> <key>` as each reaction starts,
 * `done {fired, instances}` (the timers this process fired, and `run.instances()`)
 * before exiting.
 *
 * @module
 */

import type { Adapter } from "../contract/mod.ts";
import type { Clock } from "../events/clock.ts";
import { EventStore } from "../stores/event_store.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import {
  type OrderEvents,
  orderEvents,
  type OrderInput,
  type OrderState,
  orderWorkflow,
} from "../testing/store/_orders.ts";
import { FINAL_STATUSES, Workflow } from "../workflows/workflow.ts";
import { PG_URL } from "./_postgres_env.ts";
import { delay } from "../async.ts";

/**
 * The adapter a target names.
 *
 * @param target `sqlite:PATH` or `postgres:SCHEMA`
 */
export function adapterFor(target: string): Adapter {
  if (target.startsWith("sqlite:")) return new SqliteAdapter(target.slice("sqlite:".length));
  if (target.startsWith("postgres:")) {
    return new PostgresAdapter(PG_URL, { schema: target.slice("postgres:".length) });
  }
  throw new TypeError(`unknown target ${target}`);
}

/**
 * Writes the time a worker's clock tells, atomically (a worker never reads half a time).
 *
 * @param file the clock file
 * @param now an ISO-8601 time
 */
export async function setClock(file: string, now: string): Promise<void> {
  await Deno.writeTextFile(`${file}.tmp`, now);
  await Deno.rename(`${file}.tmp`, file);
}

/** A clock that tells the time in `file`, as the parent last wrote it. */
function fileClock(file: string): Clock & { stop(): void } {
  let now = Deno.readTextFileSync(file).trim();
  let reading = false;
  const timer = setInterval(async () => {
    if (reading) return;
    reading = true;
    try {
      const text = (await Deno.readTextFile(file)).trim();
      if (text !== "") now = text;
    } catch {
      // Between the parent's write and rename: read it next time.
    } finally {
      reading = false;
    }
  }, 5);
  return { now: () => now, stop: () => clearInterval(timer) };
}

if (import.meta.main) {
  const [target, clockFile, expected, ...flags] = Deno.args;
  const instances = Number(expected);
  const flag = (name: string) => {
    const at = flags.indexOf(name);
    return at >= 0 ? flags[at + 1] : undefined;
  };
  const slow = Number(flag("--slow") ?? 0);
  const clock = fileClock(clockFile);
  const store = new EventStore({ adapter: adapterFor(target), events: orderEvents, clock });
  const base = orderWorkflow("orders").spec;
  const workflow = new Workflow<OrderEvents, OrderState, OrderInput>({
    ...base,
    react: async (state, record, ctx) => {
      console.log(`react ${record.type} ${ctx.key}`);
      await base.react(state, record, ctx);
      if (slow > 0) await delay(Math.random() * slow);
    },
  });
  const run = store.runWorkflow(workflow, {
    owner: flag("--owner"),
    pollInterval: 20,
    leaseInterval: 100,
    leaseTtl: 1000,
    backoff: 1,
    timerInterval: 10,
    onError: (error, context) => console.error(`${context.action}:`, error),
  });
  console.log("ready");
  for (;;) {
    const all = await run.instances();
    if (all.length === instances && all.every((instance) => FINAL_STATUSES.has(instance.status))) {
      const { timers } = await run.info();
      await run.stop();
      console.log(`done ${JSON.stringify({ fired: timers.fired, instances: all })}`);
      break;
    }
    await delay(50);
  }
  clock.stop();
  await store.close();
  Deno.exit(0);
}
