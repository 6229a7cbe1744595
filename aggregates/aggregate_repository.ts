/**
 * `store.aggregate`: loads aggregates (from snapshots and events), makes new ones and
 * saves several atomically.
 *
 * @module
 */

import type { AnyEventFactory } from "../events/factory.ts";
import type { EventRecord } from "../events/record.ts";
import type { FoldReader, FoldResult } from "../reducers/reduce.ts";
import { fold } from "../reducers/reduce.ts";
import type { AggregateStore } from "./aggregate_store.ts";
import type { AggregateClass, AggregateRoot } from "./aggregate_root.ts";
import { uuidv7 } from "../events/id.ts";
import type { SnapshotPolicy } from "../reducers/make_reducer.ts";

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
  readonly #store: AggregateStore<TEvents>;
  readonly #reader: FoldReader;
  readonly #autoSnapshot: boolean;

  /**
   * Creates it. The store makes its own; use `store.aggregate`.
   *
   * @param store the store
   * @param options `autoSnapshot`: the store was built with `snapshot: "auto"`; `reader`:
   * how folds read (default: the store's stream and log pages)
   */
  constructor(
    store: AggregateStore<TEvents>,
    options: { readonly autoSnapshot?: boolean; readonly reader?: FoldReader } = {},
  ) {
    this.#store = store;
    this.#autoSnapshot = options.autoSnapshot === true;
    this.#reader = options.reader ?? {
      stream: (stream, fromRevision) => store.readStreamPages(stream, { fromRevision }),
      log: (streams, after) => store.readAllPages({ streams, after }),
    };
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
    stream?: string,
  ): TAggregate {
    if (stream !== undefined && (typeof stream !== "string" || stream.length === 0)) {
      const got = stream === null
        ? "null"
        : typeof stream === "object"
        ? "an object"
        : JSON.stringify(stream);
      throw new TypeError(
        `store.aggregate.from(${Class.name}, stream) takes the stream id, a non-empty string; got ${got}. ` +
          `To make an aggregate from a snapshot object (valkyr's from(Class, snapshot)), use ` +
          `store.aggregate.fromSnapshot(${Class.name}, snapshot)`,
      );
    }
    return new Class(this.#store, stream ?? uuidv7());
  }

  /**
   * An aggregate restored from a state object, without reading the store: what
   * @valkyr/event-store's `aggregate.from(Class, snapshot)` did. The fields are given to
   * the aggregate's `restore()`; its stream is `options.stream`, else the object's string
   * `id`, else a new UUIDv7. It is at `options.revision` (default 0, a new stream): to
   * append to a stream that exists, load it with {@linkcode AggregateRepository.getByStream}.
   *
   * @param Class the aggregate class
   * @param snapshot the state, as the aggregate's own fields (`id` names the stream)
   * @param options the stream and the revision the state covers
   * @returns the aggregate
   * @throws {TypeError} when `snapshot` is not an object or the stream is not a non-empty string
   * @throws {RangeError} when the revision is not a whole number >= 0
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
   * }
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const counter = store.aggregate.fromSnapshot(Counter, { id: "c1", ticks: 3 });
   * assert(counter.id === "c1" && counter.ticks === 3 && counter.revision === 0);
   * ```
   */
  fromSnapshot<TAggregate extends AggregateRoot<TEvents>>(
    Class: AggregateClass<TEvents, TAggregate>,
    snapshot: object,
    options: { readonly stream?: string; readonly revision?: number } = {},
  ): TAggregate {
    if (typeof snapshot !== "object" || snapshot === null || Array.isArray(snapshot)) {
      throw new TypeError(
        `store.aggregate.fromSnapshot(${Class.name}, snapshot) needs a state object, got ${
          snapshot === null ? "null" : Array.isArray(snapshot) ? "an array" : typeof snapshot
        }`,
      );
    }
    const { id, ...state } = snapshot as Record<string, unknown>;
    const stream = options.stream ?? (typeof id === "string" && id.length > 0 ? id : uuidv7());
    if (typeof stream !== "string" || stream.length === 0) {
      throw new TypeError(`fromSnapshot: stream must be a non-empty string, got ${JSON.stringify(stream)}`);
    }
    const revision = options.revision ?? 0;
    if (!Number.isSafeInteger(revision) || revision < 0) {
      throw new RangeError(`fromSnapshot: revision must be a whole number >= 0, got ${revision}`);
    }
    const aggregate = new Class(this.#store, stream);
    aggregate.restore(state);
    if (revision > 0) aggregate.settle([[stream, revision]], false);
    return aggregate;
  }

  /**
   * Saves the aggregate's pushed events, then stores a snapshot of its stream (folded
   * afresh from the latest snapshot and the events after it), whatever the class's policy.
   * When the class keeps no snapshots nothing is saved.
   *
   * @param aggregate the aggregate (its class and stream)
   * @returns once the snapshot is stored
   * @throws {TypeError} when the class keeps no snapshots (no static `snapshot` and the
   *   store is not `snapshot: "auto"`): loads would never read it
   * @throws {ConcurrencyError} when the stream moved since the aggregate was loaded
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AggregateRoot, event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * class Counter extends AggregateRoot<typeof events> {
   *   static override readonly name = "counter";
   *   static readonly snapshot = "manual" as const;
   *   ticks = 0;
   *   with(): void { this.ticks++; }
   *   tick(): this { return this.push({ type: "tick" }); }
   * }
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.aggregate.from(Counter, "c1").tick().tick().snapshot();
   * assert((await store.adapter.getSnapshot("counter", "c1"))?.revision === 2);
   * ```
   */
  async snapshot(aggregate: AggregateRoot<TEvents>): Promise<void> {
    const Class = aggregate.constructor as AggregateClass<TEvents, AggregateRoot<TEvents>>;
    if (this.#policy(Class) === "never") {
      throw new TypeError(
        `${Class.name} keeps no snapshots, so loads would never read one: give the class ` +
          `static snapshot = "manual" (or { every: N }), or build the store with snapshot: "auto"`,
      );
    }
    if (aggregate.isDirty) await this.save(aggregate);
    await this.#fold(Class, new Class(this.#store, aggregate.id), { stream: aggregate.id }, true);
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

  #policy(Class: AggregateClass<TEvents, AggregateRoot<TEvents>>): SnapshotPolicy | "never" {
    return Class.snapshot ?? (this.#autoSnapshot ? { every: 1 } : "never");
  }

  #fold<TAggregate extends AggregateRoot<TEvents>>(
    Class: AggregateClass<TEvents, TAggregate>,
    aggregate: TAggregate,
    source: { stream: string },
    force = false,
  ): Promise<FoldResult<TAggregate>> {
    return fold(
      this.#store.adapter,
      this.#reader,
      source,
      {
        name: Class.name,
        initial: () => aggregate,
        step: (state, record) => {
          state.with(record as never);
          return state;
        },
        version: Class.version ?? 1,
        snapshot: this.#policy(Class),
        save: (state) => state.snapshotState(),
        restore: (saved) => {
          aggregate.restore(saved);
          return aggregate;
        },
      },
      force,
    );
  }
}
