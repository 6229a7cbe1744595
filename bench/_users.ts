/**
 * The event the store benchmarks write (`user:updated`, a small object), and the
 * single-append loop they time: one event per call, each with its expected revision.
 *
 * @module
 */

import type { EventStore } from "../stores/event_store.ts";
import type { Adapter } from "../contract/adapter.ts";
import type { EventFactory } from "../events/factory.ts";

/** The payload of the `i`-th `user:updated` event. */
export function payload(i: number): { name: string; email: string; age: number; tags: string[] } {
  return { name: `user ${i}`, email: `u${i}@example.com`, age: i % 90, tags: ["a", "b"] };
}

/**
 * Appends `appends` events one by one, over `streams` in turn, each expecting the
 * revision the stream is at.
 *
 * @param store a store with a `user:updated` event of {@linkcode payload}'s shape
 * @param streams the streams
 * @param appends how many
 * @returns appends per second
 */
export async function singleAppends(
  // deno-lint-ignore no-explicit-any
  store: EventStore<EventFactory<any>, Adapter>,
  streams: readonly string[],
  appends: number,
): Promise<number> {
  const revisions = new Map<string, number>();
  const started = performance.now();
  for (let n = 0; n < appends; n++) {
    const stream = streams[n % streams.length];
    const revision = revisions.get(stream) ?? 0;
    await store.pushEvent({ type: "user:updated", stream, data: payload(n) }, { expectedRevision: revision });
    revisions.set(stream, revision + 1);
  }
  return appends / ((performance.now() - started) / 1000);
}
