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
const handler = syncHandler(node.store, {
  authorize: (request) => request.headers.get("authorization") === `Bearer ${token}`,
});
const server = Deno.serve({ hostname: "127.0.0.1", port: Number(port), onListen() {} }, handler);
console.log(`listening on http://127.0.0.1:${server.addr.port}/sync`);
const stop = Promise.withResolvers<void>();
Deno.addSignalListener("SIGTERM", () => stop.resolve());
Deno.addSignalListener("SIGINT", () => stop.resolve());
await stop.promise;
await server.shutdown();
console.log(`server holds ${(await node.store.getEvents()).length} events`);
