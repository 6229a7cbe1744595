/**
 * Helpers shared by the sync tests: a node (a store with a `once`-handler projector), an
 * HTTP server for a handler, and a handler that drops connections at random.
 *
 * @module
 */

import { z } from "zod";
import { type Clock, event, EventFactory, EventStore, Projector } from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { hlc, syncHandler, type SyncHandlerOptions } from "../sync/mod.ts";

/** The events of the sync tests: `Date` and `bigint` payloads, to see them survive. */
export const events = new EventFactory([
  event.type("note:added").data(z.object({ text: z.string(), at: z.date(), n: z.bigint() })),
  event.type("note:edited").data(z.object({ text: z.string() })),
]);
/** The events. */
export type Events = typeof events;

/** A store with a projector whose `once` handlers note the ids they saw. */
export interface Node extends AsyncDisposable {
  readonly name: string;
  readonly store: EventStore<Events>;
  /** Ids of the events `once` handlers fired for. */
  readonly once: Set<string>;
  /** Ids of the events written here. */
  readonly written: Set<string>;
  /** Writes `count` events, `batch` per call, to the node's own streams and shared ones. */
  write(count: number, batch?: number): Promise<void>;
}

/**
 * A node on a SQLite file (`path`) or in memory.
 *
 * @param name the node's name (its hlc node)
 * @param path a SQLite file, or undefined for memory
 * @param clock its clock (an hlc of the node by default)
 * @returns the node
 */
export function node(name: string, path?: string, clock: Clock = hlc({ node: name })): Node {
  const store = new EventStore({
    adapter: path === undefined ? new MemoryAdapter() : new SqliteAdapter(path),
    events,
    clock,
  });
  const once = new Set<string>();
  const written = new Set<string>();
  const projector = new Projector<Events>();
  projector.once("note:added", (record) => void once.add(record.id));
  projector.once("note:edited", (record) => void once.add(record.id));
  store.onEventsInserted(async (records, { hydrated }) => {
    for (const record of records) await projector.push(record, { hydrated, outdated: record.outdated });
  });
  let i = 0;
  return {
    name,
    store,
    once,
    written,
    async write(count: number, batch = 1): Promise<void> {
      for (let done = 0; done < count; done += batch) {
        const made = [];
        for (let k = 0; k < Math.min(batch, count - done); k++, i++) {
          const stream = i % 3 === 0 ? `shared-${i % 4}` : `${name}-${i % 5}`;
          made.push(
            i % 2 === 0
              ? store.event({
                type: "note:added",
                stream,
                data: { text: `${name} ${i}`, at: new Date(i), n: BigInt(i) },
              })
              : store.event({ type: "note:edited", stream, data: { text: `${name} ${i}` } }),
          );
        }
        const stored = await store.pushManyEvents(made);
        for (const record of stored) written.add(record.id);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      }
    },
    [Symbol.asyncDispose]: () => store.close(),
  };
}

/** A running HTTP server. */
export interface Served extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves a store's `syncHandler` on 127.0.0.1; closing it ends the long polls under way
 * first (the handler's `signal`), so the shutdown does not wait for them.
 *
 * @param store the store
 * @param options the handler's options
 * @param port a port, or 0 for any
 * @returns the server
 */
export function serveStore(
  store: EventStore<Events>,
  options: Omit<SyncHandlerOptions, "signal"> = {},
  port = 0,
): Served {
  const stopping = new AbortController();
  const served = serve(syncHandler(store, { ...options, signal: stopping.signal }), port);
  const close = () => {
    stopping.abort();
    return served.close();
  };
  return { url: served.url, port: served.port, close, [Symbol.asyncDispose]: close };
}

/**
 * Serves a handler on 127.0.0.1.
 *
 * @param handler the handler
 * @param port a port, or 0 for any
 * @returns the server
 */
export function serve(handler: (request: Request) => Response | Promise<Response>, port = 0): Served {
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handler);
  let closed: Promise<void> | undefined;
  const close = () => closed ??= server.shutdown();
  return {
    url: `http://127.0.0.1:${server.addr.port}/sync`,
    port: server.addr.port,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A TCP proxy that drops connections in the middle of a response. */
export interface CuttingProxy extends AsyncDisposable {
  /** Its URL for the sync handler (`http://127.0.0.1:<port>/sync`). */
  readonly url: string;
  /** How many responses it cut. */
  cuts(): number;
}

/**
 * Proxies 127.0.0.1:(a free port) to `target`; now and then it forwards half of a chunk
 * the server sends and closes both connections: the client sees its connection drop in
 * the middle of the response (after the server did the work: a push's import committed,
 * its reply lost).
 *
 * @param target the server's port
 * @param rate the share of server chunks cut (0..1)
 * @returns the proxy
 */
export function cuttingProxy(target: number, rate: number): CuttingProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.TcpConn>();
  const tasks = new Set<Promise<void>>();
  let cuts = 0;
  const close = (conn: Deno.TcpConn) => {
    if (open.delete(conn)) {
      try {
        conn.close();
      } catch { /* closed already */ }
    }
  };
  const pipe = async (from: Deno.TcpConn, to: Deno.TcpConn, cutting: boolean) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        const cut = cutting && n > 1 && Math.random() < rate;
        const end = cut ? Math.floor(n / 2) : n;
        for (let sent = 0; sent < end;) sent += await to.write(buffer.subarray(sent, end));
        if (cut) {
          cuts++;
          break;
        }
      }
    } catch { /* the other side went away */ }
    close(from);
    close(to);
  };
  const accepting = (async () => {
    for await (const client of listener) {
      const task = (async () => {
        let server: Deno.TcpConn;
        try {
          server = await Deno.connect({ hostname: "127.0.0.1", port: target });
        } catch {
          client.close();
          return;
        }
        open.add(client);
        open.add(server);
        await Promise.all([pipe(client, server, false), pipe(server, client, true)]);
      })();
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/sync`,
    cuts: () => cuts,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of [...open]) close(conn);
      await Promise.all(tasks);
    },
  };
}

/**
 * Waits until `check` holds, polling.
 *
 * @param check the condition
 * @param timeout ms
 * @param what for the failure message
 */
export async function until(check: () => Promise<boolean>, timeout: number, what: string): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The ids a store holds, sorted.
 *
 * @param store the store
 * @returns the ids
 */
export async function ids(store: EventStore<Events>): Promise<string[]> {
  return (await store.getEvents()).map((r) => r.id).sort();
}
