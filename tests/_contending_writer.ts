/**
 * The loop of the writer processes of the multi-process tests (tests/_sqlite_writer.ts,
 * tests/_kv_writer.ts): batches to a stream both writers share and to one of its own,
 * then a claim on a contended stream expecting the revision it read (the other writer may
 * get there first); prints, as one JSON line, the ids it stored and how many
 * expected-revision conflicts it was told about.
 *
 * @module
 */

import { isConcurrencyError } from "../errors.ts";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import type { EventStore } from "../stores/event_store.ts";
import type { Adapter } from "../contract/adapter.ts";
import { delay } from "../async.ts";

/** The events the writers append. */
export const writerEvents = new EventFactory([event.type("written"), event.type("claimed")]);

/** Options of {@linkcode contend}. */
export interface ContendOptions {
  /** When (`Date.now()`) to begin: both writers begin together, so their appends overlap. */
  readonly startAt: number;
  /** Rounds to write. */
  readonly rounds: number;
  /** The size of every tenth round's shared batch (20 otherwise). */
  readonly bigBatch?: number;
}

/**
 * Runs the writer's rounds and prints what it stored.
 *
 * @param store the writer's store
 * @param name the writer's name (its own stream is `own-<name>`)
 * @param options when to begin, rounds, the big batch
 */
export async function contend(
  store: EventStore<typeof writerEvents, Adapter>,
  name: string,
  { startAt, rounds, bigBatch = 20 }: ContendOptions,
): Promise<void> {
  while (Date.now() < startAt) await delay(1);
  const ids: string[] = [];
  let conflicts = 0;
  for (let round = 0; round < rounds; round++) {
    const size = round % 10 === 9 ? bigBatch : 20;
    const batch = Array.from({ length: size }, () => store.event({ type: "written", stream: "shared" }));
    await store.pushManyEvents([...batch, store.event({ type: "written", stream: `own-${name}` })]);
    ids.push(...batch.map((e) => e.id));
    // Read the revision, then append expecting it: the other writer may get there first.
    const [last] = await store.getEventsByStreams(["contended"], { direction: "backward", limit: 1 });
    const claim = store.event({ type: "claimed", stream: "contended" });
    try {
      await store.pushEvent(claim, { expectedRevision: last?.revision ?? 0 });
      ids.push(claim.id);
    } catch (error) {
      if (!isConcurrencyError(error)) throw error;
      conflicts++;
    }
  }
  console.log(JSON.stringify({ name, ids, conflicts }));
}
