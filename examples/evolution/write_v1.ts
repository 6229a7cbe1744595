/**
 * Part one of the evolution example: `deno run -A examples/evolution/write_v1.ts <db>`
 * writes a few users to a SQLite file the way version-1 code did.
 *
 * @module
 */

import { EventStore } from "../../mod.ts";
import { SqliteAdapter } from "../../stores/sqlite/mod.ts";
import { eventsV1 } from "./events_v1.ts";

const path = Deno.args[0];
if (path === undefined) {
  console.error("usage: write_v1.ts <sqlite path>");
  Deno.exit(2);
}
await using store = new EventStore({ adapter: new SqliteAdapter(path), events: eventsV1 });
const registered = await store.pushManyEvents([
  store.event({ type: "user:registered", stream: "user-1", data: { name: "Ada Lovelace" } }),
  store.event({ type: "user:registered", stream: "user-2", data: { name: "Alan Mathison Turing" } }),
  store.event({ type: "user:registered", stream: "user-3", data: { name: "Grace Hopper" } }),
]);
await store.pushEvent(store.event({ type: "user:deactivated", stream: "user-2" }));
console.log(`wrote ${registered.length} users at version 1`);
