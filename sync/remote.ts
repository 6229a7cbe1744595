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
}

/**
 * A store behind a `syncHandler`, usable as `from` or `to` of `sync`. Its id is
 * the URL unless `id` is given (the checkpoint a local target keeps of it is `sync:<id>`).
 *
 * @param url where the handler is served
 * @param options `id`, `headers`, `format`, `fetch`
 * @returns the endpoint
 * @throws {TypeError} for a URL that does not parse, an empty id or an unknown format
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
  const request = async (
    params: Record<string, string>,
    init: RequestInit & { signal?: AbortSignal },
  ): Promise<Response> => {
    const target = new URL(base);
    for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
    const headers = new Headers(options.headers);
    for (const [key, value] of new Headers(init.headers)) headers.set(key, value);
    let response: Response;
    try {
      response = await call(target, { ...init, headers });
    } catch (error) {
      throw new SyncTransportError(`${init.method} ${base.href} failed: ${(error as Error).message}`, error);
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
  // A body cut short (a dropped connection) is a transport failure: sync tries again.
  const read = async <T>(what: () => Promise<T>): Promise<T> => {
    try {
      return await what();
    } catch (error) {
      throw new SyncTransportError(
        `reading a reply of ${base.href} failed: ${(error as Error).message}`,
        error,
      );
    }
  };
  return {
    id: options.id ?? base.href,
    async pull(query: PullQuery): Promise<SyncBatch> {
      const params: Record<string, string> = { peer: query.peer, limit: String(query.limit) };
      if (query.after !== null) params.after = query.after;
      const response = await request(params, {
        method: "GET",
        headers: { accept: type },
        signal: query.signal,
      });
      return await read(async () =>
        parseBatch(
          mediaType(response.headers.get("content-type") ?? type),
          new Uint8Array(await response.arrayBuffer()),
        )
      );
    },
    async push(batch: SyncBatch, query: PushQuery): Promise<PushResult> {
      const body = format === "cbor" ? toCbor(batch) : toNdjson(batch);
      const response = await request({ from: query.from }, {
        method: "POST",
        headers: { "content-type": type },
        body: body as BodyInit,
        signal: query.signal,
      });
      const result = await read(() => response.json() as Promise<PushResult>);
      return { imported: result.imported, skipped: result.skipped };
    },
    async checkpoint(from: string, signal?: AbortSignal): Promise<string | null> {
      const response = await request({ checkpoint: from }, { method: "GET", signal });
      return (await read(() => response.json() as Promise<{ position: string | null }>)).position;
    },
  };
}
