/**
 * A writer process for tests/sqlite_processes_test.ts: appends to a SQLite file that
 * another process appends to at the same time (tests/_contending_writer.ts).
 *
 * Usage: `deno run -A tests/_sqlite_writer.ts <path> <name> <rounds> <start-at-ms>`
 *
 * @module
 */

import { EventStore } from "../stores/event_store.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { contend, writerEvents } from "./_contending_writer.ts";

const [path, name, rounds, startAt] = Deno.args;
await using store = new EventStore({ adapter: new SqliteAdapter(path), events: writerEvents });
await contend(store, name, { startAt: Number(startAt), rounds: Number(rounds) });
