/**
 * The in-memory store: the whole store contract, held in memory. For tests, examples and
 * short-lived processes.
 *
 * ```ts
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const events = new EventFactory([event.type("tick")]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * await store.pushEvent(store.event({ type: "tick" }));
 * ```
 *
 * @module
 */

export { MemoryAdapter, type MemoryTransaction } from "./memory_adapter.ts";
// The contract types the adapter's signatures use, so their docs are reachable from here.
export type * from "../../contract/types.ts";
