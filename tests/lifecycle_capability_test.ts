/**
 * The stream lifecycle part of the adapter contract is optional: a store over an adapter
 * without it refuses the lifecycle calls with a `TypeError` that names the adapter, and
 * writes nothing.
 */
import assert from "node:assert/strict";
import { event, EventFactory, EventStore } from "../mod.ts";
import { CommitCheckedAdapter } from "./_commit_checked_adapter.ts";

Deno.test("deleteStream, truncateStream and streamStatus on an adapter without lifecycle support are TypeErrors", async () => {
  const adapter = new CommitCheckedAdapter();
  assert.equal("streamStatus" in adapter, false, "the test adapter has no lifecycle part");
  await using store = new EventStore({ adapter, events: new EventFactory([event.type("tick")]) });
  await store.pushEvent(store.event({ type: "tick", stream: "s" }));
  const refused = (error: unknown) =>
    error instanceof TypeError && /stream lifecycle support; the \S+ adapter has none/.test(error.message);
  await assert.rejects(store.deleteStream("s"), refused);
  await assert.rejects(store.truncateStream("s", { before: 2 }), refused);
  await assert.rejects(store.streamStatus("s"), refused);
  assert.equal((await store.stats()).events, 1, "nothing was removed or written");
});
