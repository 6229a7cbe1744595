/**
 * Part two of the evolution example: `deno run -A examples/evolution/read_v3.ts <db>`
 * opens the file written by `write_v1.ts` with today's definitions and prints the users
 * as JSON. The stored records are not rewritten: each read upcasts them to version 3.
 *
 * @module
 */

import { EventStore } from "../../mod.ts";
import { SqliteAdapter } from "../../stores/sqlite/mod.ts";
import { eventsV3 } from "./events_v3.ts";
import { usersOf } from "./users.ts";

const path = Deno.args[0];
if (path === undefined) {
  console.error("usage: read_v3.ts <sqlite path>");
  Deno.exit(2);
}
await using store = new EventStore({ adapter: new SqliteAdapter(path), events: eventsV3 });
console.log(JSON.stringify(usersOf(await store.getEvents()), null, 2));
