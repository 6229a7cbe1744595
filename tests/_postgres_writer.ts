/**
 * Concurrent writers for the PostgreSQL concurrency test, usable in-process or as a
 * separate process:
 *
 * `deno run -A tests/_postgres_writer.ts <url> <schema> <writers> <events per writer> <streams>`
 *
 * Each writer has its own connection and appends batches of 1 to 20 events to streams
 * picked at random from a pool shared by every writer (and process), sometimes holding
 * its transaction open a while before committing, so commits land out of position order.
 * Prints `{"written": n}` when done.
 *
 * @module
 */

import { event, EventFactory, EventStore } from "../mod.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { delay } from "../async.ts";

/** The events the writers append. */
export const writerEvents = new EventFactory([event.type("tick"), event.type("tock")]);

/**
 * Runs `writers` writers, each appending `perWriter` events.
 *
 * @returns how many events were appended
 */
export async function runWriters(
  url: string,
  schema: string,
  writers: number,
  perWriter: number,
  streams: number,
): Promise<number> {
  const counts = await Promise.all(Array.from({ length: writers }, async () => {
    const adapter = new PostgresAdapter({ ...connectionOf(url), max: 1 }, { schema });
    const store = new EventStore({ adapter, events: writerEvents });
    store.onEventsInserting(async () => {
      // Inside the transaction, after the insert: the sequence numbers are taken and the
      // commit is held back, the case a naive reader by sequence gets wrong.
      const roll = Math.random();
      if (roll < 0.02) await delay(20 + Math.random() * 30);
      else if (roll < 0.3) await delay(Math.random() * 4);
    });
    let written = 0;
    try {
      while (written < perWriter) {
        const size = Math.min(perWriter - written, 1 + Math.floor(Math.random() * 20));
        const batch = Array.from({ length: size }, () =>
          store.event({
            type: Math.random() < 0.5 ? "tick" : "tock",
            stream: `s${Math.floor(Math.random() * streams)}`,
          }));
        written += (await store.pushManyEvents(batch)).length;
      }
    } finally {
      await store.close();
    }
    return written;
  }));
  return counts.reduce((a, b) => a + b, 0);
}

function connectionOf(
  url: string,
): { host: string; port: number; user: string; password?: string; database: string } {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: decodeURIComponent(parsed.pathname.slice(1)),
  };
}

if (import.meta.main) {
  const [url, schema, writers, perWriter, streams] = Deno.args;
  const written = await runWriters(url, schema, Number(writers), Number(perWriter), Number(streams));
  console.log(JSON.stringify({ written }));
}
