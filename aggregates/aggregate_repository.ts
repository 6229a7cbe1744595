/**
 * `store.aggregate`: loads aggregates (from snapshots and events), makes new ones and
 * saves several atomically.
 *
 * @module
 */

import type { AnyEventFactory } from "../events/factory.ts";
import type { EventRecord } from "../events/record.ts";
import type { FoldResult } from "../reducers/reduce.ts";
import { fold } from "../reducers/reduce.ts";
import type { EventStore } from "../stores/event_store.ts";
import type { AggregateClass, AggregateRoot } from "./aggregate_root.ts";
import { uuidv7 } from "../events/id.ts";

/**
 * Loads and saves aggregates of one store (reached as `store.aggregate`).
 *
 * @typeParam TEvents the event factory
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AggregateRoot, event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const events = new EventFactory([event.type("tick")]);
 * class Counter extends AggregateRoot<typeof events> {
 *   static override readonly name = "counter";
 *   ticks = 0;
 *   with(): void { this.ticks++; }
 *   tick(): this { return this.push({ type: "tick" }); }
 * }
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * await store.aggregate.from(Counter, "c1").tick().tick().save();
 * const counter = await store.aggregate.getByStream(Counter, "c1");
 * assert(counter?.ticks === 2 && counter.revision === 2);
 * ```
 */
export class AggregateRepository<TEvents extends AnyEventFactory> {
  readonly #store: EventStore<TEvents>;

  /**
   * Creates it. The store makes its own; use `store.aggregate`.
   *
   * @param store the store
   */
  constructor(store: EventStore<TEvents>) {
    this.#store = store;
  }

  /**
   * A new, empty aggregate (revision 0: saving it expects the stream not to exist).
   *
   * @param Class the aggregate class
   * @param stream its stream (a new UUIDv7 when left out)
   * @returns the aggregate
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AggregateRoot, event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * class Counter extends AggregateRoot<typeof events> {
   *   static override readonly name = "counter";
   *   ticks = 0;
   *   with(): void { this.ticks++; }
   *   tick(): this { return this.push({ type: "tick" }); }
   * }
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const counter = store.aggregate.from(Counter);
   * assert(counter.revision === 0 && counter.id.length === 36);
   * ```
   */
  from<TAggregate extends AggregateRoot<TEvents>>(
    Class: AggregateClass<TEvents, TAggregate>,
    stream: string = uuidv7(),
  ): TAggregate {
    return new Class(this.#store, stream);
  }

  /**
   * Loads an aggregate from its stream: its latest snapshot (same class version), then
   * the events after it. Remembers the revision for `save()`.
   *
   * @param Class the aggregate class
   * @param stream the stream
   * @returns the aggregate, or `undefined` when the stream has no events
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AggregateRoot, event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * class Counter extends AggregateRoot<typeof events> {
   *   static override readonly name = "counter";
   *   ticks = 0;
   *   with(): void { this.ticks++; }
   *   tick(): this { return this.push({ type: "tick" }); }
   * }
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.aggregate.from(Counter, "c1").tick().save();
   * assert((await store.aggregate.getByStream(Counter, "c1"))?.ticks === 1);
   * assert(await store.aggregate.getByStream(Counter, "c2") === undefined);
   * ```
   */
  async getByStream<TAggregate extends AggregateRoot<TEvents>>(
    Class: AggregateClass<TEvents, TAggregate>,
    stream: string,
  ): Promise<TAggregate | undefined> {
    const aggregate = new Class(this.#store, stream);
    const result = await this.#fold(Class, aggregate, { stream });
    if (result.state === undefined) return undefined;
    aggregate.settle([[stream, result.revision]], true);
    return aggregate;
  }

  /**
   * Loads an aggregate from every stream linked to a relation key, in position order.
   * Its `id` is the linked stream when there is exactly one, else the key; `save()`
   * expects each read stream to be at the revision it was read at.
   *
   * @param Class the aggregate class
   * @param key the relation key
   * @returns the aggregate, or `undefined` when the relation has no events
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AggregateRoot, event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * class Counter extends AggregateRoot<typeof events> {
   *   static override readonly name = "counter";
   *   ticks = 0;
   *   with(): void { this.ticks++; }
   *   tick(): this { return this.push({ type: "tick" }); }
   * }
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.aggregate.save(store.aggregate.from(Counter, "a").tick(), store.aggregate.from(Counter, "b").tick());
   * await store.relations.insertMany([{ key: "team", stream: "a" }, { key: "team", stream: "b" }]);
   * const team = await store.aggregate.getByRelation(Counter, "team");
   * assert(team?.id === "team" && team.ticks === 2);
   * ```
   */
  async getByRelation<TAggregate extends AggregateRoot<TEvents>>(
    Class: AggregateClass<TEvents, TAggregate>,
    key: string,
  ): Promise<TAggregate | undefined> {
    const streams = await this.#store.relations.getByKey(key);
    const aggregate = new Class(this.#store, streams.length === 1 ? streams[0] : key);
    const revisions = new Map<string, number>(streams.map((stream) => [stream, 0]));
    let any = false;
    for await (const record of this.#store.readAll({ streams })) {
      aggregate.with(record);
      revisions.set(record.stream, record.revision);
      any = true;
    }
    if (!any) return undefined;
    aggregate.settle(revisions, true);
    return aggregate;
  }

  /**
   * Saves the pushed events of several aggregates in one atomic call, each stream
   * guarded by the revision its aggregate was loaded at.
   *
   * @param aggregates the aggregates
   * @returns the stored records
   * @throws {ConcurrencyError} when any stream moved; nothing is saved
   * @throws {TypeError} when two of the aggregates expect one stream at different revisions
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AggregateRoot, ConcurrencyError, event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * class Counter extends AggregateRoot<typeof events> {
   *   static override readonly name = "counter";
   *   ticks = 0;
   *   with(): void { this.ticks++; }
   *   tick(): this { return this.push({ type: "tick" }); }
   * }
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const [a, b] = [store.aggregate.from(Counter, "a").tick(), store.aggregate.from(Counter, "b").tick()];
   * assert((await store.aggregate.save(a, b)).length === 2 && a.revision === 1);
   * // A new "a" expects the stream not to exist, so "c" is not saved either.
   * const again = store.aggregate.save(store.aggregate.from(Counter, "c").tick(), store.aggregate.from(Counter, "a").tick());
   * await assert.rejects(again, ConcurrencyError);
   * assert(await store.aggregate.getByStream(Counter, "c") === undefined);
   * ```
   */
  async save(...aggregates: AggregateRoot<TEvents>[]): Promise<EventRecord[]> {
    const events = aggregates.flatMap((aggregate) => aggregate.pending);
    if (events.length === 0) return [];
    const expectedRevision: Record<string, number | "any"> = {};
    for (const aggregate of aggregates) {
      for (const [stream, expected] of Object.entries(aggregate.expectedRevisions())) {
        const other = expectedRevision[stream];
        if (other !== undefined && other !== expected) {
          throw new TypeError(
            `Two aggregates saved together expect stream "${stream}" at different revisions (${other} and ${expected}); ` +
              "save one of them, reload the other",
          );
        }
        expectedRevision[stream] = expected;
      }
    }
    const records = await this.#store.pushManyEvents(events as never, { expectedRevision });
    const last = new Map<string, number>();
    for (const record of records) {
      last.set(record.stream, Math.max(last.get(record.stream) ?? 0, record.revision));
    }
    for (const aggregate of aggregates) {
      const own = aggregate.pending.map((event) => event.stream);
      aggregate.settle([...last].filter(([stream]) => own.includes(stream)), true);
    }
    return records;
  }

  #fold<TAggregate extends AggregateRoot<TEvents>>(
    Class: AggregateClass<TEvents, TAggregate>,
    aggregate: TAggregate,
    source: { stream: string },
  ): Promise<FoldResult<TAggregate>> {
    return fold(
      this.#store.adapter,
      {
        stream: (stream, fromRevision) => this.#store.readStreamPages(stream, { fromRevision }),
        log: (streams, after) => this.#store.readAllPages({ streams, after }),
      },
      source,
      {
        name: Class.name,
        initial: () => aggregate,
        step: (state, record) => {
          state.with(record as never);
          return state;
        },
        version: Class.version ?? 1,
        snapshot: Class.snapshot ?? "never",
        save: (state) => state.snapshotState(),
        restore: (saved) => {
          aggregate.restore(saved);
          return aggregate;
        },
      },
    );
  }
}
