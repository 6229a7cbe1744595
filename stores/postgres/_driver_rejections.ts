/**
 * A guard against one postgres.js defect. On every new connection the driver fetches the
 * server's array types from a promise that nothing awaits (`fetchArrayTypes()` returned
 * from a socket handler). When the connection dies during that query (a server restart,
 * a terminated backend, a network cut), the query's rejection escapes as an unhandled
 * rejection, which ends a Deno process. Turning `fetch_types` off is no way out: a
 * reserved connection then never opens (the driver skips the step that hands it over).
 *
 * The guard marks such a rejection handled, and only such a one: a connection error made
 * by the driver's own connection code (`CONNECTION_CLOSED`, `CONNECTION_ENDED`,
 * `CONNECTION_DESTROYED`, or the socket's `EPIPE` after the server hung up) while a client
 * made by a `PostgresAdapter` to that address is open. Every call of the adapter awaits
 * its queries, so such a rejection can only come from inside the driver; the loss itself
 * is reported through the adapter's calls (`ConnectionLostError`). Clients a user passes
 * in are never watched. The listener is installed when this module loads, so it runs
 * before listeners added later.
 *
 * @module
 */

const CONNECTION_CODES = new Set(["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "EPIPE"]);

/** Addresses (`host:port`, or the socket path) of the open clients adapters made, with counts. */
const watched = new Map<string, number>();

function addressOf(error: { address?: unknown; port?: unknown }): string | undefined {
  if (typeof error.address !== "string") return undefined;
  return error.port === undefined ? error.address : `${error.address}:${error.port}`;
}

/**
 * Whether a rejection is the driver's own, from a connection of a watched client.
 *
 * @param reason the rejection
 */
export function isDriverConnectionNoise(reason: unknown): boolean {
  if (watched.size === 0 || !(reason instanceof Error)) return false;
  const error = reason as Error & { code?: unknown; address?: unknown; port?: unknown };
  if (typeof error.code !== "string" || !CONNECTION_CODES.has(error.code)) return false;
  if (!/[\\/]postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? "")) return false;
  if (error.code === "EPIPE") return true; // the socket's own error carries no server address
  const address = addressOf(error);
  return address !== undefined && watched.has(address);
}

/**
 * Watches the connections of a client an adapter made.
 *
 * @param hosts the client's hosts
 * @param ports the client's ports (one for all hosts, or one each)
 * @returns a function that stops watching them (call it once the client has ended)
 */
export function watchDriverConnections(hosts: readonly string[], ports: readonly number[]): () => void {
  const addresses = hosts.map((host, i) => host.startsWith("/") ? host : `${host}:${ports[i] ?? ports[0]}`);
  for (const address of addresses) watched.set(address, (watched.get(address) ?? 0) + 1);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    for (const address of addresses) {
      const left = (watched.get(address) ?? 1) - 1;
      if (left > 0) watched.set(address, left);
      else watched.delete(address);
    }
  };
}

globalThis.addEventListener?.("unhandledrejection", (event: PromiseRejectionEvent) => {
  if (isDriverConnectionNoise(event.reason)) event.preventDefault();
});
