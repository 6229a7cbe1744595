/**
 * The client side of sync: a store behind a `syncHandler`, reached over HTTP.
 *
 * @module
 */

import type { PullQuery, PushQuery, PushResult, SyncBatch, SyncEndpoint } from "./endpoint.ts";
import { SyncRequestError, SyncTransportError } from "./errors.ts";
import { CBOR, mediaType, NDJSON, parseBatch, toCbor, toNdjson } from "./_wire.ts";

/** Options of {@linkcode remote}. */
export interface RemoteOptions {
  /**
   * Its identity in sync, which names the checkpoint a local target keeps of it
   * (`sync:<id>`); the URL by default. Give one when the server may move (another host or port).
   */
  readonly id?: string;
  /** Headers sent with every request (`authorization`, say). */
  readonly headers?: HeadersInit;
  /** The wire form: `"cbor"` (the default; keeps every payload value) or `"ndjson"`. */
  readonly format?: "cbor" | "ndjson";
  /** The `fetch` to use (the global one by default). */
  readonly fetch?: typeof fetch;
  /**
   * How long (ms) a request may take, beyond the `wait` of a long poll, before it counts
   * as a failed transport (sync then tries again): a connection that went silent never
   * holds a sync up. 30,000 by default.
   */
  readonly timeout?: number;
}

/**
 * A store behind a `syncHandler`, usable as `from` or `to` of `sync`. Its id is
 * the URL unless `id` is given (the checkpoint a local target keeps of it is `sync:<id>`).
 *
 * @param url where the handler is served
 * @param options `id`, `headers`, `format`, `fetch`, `timeout`
 * @returns the endpoint
 * @throws {TypeError} for a URL that does not parse, an empty id, an unknown format or a timeout that is no number
 * @throws {RangeError} for a timeout that is not a whole number of ms in range
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { remote } from "@eventfold/eventfold/sync";
 * const server = remote("http://127.0.0.1:8000/sync", { headers: { authorization: "Bearer t" } });
 * assert.equal(server.id, "http://127.0.0.1:8000/sync");
 * ```
 */
export function remote(url: string | URL, options: RemoteOptions = {}): SyncEndpoint {
  const base = new URL(url);
  base.search = "";
  base.hash = "";
  if (options.id !== undefined && (typeof options.id !== "string" || options.id === "")) {
    throw new TypeError("remote() id must be a non-empty string");
  }
  const format = options.format ?? "cbor";
  if (format !== "cbor" && format !== "ndjson") {
    throw new TypeError(`remote() format must be "cbor" or "ndjson", got ${JSON.stringify(format)}`);
  }
  const type = format === "cbor" ? CBOR : NDJSON;
  const call = options.fetch ?? fetch;
  const timeout = options.timeout ?? 30_000;
  if (typeof timeout !== "number") {
    throw new TypeError(`remote() timeout must be a number, got ${typeof timeout}`);
  }
  if (!Number.isSafeInteger(timeout) || timeout < 1 || timeout > MAX_TIMER_MS) {
    throw new RangeError(
      `remote() timeout must be a whole number of ms from 1 to ${MAX_TIMER_MS}, got ${timeout}`,
    );
  }
  const send = async (
    target: URL,
    init: RequestInit,
    ms: number,
    caller?: AbortSignal,
  ): Promise<Response> => {
    let response: Response;
    try {
      response = await call(target, init);
    } catch (error) {
      throw new SyncTransportError(
        `${init.method} ${base.href} failed: ${failure(error, ms, caller)}`,
        error,
      );
    }
    if (response.status >= 400) {
      const text = await response.text().catch(() => "");
      let reason = text;
      try {
        reason = JSON.parse(text).error ?? text;
      } catch { /* not JSON: the text itself */ }
      const message = `${response.status} from ${base.href}: ${reason}`;
      if (response.status < 500) throw new SyncRequestError(response.status, message);
      throw new SyncTransportError(message);
    }
    return response;
  };
  /**
   * Sends one request and reads its reply with `read`, all within `timeout` ms beyond
   * `wait` (fetch aborts the reading of the body with the same signal).
   */
  const exchange = async <T>(
    params: Record<string, string>,
    init: RequestInit & { signal?: AbortSignal },
    read: (response: Response) => Promise<T>,
    wait = 0,
  ): Promise<T> => {
    const target = new URL(base);
    for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
    const headers = new Headers(options.headers);
    for (const [key, value] of new Headers(init.headers)) headers.set(key, value);
    const ms = Math.min(timeout + wait, MAX_TIMER_MS);
    const caller = init.signal;
    const expiry = new AbortController();
    const timer = setTimeout(() => expiry.abort(new DOMException("timed out", "TimeoutError")), ms);
    const stop = () => expiry.abort(caller?.reason);
    caller?.addEventListener("abort", stop);
    if (caller?.aborted) stop();
    try {
      const response = await send(target, { ...init, headers, signal: expiry.signal }, ms, caller);
      // A body cut short (a dropped connection) or too slow is a transport failure: sync tries again.
      try {
        return await read(response);
      } catch (error) {
        throw new SyncTransportError(
          `reading a reply of ${base.href} failed: ${failure(error, ms, caller)}`,
          error,
        );
      }
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener("abort", stop);
    }
  };
  return {
    id: options.id ?? base.href,
    async pull(query: PullQuery): Promise<SyncBatch> {
      const params: Record<string, string> = { peer: query.peer, limit: String(query.limit) };
      if (query.after !== null) params.after = query.after;
      const wait = query.wait !== undefined && query.wait > 0 ? Math.ceil(query.wait) : 0;
      if (wait > 0) params.wait = String(wait);
      return await exchange(
        params,
        { method: "GET", headers: { accept: type }, signal: query.signal },
        async (response) =>
          parseBatch(
            mediaType(response.headers.get("content-type") ?? type),
            new Uint8Array(await response.arrayBuffer()),
          ),
        wait,
      );
    },
    async push(batch: SyncBatch, query: PushQuery): Promise<PushResult> {
      const body = format === "cbor" ? toCbor(batch) : toNdjson(batch);
      const result = await exchange(
        { from: query.from },
        { method: "POST", headers: { "content-type": type }, body: body as BodyInit, signal: query.signal },
        (response) => response.json() as Promise<PushResult>,
      );
      return { imported: result.imported, skipped: result.skipped };
    },
    async checkpoint(from: string, signal?: AbortSignal): Promise<string | null> {
      const { position } = await exchange(
        { checkpoint: from },
        { method: "GET", signal },
        (response) => response.json() as Promise<{ position: string | null }>,
      );
      return position;
    },
  };
}

/** The longest a timer can wait (2^31 - 1 ms); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** Why a request failed, in words: its own timeout is named as such. */
function failure(error: unknown, ms: number, caller: AbortSignal | undefined): string {
  const name = (error as { name?: string } | null)?.name;
  if (caller?.aborted !== true && (name === "TimeoutError" || name === "AbortError")) {
    return `no complete reply within ${ms} ms`;
  }
  return (error as Error).message;
}
