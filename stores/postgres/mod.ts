/**
 * The PostgreSQL store: many processes on many machines share one database. Appends
 * lock only the streams they write, a unique `(stream, revision)` constraint keeps
 * revisions contiguous, and the global log is read only below the oldest running
 * transaction, so a tailing reader never misses an event that commits late (a long
 * transaction makes readers wait; {@linkcode PostgresAdapter.lag} shows it).
 * `LISTEN/NOTIFY` wakes readers in other processes; they poll as well.
 *
 * The schema (default `eventfold`) is created and migrated on first use, safely when
 * many processes start at once. Payloads are CBOR in `bytea` by default, or JSON in
 * `jsonb`; the codec is recorded in the schema. Importing this module loads the
 * `postgres` driver; the core module does not.
 *
 * @example
 * ```ts ignore
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
 * import { z } from "zod";
 *
 * const events = new EventFactory([event.type("user:created").data(z.object({ name: z.string() }))]);
 * await using adapter = new PostgresAdapter("postgres://app@localhost:5432/app", { schema: "events" });
 * const store = new EventStore({ adapter, events });
 * await store.pushEvent(store.event({ type: "user:created", stream: "u1", data: { name: "Ada" } }));
 * console.log(await adapter.lag(null)); // { head, behind, waiting, heldBy }
 * ```
 *
 * @module
 */

export {
  PostgresAdapter,
  type PostgresAdapterOptions,
  type PostgresLag,
  type PostgresTarget,
} from "./postgres_adapter.ts";
export type {
  PostgresClient,
  PostgresClientOptions,
  PostgresFragment,
  PostgresOptions,
  PostgresRow,
  PostgresSql,
  PostgresTransactionSql,
} from "./client.ts";
export { formatPostgresPosition, parsePostgresPosition, type PostgresPosition } from "./position.ts";
export { cborCodec, type Codec, jsonCodec } from "../codec.ts";
// The contract types the adapter's signatures use, so their docs are reachable from here.
export type * from "../../contract/types.ts";
