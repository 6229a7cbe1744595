/**
 * A writer process for tests/kv_processes_test.ts: appends to a KV file that another
 * process appends to at the same time (tests/_contending_writer.ts), every tenth round a
 * batch too big for one atomic (written past the head, then shown).
 *
 * Usage: `deno run -A tests/_kv_writer.ts <path> <name> <rounds> <start-at-ms>`
 *
 * @module
 */

import { EventStore } from "../stores/event_store.ts";
import { KvAdapter } from "../stores/kv/mod.ts";
import { contend, writerEvents } from "./_contending_writer.ts";

const [path, name, rounds, startAt] = Deno.args;
await using store = new EventStore({ adapter: new KvAdapter(path), events: writerEvents });
await store.stats();
await contend(store, name, { startAt: Number(startAt), rounds: Number(rounds), bigBatch: 400 });
