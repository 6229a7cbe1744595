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
 * `CONNECTION_DESTROYED`, or the socket's `EPIPE` after the server hung up) to an address
 * a `PostgresAdapter` made a client for. Every call of the adapter awaits its queries, so
 * such a rejection comes from inside the driver; the loss itself is reported through the
 * adapter's calls (`ConnectionLostError`). An address stays watched after its adapter
 * closed: the rejection of a connection that died while the client ended arrives after
 * `end()` has returned. (A rejection of the same kind from an unawaited query of the
 * application's own postgres.js client to that server is then also marked handled.)
 * Clients a user passes in to an adapter never add an address. The listener is installed
 * when this module loads, so it runs before listeners added later.
 *
 * @module
 */

const CONNECTION_CODES = new Set(["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "EPIPE"]);

/** Addresses (`host:port`, or the socket path) adapters made clients for. */
const watched = new Set<string>();

/**
 * The addresses an error names. postgres.js names the socket's host and port, or, when
 * the socket is already gone (a connection closed while its queries were in flight), the
 * client's hosts and ports: arrays.
 */
function addressesOf(error: { address?: unknown; port?: unknown }): string[] {
  const hosts = Array.isArray(error.address) ? error.address : [error.address];
  const ports = Array.isArray(error.port) ? error.port : [error.port];
  return hosts.flatMap((host, i) => {
    if (typeof host !== "string") return [];
    const port = ports[i] ?? ports[0];
    return [port === undefined ? host : `${host}:${port}`];
  });
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
  return addressesOf(error).some((address) => watched.has(address));
}

/**
 * Watches the connections of a client an adapter made, for the rest of the process.
 *
 * @param hosts the client's hosts
 * @param ports the client's ports (one for all hosts, or one each)
 */
export function watchDriverConnections(hosts: readonly string[], ports: readonly number[]): void {
  hosts.forEach((host, i) => watched.add(host.startsWith("/") ? host : `${host}:${ports[i] ?? ports[0]}`));
}

globalThis.addEventListener?.("unhandledrejection", (event: PromiseRejectionEvent) => {
  if (isDriverConnectionNoise(event.reason)) event.preventDefault();
});
