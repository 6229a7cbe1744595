/**
 * The events of the sync example: a shared to-do list.
 *
 * @module
 */

import { z } from "zod";
import { event, EventFactory, EventStore, Projector } from "../../mod.ts";
import { SqliteAdapter } from "../../stores/sqlite/mod.ts";
import { KvAdapter } from "../../stores/kv/mod.ts";
import { hlc } from "../../sync/mod.ts";

/** A to-do added, and one done. */
export const events = new EventFactory([
  event.type("todo:added").data(z.object({ title: z.string() })),
  event.type("todo:done"),
]);

/** A node of the example: its store and how many times its `once` handler fired. */
export interface Node extends AsyncDisposable {
  readonly store: EventStore<typeof events>;
  /** Ids the `once` handler fired for (only events made on this node). */
  readonly notified: string[];
}

/**
 * Opens a node's store (Deno KV for a path ending in `.kv`, SQLite otherwise) with a
 * hybrid logical clock and a projector whose `once`
 * handler stands for a side effect (a notification) that only the node that made the event
 * may run.
 *
 * @param path the SQLite or KV file
 * @param node the node's name (its clock's node)
 * @returns the node
 */
export function open(path: string, node: string): Node {
  const adapter = path.endsWith(".kv") ? new KvAdapter(path) : new SqliteAdapter(path);
  const store = new EventStore({ adapter, events, clock: hlc({ node }) });
  const notified: string[] = [];
  const projector = new Projector<typeof events>();
  projector.once("todo:added", (record) => void notified.push(record.id));
  store.onEventsInserted(async (records, { hydrated }) => {
    for (const record of records) await projector.push(record, { hydrated, outdated: record.outdated });
  });
  return { store, notified, [Symbol.asyncDispose]: () => store.close() };
}
