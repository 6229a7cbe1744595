/**
 * A client of the sync example: `deno run -A examples/sync/client.ts <db> <node> <url> [to-dos...]`
 * opens its own store (Deno KV for a path ending in `.kv`, SQLite otherwise), adds the given to-dos offline (no network needed), then
 * syncs both ways with the server at `url` and prints, as JSON, what it holds and how many
 * times its `once` handler fired (only for the to-dos it added itself).
 *
 * @module
 */

import { local, remote, sync } from "../../sync/mod.ts";
import { open } from "./events.ts";

const [path, name, url, ...titles] = Deno.args;
if (url === undefined) {
  console.error("usage: client.ts <sqlite or .kv path> <node name> <server url> [to-do titles...]");
  Deno.exit(2);
}
await using node = open(path, name);
// Offline: writes go to the local store only.
for (const title of titles) {
  await node.store.pushEvent(node.store.event({ type: "todo:added", data: { title } }));
}
// Online: one pass each way. The id names this client's checkpoint at the server.
const me = local(node.store, { id: `client:${name}` });
const server = remote(url, {
  headers: { authorization: `Bearer ${Deno.env.get("SYNC_TOKEN") ?? "demo-token"}` },
});
const [pushed, pulled] = await Promise.all([sync({ from: me, to: server }), sync({ from: server, to: me })]);
const todos = (await node.store.getEvents()).filter((r) => r.type === "todo:added");
console.log(JSON.stringify({
  node: name,
  pushed: pushed.imported,
  pulled: pulled.imported,
  notified: node.notified.length,
  todos: todos.map((r) => r.data.title).sort(),
}));
