/**
 * Cases of the IndexedDB adapter beyond the conformance suite, run in the page by
 * tests/_browser_runner.ts: commit-time conflicts between two adapters over one database
 * (as two tabs would open), which one store alone never meets (it serialises the appends
 * of a stream itself).
 *
 * @module
 */

import assert from "node:assert/strict";
import { event, EventFactory, EventStore, isConcurrencyError } from "../mod.ts";
import { IndexedDbAdapter } from "../stores/browser/mod.ts";

const events = new EventFactory([event.type("tick")]);

/** One case: its name (after the suite's prefix) and body. */
export interface BrowserCase {
  readonly name: string;
  readonly fn: () => Promise<void>;
}

/** `count` stores, each on its own adapter over one fresh database. */
function tabs(count: number): EventStore<typeof events>[] {
  const name = `tabs-${crypto.randomUUID()}`;
  return Array.from({ length: count }, () => new EventStore({ adapter: new IndexedDbAdapter(name), events }));
}

async function closeAll(stores: readonly EventStore<typeof events>[]): Promise<void> {
  for (const store of stores) await store.close();
}

/** The cases. */
export const browserCases: readonly BrowserCase[] = [
  {
    name:
      "two adapters over one database: of two appends expecting a new stream, one lands and one gets a ConcurrencyError",
    fn: async () => {
      const stores = tabs(2);
      try {
        for (let round = 0; round < 10; round++) {
          const stream = `s${round}`;
          const outcomes = await Promise.allSettled(
            stores.map((store) =>
              store.pushEvent(store.event({ type: "tick", stream }), { expectedRevision: 0 })
            ),
          );
          const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
          assert.equal(lost.length, 1, `round ${round}: ${outcomes.map((o) => o.status).join(", ")}`);
          assert.ok(isConcurrencyError(lost[0].reason), String(lost[0].reason));
          assert.equal((await stores[1].getEventsByStreams([stream])).length, 1);
        }
      } finally {
        await closeAll(stores);
      }
    },
  },
  {
    name:
      "four adapters over one database appending with any revision at once: all land, revisions contiguous, positions in revision order",
    fn: async () => {
      const stores = tabs(4);
      try {
        // One append per adapter at a time: each round one commit wins and the others retry.
        const pushed = [];
        for (let round = 0; round < 5; round++) {
          pushed.push(
            ...await Promise.all(
              stores.map((store) => store.pushEvent(store.event({ type: "tick", stream: "s" }))),
            ),
          );
        }
        const stream = await stores[0].getEventsByStreams(["s"]);
        assert.deepEqual(
          stream.map((record) => record.revision),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        assert.deepEqual(
          new Set(stream.map((record) => record.id)),
          new Set(pushed.map((record) => record.id)),
        );
        const positions = stream.map((record) => record.position);
        assert.deepEqual([...positions].sort(), positions);
        assert.equal((await stores[3].stats()).events, 20);
      } finally {
        await closeAll(stores);
      }
    },
  },
  {
    name:
      "four adapters each appending ten events to one stream at once, without rounds: all land, contiguous, none gives up",
    fn: async () => {
      const stores = tabs(4);
      try {
        // Each adapter's store serialises its own ten; the four adapters race at every commit.
        const pushed = (await Promise.all(
          stores.map((store) =>
            Promise.all(
              Array.from({ length: 10 }, () => store.pushEvent(store.event({ type: "tick", stream: "hot" }))),
            )
          ),
        )).flat();
        const stream = await stores[1].getEventsByStreams(["hot"]);
        assert.deepEqual(
          stream.map((record) => record.revision),
          Array.from({ length: 40 }, (_, i) => i + 1),
        );
        assert.deepEqual(
          new Set(stream.map((record) => record.id)),
          new Set(pushed.map((record) => record.id)),
        );
      } finally {
        await closeAll(stores);
      }
    },
  },
];
