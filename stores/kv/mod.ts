/**
 * The Deno KV store: a local file (`--unstable-kv`), Deno Deploy, or a self-hosted denokv
 * over KV Connect, on `Deno.openKv`.
 *
 * - Commit-checked transactions on `atomic()`: a conflict surfaces at commit, the store
 *   retries or reports a `ConcurrencyError`; in-transaction listeners are refused.
 * - Positions count up in commit order, guarded by the versionstamp of one head key that
 *   every commit of events checks: a log read never skips a commit, across processes.
 * - KV's limits are handled: values over 64 KiB are chunked; an append over one atomic's
 *   1000 mutations or 800 KiB is written in several and made visible at once; what must
 *   commit in one atomic and cannot is refused with a `RangeError` naming the limit.
 * - Other processes' commits are seen through {@linkcode KvAdapter.watch} (`kv.watch`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { KvAdapter } from "@eventfold/eventfold/kv";
 *
 * const events = new EventFactory([event.type("user:created")]);
 * await using store = new EventStore({ adapter: new KvAdapter(":memory:"), events });
 * await store.pushEvent(store.event({ type: "user:created", stream: "u1" }));
 * assert((await store.stats()).events === 1);
 * ```
 *
 * @module
 */

export { KvAdapter, type KvAdapterOptions } from "./kv_adapter.ts";
export type { KvSource } from "./_open.ts";
export type { KvTransaction } from "./_transaction.ts";
export { cborCodec, type Codec, jsonCodec } from "../codec.ts";
// The contract types the adapter's signatures use, so their docs are reachable from here.
export type * from "../../contract/types.ts";
