/**
 * The server side of sync: a `(Request) => Response` for `Deno.serve` over a store.
 *
 * @module
 */

import type { EventStore } from "../stores/event_store.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import type { Adapter } from "../contract/adapter.ts";
import { isEventStoreError } from "../errors.ts";
import { SUBJECT_FORGOTTEN } from "../events/system.ts";
import { CHECKPOINT_PREFIX, pullFrom, pushInto, type SyncBatch } from "./endpoint.ts";
import { BadBatchError, CBOR, isNdjson, mediaType, NDJSON, parseBatch, toCbor, toNdjson } from "./_wire.ts";

/** Options of {@linkcode syncHandler}. */
export interface SyncHandlerOptions {
  /**
   * Runs first for every request. `false` refuses it with 403, a throw with 401; either
   * way nothing is read or stored.
   */
  readonly authorize?: (request: Request) => boolean | Promise<boolean>;
  /** The most records a pull returns (`limit` above it is a 400); 5,000 by default. */
  readonly maxLimit?: number;
  /** The largest push body in bytes (413 above); 32 MiB by default. */
  readonly maxBody?: number;
  /**
   * The longest a pull with `wait` is held open waiting for new events (a longer `wait` is
   * cut to it); 30,000 ms by default, 0 to answer every pull at once.
   */
  readonly maxWait?: number;
  /**
   * Ends every long poll at once (each answers with what it has). Give it the signal the
   * server is shut down with: `server.shutdown()` waits for the requests under way.
   */
  readonly signal?: AbortSignal;
  /**
   * Whether a push may forget subjects here: a pushed `"$subject:forgotten"` record
   * destroys this store's key of its subject, which cannot be undone. `true` (the
   * default) takes every forget, `false` none; a function decides per subject and request.
   * A push holding a forget not taken is refused with 403, storing nothing.
   */
  readonly acceptForgets?: boolean | ((subject: string, request: Request) => boolean | Promise<boolean>);
}

/** Who may forget which subjects through pushes. */
type ForgetPolicy = Exclude<SyncHandlerOptions["acceptForgets"], undefined>;

/** A `Deno.serve` handler. */
export type SyncHandler = (request: Request) => Promise<Response>;

function isIdentity(value: string): boolean {
  if (value.length < 1 || value.length > 512) return false;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return false;
  return true;
}

/** What the store refuses of a push: the records are wrong for it, and sending them again changes nothing. */
const REFUSALS = new Set([
  "EventValidationError",
  "UnknownEventError",
  "StreamDeletedError",
  "TruncatedStreamError",
]);

class BadRequest extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function reply(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function identity(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || !isIdentity(value)) {
    throw new BadRequest(
      400,
      `"${name}" must be the id of the other side (1 to 512 characters, no controls)`,
    );
  }
  return value;
}

function accepted(request: Request): typeof NDJSON | typeof CBOR {
  const header = request.headers.get("accept");
  if (header === null || header.trim() === "") return NDJSON;
  for (const entry of header.split(",")) {
    const type = mediaType(entry);
    if (type === CBOR) return CBOR;
    if (isNdjson(type) || type === "*/*" || type === "application/*") return NDJSON;
  }
  throw new BadRequest(406, `Accept names neither ${NDJSON} nor ${CBOR}`);
}

/**
 * Serves a store to sync: pulls, pushes and checkpoints, as `remote()` speaks them.
 *
 * - `GET ?after=<position>&limit=<n>&peer=<id>&wait=<ms>`: one page of the log after
 *   `after` (from the start without it), at most `limit` records read (500 by default);
 *   with `wait`, a pull that finds nothing new is held open until the log grows or `wait`
 *   ms (at most `maxWait`) have passed (a long poll). As NDJSON (one
 *   record per line, payloads in tagged JSON, then `{"$end":true,"cursor":...,"count":n}`)
 *   or CBOR (`Accept: application/cbor`, one map `{ records, cursor, count }`). Records that
 *   came from `peer` and system events other than forgets are left out; `cursor` moves past them.
 * - `POST ?from=<id>` with such a batch (`Content-Type` NDJSON or CBOR): imports it (ids
 *   kept, hydrated, `outdated` decided here) in one transaction (a page with forgets in parts,
 *   each forget after the events before it), then moves the checkpoint
 *   `sync:<from>` to the batch's cursor; replies `{ imported, skipped }`.
 * - `GET ?checkpoint=<id>`: `{ position }` of the checkpoint `sync:<id>`.
 *
 * A bad request gets a 4xx with `{ error }` naming the reason and changes nothing: a
 * malformed body or query (400), a record the store's definitions refuse (422), an
 * unknown media type (406, 415), a body over `maxBody` (413), another method (405), a
 * forget that `acceptForgets` does not take (403).
 *
 * @param store the store served
 * @param options `authorize`, `maxLimit`, `maxBody`, `maxWait`, `signal`, `acceptForgets`
 * @returns the handler
 * @throws {TypeError} for a limit that is not a number
 * @throws {RangeError} for a limit that is not a whole number in range
 * @throws {TypeError} for an `authorize` that is not a function, a `signal` that is not an
 *   AbortSignal, or an `acceptForgets` that is neither a boolean nor a function
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { syncHandler } from "@eventfold/eventfold/sync";
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([event.type("tick")]) });
 * await store.pushEvent(store.event({ type: "tick", stream: "s" }));
 * const handler = syncHandler(store, { authorize: (request) => request.headers.get("authorization") === "Bearer t" });
 * const refused = await handler(new Request("http://x/?peer=me"));
 * assert.equal(refused.status, 403);
 * await refused.body?.cancel();
 * const page = await handler(new Request("http://x/?peer=me", { headers: { authorization: "Bearer t" } }));
 * assert.equal((await page.text()).split("\n").length, 3); // one record, the end line, ""
 * ```
 */
export function syncHandler<TEvents extends AnyEventFactory, TAdapter extends Adapter>(
  store: EventStore<TEvents, TAdapter>,
  options: SyncHandlerOptions = {},
): SyncHandler {
  const served = store as unknown as EventStore<AnyEventFactory>;
  const maxLimit = limitOption(options.maxLimit, 5000, "maxLimit", 1);
  const maxBody = limitOption(options.maxBody, 32 * 1024 * 1024, "maxBody", 1);
  const maxWait = limitOption(options.maxWait, 30_000, "maxWait", 0);
  const stopping = options.signal;
  if (stopping !== undefined && !(stopping instanceof AbortSignal)) {
    throw new TypeError("syncHandler() signal must be an AbortSignal");
  }
  const authorize = options.authorize;
  if (authorize !== undefined && typeof authorize !== "function") {
    throw new TypeError("syncHandler() authorize must be a function");
  }
  const forgets: ForgetPolicy = options.acceptForgets ?? true;
  if (typeof forgets !== "boolean" && typeof forgets !== "function") {
    throw new TypeError("syncHandler() acceptForgets must be a boolean or a function");
  }
  return async (request: Request): Promise<Response> => {
    try {
      if (authorize !== undefined) {
        let allowed: boolean;
        try {
          allowed = await authorize(request);
        } catch {
          return reply(401, { error: "not authorized" });
        }
        if (allowed !== true) return reply(403, { error: "forbidden" });
      }
      const params = new URL(request.url).searchParams;
      if (request.method === "GET") {
        const checkpoint = params.get("checkpoint");
        if (checkpoint !== null) {
          const name = CHECKPOINT_PREFIX + identity(params, "checkpoint");
          return reply(200, { position: (await served.checkpoints.get(name))?.position ?? null });
        }
        return await pull(served, request, params, { maxLimit, maxWait, stopping });
      }
      if (request.method === "POST") return await push(served, request, params, maxBody, forgets);
      await request.body?.cancel();
      return new Response(JSON.stringify({ error: `method ${request.method} not allowed` }), {
        status: 405,
        headers: { "content-type": "application/json", allow: "GET, POST" },
      });
    } catch (error) {
      await request.body?.cancel().catch(() => {});
      if (error instanceof BadRequest) return reply(error.status, { error: error.message });
      if (error instanceof BadBatchError) return reply(400, { error: error.message });
      if (isEventStoreError(error) && REFUSALS.has(error.name)) return reply(422, { error: error.message });
      if (error instanceof TypeError || error instanceof RangeError) {
        return reply(400, { error: error.message });
      }
      throw error;
    }
  };
}

function limitOption(value: number | undefined, fallback: number, name: string, min: number): number {
  const n = value ?? fallback;
  if (typeof n !== "number") throw new TypeError(`syncHandler() ${name} must be a number, got ${typeof n}`);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new RangeError(`syncHandler() ${name} must be a whole number >= ${min}, got ${n}`);
  }
  return n;
}

/** A whole number from a query parameter, or `fallback` when it is absent. */
function count(params: URLSearchParams, name: string, fallback: string, min: number, max: number): number {
  const text = params.get(name) ?? fallback;
  const n = /^[0-9]{1,20}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    throw new BadRequest(
      400,
      `"${name}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

interface PullLimits {
  readonly maxLimit: number;
  readonly maxWait: number;
  readonly stopping: AbortSignal | undefined;
}

async function pull(
  store: EventStore<AnyEventFactory>,
  request: Request,
  params: URLSearchParams,
  { maxLimit, maxWait, stopping }: PullLimits,
): Promise<Response> {
  const type = accepted(request);
  const peer = identity(params, "peer");
  const after = params.get("after");
  if (after !== null && (after === "" || after.length > 512 || after.includes("\u0000"))) {
    throw new BadRequest(400, `"after" must be a position this store gave, got ${JSON.stringify(after)}`);
  }
  const limit = count(params, "limit", "500", 1, maxLimit);
  // Any wait a client asks is accepted and cut to maxWait; only a malformed one is refused.
  const wait = Math.min(count(params, "wait", "0", 0, Number.MAX_SAFE_INTEGER), maxWait);
  let batch: SyncBatch;
  // A long poll ends when the client goes away or the server stops. The listeners go
  // before the reply does: Deno aborts `request.signal` after a reply too.
  const ending = new AbortController();
  const end = () => ending.abort();
  if (wait > 0) {
    request.signal.addEventListener("abort", end);
    stopping?.addEventListener("abort", end);
    if (request.signal.aborted || stopping?.aborted) end();
  }
  try {
    batch = await pullFrom(store, { after, limit, peer, wait, signal: ending.signal });
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new BadRequest(400, `"after" is not a position of this store: ${error.message}`);
    }
    throw error;
  } finally {
    // Only a long poll touches `request.signal` (Deno warns once of its legacy abort then).
    if (wait > 0) {
      request.signal.removeEventListener("abort", end);
      stopping?.removeEventListener("abort", end);
    }
  }
  const body = type === CBOR ? toCbor(batch) : toNdjson(batch);
  return new Response(body as BodyInit, { status: 200, headers: { "content-type": type } });
}

async function push(
  store: EventStore<AnyEventFactory>,
  request: Request,
  params: URLSearchParams,
  maxBody: number,
  forgets: ForgetPolicy,
): Promise<Response> {
  const from = identity(params, "from");
  const type = mediaType(request.headers.get("content-type") ?? "");
  if (type !== CBOR && !isNdjson(type)) {
    throw new BadRequest(415, `Content-Type must be ${NDJSON} or ${CBOR}, got ${JSON.stringify(type)}`);
  }
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > maxBody) throw new BadRequest(413, `the body is over the ${maxBody}-byte limit`);
  const body = await bounded(request, maxBody);
  const batch = parseBatch(type, body);
  if (forgets !== true) {
    for (const record of batch.records) {
      if (record.type !== SUBJECT_FORGOTTEN) continue;
      const subject = (record.data as { subject?: unknown } | null)?.subject;
      const taken = forgets !== false && typeof subject === "string" &&
        await (async () => await forgets(subject, request))().then((yes) => yes === true, () => false);
      if (!taken) throw new BadRequest(403, `forgetting ${JSON.stringify(subject)} is not accepted here`);
    }
  }
  return reply(200, await pushInto(store, batch, from));
}

async function bounded(request: Request, maxBody: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > maxBody) throw new BadRequest(413, `the body is over the ${maxBody}-byte limit`);
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
