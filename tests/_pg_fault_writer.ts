/**
 * A writer process for the PostgreSQL fault tests: appends `count` events in small
 * batches to a schema, and keeps going through lost connections and server restarts by
 * appending the same batch again (same ids: an id already stored is skipped, so a batch
 * that did commit before its reply was lost is not stored twice).
 *
 * `deno run -A tests/_pg_fault_writer.ts <url> <schema> <name> <count>`
 *
 * Prints `ack <id> <id> ...` for each acknowledged batch, `retry <error>` for each failed
 * try, `uncaught <error>` for an uncaught error or unhandled rejection (which must not
 * happen), and `done <n>` at the end.
 *
 * @module
 */

import { EventFactory, EventStore } from "../mod.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { event } from "../events/event.ts";
import { z } from "zod";
import { delay } from "../async.ts";

/** The events the fault writers append. */
export const faultEvents = new EventFactory([
  event.type("item:added").data(z.object({ writer: z.string(), n: z.number().int() })),
]);

function line(text: string): void {
  console.log(text.replaceAll("\n", " "));
}

if (import.meta.main) {
  const [url, schema, name, count] = Deno.args;
  const total = Number(count);
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    line(`uncaught ${e.error?.stack ?? e.message}`);
  });
  globalThis.addEventListener("unhandledrejection", (e) => {
    if (e.defaultPrevented) return; // handled by the adapter's guard (stores/postgres/_driver_rejections.ts)
    e.preventDefault();
    line(`uncaught ${e.reason?.stack ?? e.reason}`);
  });
  const store = new EventStore({ adapter: new PostgresAdapter(url, { schema }), events: faultEvents });
  let written = 0;
  while (written < total) {
    const size = Math.min(total - written, 1 + Math.floor(Math.random() * 5));
    const batch = Array.from({ length: size }, (_, i) =>
      store.event({
        type: "item:added",
        stream: `${name}-${(written + i) % 7}`,
        data: { writer: name, n: written + i },
      }));
    for (let tries = 1;; tries++) {
      try {
        await store.pushManyEvents(batch);
        break;
      } catch (error) {
        line(`retry ${(error as Error)?.name}: ${(error as Error)?.message}`);
        await delay(Math.min(1000, 50 * tries));
      }
    }
    line(`ack ${batch.map((record) => record.id).join(" ")}`);
    written += size;
    await delay(5 + Math.random() * 10);
  }
  await store.close();
  line(`done ${written}`);
}
