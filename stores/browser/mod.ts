/**
 * The browser store: the whole store contract on IndexedDB, for pages, workers and
 * extensions, with the same `EventStore` as on the server. Its transactions are
 * commit-checked (IndexedDB commits on its own once control returns to the event loop):
 * a conflicting append surfaces at commit and the store retries or reports it, as
 * documented in `contract/adapter.ts`. This entry point imports no `node:` module.
 *
 * ```ts
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { IndexedDbAdapter } from "@eventfold/eventfold/browser";
 * const events = new EventFactory([event.type("tick")]);
 * if ("indexedDB" in globalThis) {
 *   await using store = new EventStore({ adapter: new IndexedDbAdapter("my-app"), events });
 *   await store.pushEvent(store.event({ type: "tick" }));
 * }
 * ```
 *
 * @module
 */

export { IndexedDbAdapter, type IndexedDbTransaction } from "./indexed_db_adapter.ts";
// The contract types the adapter's signatures use, so their docs are reachable from here.
export type * from "../../contract/types.ts";
