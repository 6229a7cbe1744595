/**
 * The SQLite store, the embedded default: one file, no server, several processes may
 * append to it at once. Built on `node:sqlite` (part of Deno); a database opened with
 * `@db/sqlite` or `better-sqlite3` can be handed in instead.
 *
 * - Payloads are CBOR by default (`Date`, `bigint`, `Map`, `Set`, `Uint8Array` survive),
 *   JSON on request; the codec is recorded in the file.
 * - WAL with `BEGIN IMMEDIATE` writers and a busy timeout. Durability `"normal"`
 *   (default, `synchronous=NORMAL`): a commit survives the process crashing; a power loss
 *   may lose the last commits, never the file. `"full"` (`synchronous=FULL`): a commit
 *   survives a power loss too.
 * - Another process's writes are seen through {@linkcode SqliteAdapter.watch} (a cheap
 *   `PRAGMA data_version` check while someone watches) or by polling positions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { SqliteAdapter } from "@eventfold/eventfold/sqlite";
 *
 * const events = new EventFactory([event.type("user:created")]);
 * await using store = new EventStore({ adapter: new SqliteAdapter(":memory:"), events });
 * await store.pushEvent(store.event({ type: "user:created", stream: "u1" }));
 * assert((await store.stats()).events === 1);
 * ```
 *
 * @module
 */

export { SqliteAdapter, type SqliteAdapterOptions } from "./sqlite_adapter.ts";
export type { SqliteDatabase, SqliteStatement, SqliteValue } from "./database.ts";
export { SCHEMA_VERSION } from "./schema.ts";
export { cborCodec, type Codec, jsonCodec } from "../codec.ts";
// The contract types the adapter's signatures use, so their docs are reachable from here.
export type * from "../../contract/types.ts";
