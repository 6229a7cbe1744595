/**
 * The server of the sync example: `deno run -A examples/sync/server.ts <db> [port]` serves
 * a SQLite store to sync clients on 127.0.0.1, prints its URL, and on SIGTERM or SIGINT
 * stops and prints how many events it holds.
 *
 * @module
 */

import { syncHandler } from "../../sync/mod.ts";
import { open } from "./events.ts";

const [path, port = "0"] = Deno.args;
if (path === undefined) {
  console.error("usage: server.ts <sqlite path> [port]");
  Deno.exit(2);
}
await using node = open(path, "server");
const token = Deno.env.get("SYNC_TOKEN") ?? "demo-token";
// One signal stops the server and ends the clients' long polls, so the shutdown does not wait for them.
const stopping = new AbortController();
const handler = syncHandler(node.store, {
  authorize: (request) => request.headers.get("authorization") === `Bearer ${token}`,
  signal: stopping.signal,
});
const server = Deno.serve(
  { hostname: "127.0.0.1", port: Number(port), signal: stopping.signal, onListen() {} },
  handler,
);
console.log(`listening on http://127.0.0.1:${server.addr.port}/sync`);
Deno.addSignalListener("SIGTERM", () => stopping.abort());
Deno.addSignalListener("SIGINT", () => stopping.abort());
await server.finished;
console.log(`server holds ${(await node.store.getEvents()).length} events`);
