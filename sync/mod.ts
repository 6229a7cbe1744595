/**
 * Live sync between stores. {@linkcode sync} replicates one store's log into another
 * through `import()` (ids kept, hydrated, `outdated` decided at the target), resumable
 * from a checkpoint kept at the target, once or live, both directions at once without
 * echo. {@linkcode syncHandler} serves a store to other nodes from `Deno.serve`, and
 * {@linkcode remote} is the client side of it. {@linkcode hlc} is a hybrid logical clock
 * for the stores' `clock` option, so `created` orders sensibly across nodes.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { hlc, remote, sync, syncHandler } from "@eventfold/eventfold/sync";
 *
 * const events = new EventFactory([event.type("note:added")]);
 * await using server = new EventStore({ adapter: new MemoryAdapter(), events, clock: hlc({ node: "server" }) });
 * await using phone = new EventStore({ adapter: new MemoryAdapter(), events, clock: hlc({ node: "phone" }) });
 * await using http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, syncHandler(server));
 * const url = `http://127.0.0.1:${http.addr.port}/`;
 *
 * await phone.pushEvent(phone.event({ type: "note:added", stream: "n1" }));
 * await sync({ from: phone, to: remote(url) }); // push
 * await sync({ from: remote(url), to: phone }); // pull: nothing comes back (no echo)
 * assert.equal((await server.getEvents()).length, 1);
 * assert.equal((await phone.getEvents()).length, 1);
 * ```
 *
 * @module
 */

export { sync, type SyncOptions, type SyncProgress, type SyncSide } from "./sync.ts";
export { type SyncHandler, syncHandler, type SyncHandlerOptions } from "./handler.ts";
export { remote, type RemoteOptions } from "./remote.ts";
export {
  local,
  type LocalOptions,
  type PullQuery,
  type PushQuery,
  type PushResult,
  type SyncBatch,
  type SyncEndpoint,
  type SyncRecord,
} from "./endpoint.ts";
export { isSyncRequestError, isSyncTransportError, SyncRequestError, SyncTransportError } from "./errors.ts";
export { hlc, type HlcOptions, type HybridLogicalClock, parseHlc } from "./hlc.ts";
// The core's types these refer to, for the documentation (the values come from the main export).
export type * from "../mod.ts";
