/**
 * The `EventStore`: one class holding the logic (validation, expected revisions,
 * idempotency, imports, hooks, reducers, aggregates, commands) over a storage
 * {@linkcode Adapter}.
 *
 * @module
 */

import { AggregateRepository } from "../aggregates/aggregate_repository.ts";
import {
  type Decide,
  type Decision,
  handleCommand,
  type HandleOptions,
  type HandleResult,
  type RejectionOf,
} from "../aggregates/handle.ts";
import type { AggregateClass, AggregateRoot } from "../aggregates/aggregate_root.ts";
import { StoreClosedError } from "../errors.ts";
import { type Clock, systemClock } from "../events/clock.ts";
import { type StreamDeletedRecord, SUBJECT_FORGOTTEN } from "../events/system.ts";
import {
  deleteStream,
  type DeleteStreamOptions,
  setStreamMetadata,
  streamStatus,
  type TruncateResult,
  truncateStream,
  type TruncateStreamOptions,
} from "./_lifecycle.ts";
import type { AnyEventFactory, EventInputOf, EventRecordOf, EventTypeOf } from "../events/factory.ts";
import { uuidv7 } from "../events/id.ts";
import type { EventRecord, PendingEvent } from "../events/record.ts";
import { makeReducer, type Reducer, type ReducerOptions } from "../reducers/make_reducer.ts";
import { fold, type FoldReader, type FoldResult, type FoldScope } from "../reducers/reduce.ts";
import { logPages, readOptions, streamName, streamPages } from "./_pages.ts";
import { Retention } from "./_retention.ts";
import { Workflow } from "../workflows/workflow.ts";
import { WorkflowRun, type WorkflowRunOptions } from "../workflows/workflow_run.ts";
import { validateEvent } from "../events/validate.ts";
import { scavenge, type ScavengeOptions, type ScavengeResult } from "./_scavenge.ts";
import { refusedListeners } from "./_append.ts";
import { Writer } from "./_writer.ts";
import { RecordReader } from "./_evolve.ts";
import { register } from "./_hook_queue.ts";
import type { ErrorListener, InsertedListener, ListenerRegistration } from "./hooks.ts";
import { checkEvent, checkName } from "./_input.ts";
import { StreamLocks } from "./_stream_locks.ts";
import { checkForgetRecord, forgetRecord, importWithForgets, isForgetRecord } from "./_forget.ts";
import { eventStatus } from "./_event_status.ts";
import { checkTelemetry, systemAttributes, tracedReads } from "./_telemetry.ts";
import { METRIC_NAMES, noTelemetry, type Telemetry } from "../contract/telemetry.ts";
import { subscriptionGauges } from "../projectors/_subscription_telemetry.ts";
import type {
  EventStatus,
  EventStoreOptions,
  ImportResult,
  InsertingListener,
  PushOptions,
  ReadAllOptions,
  ReadOptions,
  ReadStreamOptions,
  ReduceArgs,
} from "./event_store_options.ts";
import {
  type Adapter,
  type AdapterStats,
  type Checkpoint,
  isCommitChecked,
  type KeyStore,
  type StreamMetadata,
  type StreamStatus,
  type TransactionHandleOf,
} from "../contract/mod.ts";

/** The adapter as a key store, when it holds keys. */
function keyStoreOf(adapter: Adapter): KeyStore | undefined {
  return typeof adapter.getKeys === "function" && typeof adapter.createKey === "function" &&
      typeof adapter.deleteKey === "function"
    ? adapter as KeyStore
    : undefined;
}
import type { Projector } from "../projectors/projector.ts";
import { Subscription } from "../projectors/subscription.ts";
import { PartitionedSubscription } from "../projectors/partitioned_subscription.ts";
import type { SubscriptionOptions } from "../projectors/subscription_options.ts";

/**
 * An event store: typed events in, ordered records out, over a swappable adapter.
 *
 * @typeParam TEvents the event factory (`typeof events`)
 * @typeParam TAdapter the storage adapter
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { z } from "zod";
 *
 * const events = new EventFactory([event.type("user:created").data(z.object({ name: z.string() }))]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * const record = await store.pushEvent(store.event({ type: "user:created", stream: "u1", data: { name: "Ada" } }));
 * assert(record.revision === 1 && record.data.name === "Ada");
 * ```
 */
export class EventStore<TEvents extends AnyEventFactory, TAdapter extends Adapter = Adapter> {
  /** The storage adapter. */
  readonly adapter: TAdapter;
  /** The event definitions. */
  readonly events: TEvents;
  /** Loads and saves aggregates. */
  readonly aggregate: AggregateRepository<TEvents>;
  /** Relation keys that map to many streams. */
  readonly relations: {
    /** Links `key` to `stream`. */
    insert(key: string, stream: string): Promise<void>;
    /** Links many pairs. */
    insertMany(pairs: readonly { key: string; stream: string }[]): Promise<void>;
    /** Unlinks `key` from `stream`. */
    remove(key: string, stream: string): Promise<void>;
    /** Unlinks many pairs. */
    removeMany(pairs: readonly { key: string; stream: string }[]): Promise<void>;
    /** Streams linked to `key`. */
    getByKey(key: string): Promise<string[]>;
    /** Streams linked to any of `keys`. */
    getByKeys(keys: readonly string[]): Promise<string[]>;
  };
  /** Named positions of subscriptions. */
  readonly checkpoints: {
    /** The checkpoint called `name`. */
    get(name: string): Promise<Checkpoint | undefined>;
    /** All checkpoints. */
    list(): Promise<Checkpoint[]>;
    /**
     * Moves checkpoint `name` to `position` if it is at `options.expected` now (`null`: it
     * has none), keeping its saved state and version; returns whether it was set.
     */
    put(
      name: string,
      position: string | null,
      options: { readonly expected: string | null },
    ): Promise<boolean>;
    /** Removes a checkpoint (the subscription starts over). */
    delete(name: string): Promise<void>;
    /** @deprecated use `put` (the same word as the adapter's and the snapshots'). */
    set(
      name: string,
      position: string | null,
      options: { readonly expected: string | null },
    ): Promise<boolean>;
    /** @deprecated use `delete`. */
    reset(name: string): Promise<void>;
  };
  readonly #clock: Clock;
  readonly #keyStore: KeyStore | undefined;
  /** Per subject: its forgets and imported forgets, one at a time. */
  readonly #erasures = new StreamLocks();
  readonly #pageSize: number;
  readonly #records: RecordReader;
  readonly #writer: Writer<EventRecordOf<TEvents>, TransactionHandleOf<TAdapter>>;
  readonly #reader: FoldReader;
  readonly #retention: Retention;
  readonly #subscriptions: Set<{ stop(): Promise<void> }> = new Set();
  readonly #autoSnapshot: boolean;
  readonly #telemetry: Telemetry | undefined;
  readonly #logReads: ReturnType<typeof tracedReads> | undefined;
  readonly #unobserve: () => void;
  #closed = false;

  /**
   * Creates it.
   *
   * @param options the adapter, the event definitions and optional clock and hooks
   * @throws {TypeError} when the adapter or events are missing
   */
  constructor(options: EventStoreOptions<TEvents, TAdapter>) {
    if (options?.adapter === undefined || typeof options.adapter.transaction !== "function") {
      throw new TypeError("EventStore needs an adapter (MemoryAdapter, SqliteAdapter, PostgresAdapter...)");
    }
    if (options.events === undefined || typeof options.events.get !== "function") {
      throw new TypeError("EventStore needs the event definitions: new EventFactory([...])");
    }
    this.adapter = options.adapter;
    this.events = options.events;
    this.#clock = options.clock ?? systemClock;
    this.#pageSize = options.pageSize ?? 1000;
    if (!Number.isSafeInteger(this.#pageSize) || this.#pageSize < 1) {
      throw new RangeError(`pageSize must be a positive whole number, got ${options.pageSize}`);
    }
    this.#records = new RecordReader(
      this.events,
      options.unknownEvents ?? "error",
      options.validateOnRead ?? false,
      () => this.adapter.location ?? this.adapter.source,
      () => this.#keyStore,
    );
    this.#keyStore = options.keyStore ?? keyStoreOf(this.adapter);
    this.#telemetry = checkTelemetry(options.telemetry);
    const system = systemAttributes(this.adapter.kind);
    this.#writer = new Writer(
      this.adapter,
      this.events,
      () => this.#open(),
      this.#records,
      this.#telemetry,
      system,
    );
    this.#logReads = this.#telemetry && tracedReads(this.#telemetry, system, this.adapter);
    if (options.hooks?.onEventsInserted) this.#writer.hooks.inserted.add(options.hooks.onEventsInserted);
    if (options.hooks?.onError) this.#writer.hooks.errors.add(options.hooks.onError);
    const snapshot = options.snapshot ?? "manual";
    if (snapshot !== "manual" && snapshot !== "auto") {
      throw new TypeError(
        `snapshot must be "manual" or "auto", got ${JSON.stringify(snapshot)} ` +
          "(a reducer's own policy goes to makeReducer: { snapshot: { every: N } })",
      );
    }
    this.#autoSnapshot = snapshot === "auto";
    this.#retention = new Retention(() => this.#opened(), this.#clock);
    this.#reader = {
      stream: (stream, fromRevision, types) => this.readStreamPages(stream, { fromRevision, types }),
      log: (streams, after, types) => this.readAllPages({ streams, after, types }),
      checkFold: (stream, snapshot, from) => this.#retention.checkFold(stream, snapshot, from),
      telemetry: this.#telemetry,
    };
    this.aggregate = new AggregateRepository<TEvents>(this, {
      autoSnapshot: this.#autoSnapshot,
      reader: this.#reader,
    });
    const relate = async (pairs: readonly { key: string; stream: string }[], op: "insert" | "remove") => {
      this.#open();
      await this.adapter.updateRelations(
        pairs.map(({ key, stream }) => ({
          op,
          key: streamName(key, "relation key"),
          stream: streamName(stream),
        })),
      );
    };
    this.relations = {
      insert: (key, stream) => relate([{ key, stream }], "insert"),
      insertMany: (pairs) => relate(pairs, "insert"),
      remove: (key, stream) => relate([{ key, stream }], "remove"),
      removeMany: (pairs) => relate(pairs, "remove"),
      getByKey: async (key) => await this.#opened().getStreamsByKeys([key]),
      getByKeys: async (keys) => await this.#opened().getStreamsByKeys(keys),
    };
    const putCheckpoint = async (name: string, position: string | null, expected: string | null) => {
      const adapter = this.#opened();
      const current = await adapter.getCheckpoint(name);
      return await adapter.putCheckpoint(name, expected, {
        position,
        state: current?.state,
        version: current?.version,
      });
    };
    const deleteCheckpoint = async (name: string) => await this.#opened().deleteCheckpoint(name);
    this.checkpoints = {
      get: async (name) => await this.#opened().getCheckpoint(name),
      list: async () => await this.#opened().listCheckpoints(),
      put: (name, position, { expected }) => putCheckpoint(name, position, expected),
      delete: deleteCheckpoint,
      set: (name, position, { expected }) => putCheckpoint(name, position, expected),
      reset: deleteCheckpoint,
    };
    // Last: a constructor that throws leaves no probe behind. Closing the store removes it.
    this.#unobserve = this.#telemetry?.observe(
      [METRIC_NAMES.subscriptionLag, METRIC_NAMES.subscriptionParked],
      () => subscriptionGauges(this.#subscriptions, system),
    ) ?? (() => {});
  }

  #open(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  #opened(): TAdapter {
    this.#open();
    return this.adapter;
  }

  readonly #access = (): Pick<TAdapter, "readStream" | "readLog" | "partitionReads"> =>
    this.#logReads === undefined ? this.#opened() : (this.#open(), this.#logReads);

  /**
   * Where this store reports (its `telemetry` option; {@linkcode noTelemetry} without
   * one), for code that reports with it, such as a relay's `publishSpan`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventFactory, EventStore, noTelemetry } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * assert.equal(store.telemetry, noTelemetry);
   * ```
   */
  get telemetry(): Telemetry {
    return this.#telemetry ?? noTelemetry;
  }

  /**
   * Makes an event ready to push: fills in the id (UUIDv7), the stream (a new one when
   * left out) and `created`. Validation happens when it is pushed.
   *
   * @param input the type, payloads and optional stream, id and created time
   * @returns the pending event
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("user:activated")]);
   * const store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const pending = store.event({ type: "user:activated", stream: "u1" });
   * assert(pending.stream === "u1" && pending.data === null);
   * ```
   */
  event<TInput extends EventInputOf<TEvents>>(input: TInput): PendingEvent<TInput["type"]> {
    if (typeof input !== "object" || input === null) throw new TypeError("store.event needs an event object");
    return {
      id: input.id ?? uuidv7(),
      stream: input.stream ?? uuidv7(),
      type: input.type,
      data: (input as { data?: unknown }).data ?? null,
      meta: (input as { meta?: unknown }).meta ?? null,
      created: input.created ?? this.#clock.now(),
    };
  }

  /**
   * Appends one event. Same rules as {@linkcode EventStore.pushManyEvents}.
   *
   * @param event a pending event from {@linkcode EventStore.event}, or an input
   * @param options expected revision, emit, batch, relations
   * @returns the stored record (the earlier one when its id was stored already)
   * @throws {ConcurrencyError} when the expected revision does not hold
   * @throws {EventValidationError} when the payload fails its schema
   * @throws {UnknownEventError} when the type is not defined
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("user:activated")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const first = await store.pushEvent(store.event({ type: "user:activated", stream: "u1" }), { expectedRevision: 0 });
   * assert(first.revision === 1);
   * ```
   */
  async pushEvent(
    event: PendingEvent<EventTypeOf<TEvents>> | EventInputOf<TEvents>,
    options?: PushOptions,
  ): Promise<EventRecordOf<TEvents>> {
    const [record] = await this.pushManyEvents([event], options);
    return record;
  }

  /**
   * Appends events atomically: all are committed, in the given order, or none. Events
   * may span streams. Ids already stored are skipped (appending is idempotent). Every
   * event is validated before anything is written. After the commit, the
   * `onEventsInserted` listeners run (unless `emit` is false).
   *
   * @param events pending events (from {@linkcode EventStore.event}) or inputs
   * @param options expected revision per stream, emit, batch key, relation changes
   * @returns the stored records in call order (earlier records for skipped ids)
   * @throws {ConcurrencyError} when an expected revision does not hold; nothing is written
   * @throws {EventValidationError} when a payload fails its schema; nothing is written
   * @throws {UnknownEventError} when a type is not defined
   * @throws {TypeError} for a malformed event or option (for example a forged `revision`)
   * @throws {RangeError} for a negative or fractional expected revision
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("a"), event.type("b")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const records = await store.pushManyEvents([
   *   store.event({ type: "a", stream: "s1" }),
   *   store.event({ type: "b", stream: "s2" }),
   * ], { expectedRevision: { s1: 0, s2: 0 } });
   * assert(records.length === 2);
   * ```
   */
  async pushManyEvents(
    events: readonly (PendingEvent<EventTypeOf<TEvents>> | EventInputOf<TEvents>)[],
    options: PushOptions = {},
  ): Promise<EventRecordOf<TEvents>[]> {
    this.#open();
    if (!Array.isArray(events)) throw new TypeError("pushManyEvents needs an array of events");
    const pending = events.map((input, i) => {
      const withDefaults = typeof input === "object" && input !== null
        ? {
          ...input,
          id: input.id ?? uuidv7(),
          // Left out, the stream is a new one, as with store.event().
          stream: "stream" in input ? input.stream : uuidv7(),
          created: input.created ?? this.#clock.now(),
        }
        : input;
      return checkEvent(this.events, withDefaults, i, false, this.#clock);
    });
    return (await this.#writer.write(pending, options, false)).records;
  }

  /**
   * Brings in events from elsewhere (another store, a sync, an export file), keeping
   * their ids and `created`. Ids already stored are skipped. Each imported record is
   * appended at the end of its stream, flagged hydrated for listeners, and marked
   * `outdated` when the stream already holds a newer event (by `created`) of its type;
   * that flag is stored and reported the same way to every later reader. Atomic, but for
   * forgets (below).
   *
   * Erasure comes along: a record read with `forgotten: true` is stored forgotten (its
   * personal fields as sealed fields without ciphertext or key; checked against the schemas
   * as it reads, the personal fields aside), and a `"$subject:forgotten"` record destroys
   * this store's key of its subject, unless the store holds that record already. A call
   * holding such records is written in parts, each forget after the events before it; the
   * whole call is checked before the first part is written.
   *
   * @param records records or events with `id`, `stream`, `type`, `data`, `meta`, `created`
   * @param options `emit` and `batch` as for pushes
   * @returns the records stored and the ids skipped
   * @throws {EventValidationError} when a payload fails its schema; nothing is imported
   * @throws {TypeError} for a record that is not one, or a `"$subject:forgotten"` record not in
   *   the form `forget` appends
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("seen")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const record = store.event({ type: "seen", stream: "s" });
   * const { imported } = await store.import([record]);
   * const again = await store.import([record]);
   * assert(imported.length === 1 && again.skipped.length === 1);
   * ```
   */
  async import(
    records: readonly (PendingEvent | EventRecord)[],
    options: Pick<PushOptions, "emit" | "batch"> = {},
  ): Promise<ImportResult<EventRecordOf<TEvents>>> {
    this.#open();
    if (!Array.isArray(records)) throw new TypeError("import needs an array of records");
    const pending = records.map((record, i) =>
      isForgetRecord(record)
        ? checkForgetRecord(record, i, this.#clock)
        : checkEvent(this.events, record, i, true, this.#clock)
    );
    if (pending.every((event) => event.type !== SUBJECT_FORGOTTEN)) {
      const { inserted, skipped } = await this.#writer.write(pending, options, true);
      return { imported: inserted, skipped };
    }
    const keys = this.#keyStore;
    return await importWithForgets(pending, {
      write: (part) => this.#writer.write(part, options, true),
      check: (part) => this.#writer.check(part),
      exists: (ids) => this.#holds(ids),
      erasing: (subject) => this.#erasures.acquire([subject]),
      forget: keys === undefined ? undefined : (subject) => keys.deleteKey(subject),
    });
  }

  /** Which of `ids` the store holds. */
  async #holds(ids: readonly string[]): Promise<Set<string>> {
    return new Set((await this.#opened().getByIds(ids)).map((record) => record.id));
  }

  /**
   * Deletes a stream: its events, snapshots and relations are removed, and a
   * `"$stream:deleted"` record (data `{ stream, revision, tombstone }`) is appended to the
   * `"$streams"` stream, all in one transaction, so log readers, hooks, projectors
   * (`projector.on("$stream:deleted", ...)`) and subscriptions learn of it in order.
   * Revisions are never reused: a later append continues at `revision + 1`. With
   * `tombstone: true` every later append to the stream throws `StreamDeletedError`.
   *
   * @param stream the stream
   * @param options `expectedRevision` guards the delete like an append; `tombstone`
   * @returns the `"$stream:deleted"` record
   * @throws {ConcurrencyError} when the stream is not at `expectedRevision`; nothing is removed
   * @throws {StreamDeletedError} when the stream was tombstoned already
   * @throws {TypeError} for bad input, or an adapter without stream lifecycle support
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, isStreamDeletedError } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("seen")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushEvent(store.event({ type: "seen", stream: "s" }));
   * const deleted = await store.deleteStream("s", { expectedRevision: 1, tombstone: true });
   * assert.deepEqual(deleted.data, { stream: "s", revision: 1, tombstone: true });
   * await assert.rejects(store.pushEvent(store.event({ type: "seen", stream: "s" })), isStreamDeletedError);
   * ```
   */
  deleteStream(stream: string, options?: DeleteStreamOptions): Promise<StreamDeletedRecord> {
    this.#open();
    return deleteStream(this.adapter, this.#writer, stream, options, this.#clock);
  }

  /**
   * Removes the events of a stream below revision `before`; later ones, snapshots and
   * relations stay, and reads start at `before`. A fold of the stream then needs a
   * snapshot at `before - 1` or later, or throws `TruncatedStreamError`.
   *
   * @param stream the stream
   * @param options `before`: the first revision to keep
   * @returns how many events were removed
   * @throws {RangeError} when `before` is not a whole number from 1
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("seen")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * for (let i = 0; i < 3; i++) await store.pushEvent(store.event({ type: "seen", stream: "s" }));
   * assert.equal((await store.truncateStream("s", { before: 3 })).removed, 2);
   * assert.deepEqual((await store.getEventsByStreams(["s"])).map((r) => r.revision), [3]);
   * ```
   */
  truncateStream(stream: string, options: TruncateStreamOptions): Promise<TruncateResult> {
    this.#open();
    return truncateStream(this.adapter, stream, options);
  }

  /**
   * What is known of a stream beyond its events: its highest revision ever, when it was
   * deleted, whether it is tombstoned, and where truncation left it.
   *
   * @param stream the stream
   * @returns its status; `undefined` for a stream never written
   */
  streamStatus(stream: string): Promise<StreamStatus | undefined> {
    this.#open();
    return streamStatus(this.adapter, stream);
  }

  /**
   * Runs a workflow (a process manager, a saga): a durable subscription to its input
   * types (one active instance per workflow name across processes) hands each input to
   * its instance, and a timer loop fires the timers due. What one input produces commits
   * in one append, with ids derived from the input, so nothing is done twice after a
   * crash; every event it appends carries `meta.$correlation` and `meta.$causation`.
   *
   * @param workflow the definition
   * @param options `clock` (timers and `ctx.now`), `timerInterval` (ms, default 1000), and subscription options
   * @returns the run: `info()`, `instances()`, `instance(key)`, `fireTimers()`, `stop()`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, Workflow } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * import { z } from "zod";
   * const events = new EventFactory([
   *   event.type("order:placed").data(z.object({ orderId: z.string() })),
   *   event.type("order:shipped").data(z.object({ orderId: z.string() })),
   * ]);
   * const shipping = new Workflow<typeof events, { placed: boolean }, "order:placed">({
   *   name: "shipping",
   *   types: ["order:placed"],
   *   key: (record) => record.data.orderId,
   *   initial: () => ({ placed: false }),
   *   evolve: () => ({ placed: true }),
   *   react: (_state, record, ctx) => {
   *     ctx.append({ type: "order:shipped", stream: `order-${record.data.orderId}`, data: record.data });
   *     ctx.complete();
   *   },
   * });
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await using run = store.runWorkflow(shipping, { pollInterval: 10 });
   * const placed = await store.pushEvent(store.event({ type: "order:placed", stream: "order-1", data: { orderId: "1" } }));
   * await run.subscription.waitFor(placed.position);
   * assert.equal((await run.instance("1"))?.status, "completed");
   * ```
   */
  runWorkflow<TState, TType extends EventTypeOf<TEvents>>(
    workflow: Workflow<TEvents, TState, TType>,
    options: WorkflowRunOptions = {},
  ): WorkflowRun<TEvents, TState, TType> {
    this.#open();
    if (!(workflow instanceof Workflow)) throw new TypeError("runWorkflow needs a Workflow");
    const clock = options.clock ?? this.#clock;
    return new WorkflowRun<TEvents, TState, TType>(workflow, {
      pending: (input, id, created) => {
        if (typeof input !== "object" || input === null) {
          throw new TypeError("a workflow's events must be objects");
        }
        const given = input as { stream?: string; created?: string };
        return checkEvent(
          this.events,
          { ...this.event(input as EventInputOf<TEvents>), id, created: given.created ?? created },
          0,
          false,
          clock,
        );
      },
      validate: async (event) => void await validateEvent(this.events, event.type, event.data, event.meta),
      write: async (pending, options) => (await this.#writer.write(pending, options, false)).inserted,
      exists: (ids) => this.#holds(ids),
      readStream: (stream, options) => this.readStream(stream, options),
      subscribe: (name, projector, options) => this.subscribe(name, projector, options) as never,
      tracker: this.#subscriptions,
    }, { ...options, clock });
  }

  /**
   * Sets the retention rules of a stream, replacing the ones it had (`{}` removes them):
   * keep only the newest `maxCount` events, or only those created less than `maxAge`
   * milliseconds ago (by the store's clock), or both. Reads of the stream (`readStream`,
   * `getEventsByStreams`, relation reads, folds) hide the rest from now on; reads of the
   * whole log and subscriptions still show them until {@linkcode EventStore.scavenge}
   * removes them. A fold that would miss hidden events needs a snapshot past them, as
   * after a truncation, or throws `TruncatedStreamError`. Rules survive a delete.
   *
   * @param stream the stream (it need not exist yet)
   * @param metadata `maxAge` (ms) and `maxCount`, whole numbers from 1
   * @throws {TypeError} for an unknown rule, the `"$streams"` stream, or an adapter without stream metadata
   * @throws {RangeError} for a rule that is not a whole number from 1
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("seen")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * for (let i = 0; i < 5; i++) await store.pushEvent(store.event({ type: "seen", stream: "s" }));
   * await store.setStreamMetadata("s", { maxCount: 2 });
   * assert.deepEqual((await store.getEventsByStreams(["s"])).map((r) => r.revision), [4, 5]);
   * assert.equal((await store.scavenge()).removed, 3);
   * ```
   */
  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    this.#open();
    await setStreamMetadata(this.adapter, stream, metadata, this.#clock);
  }

  /**
   * The retention rules of a stream (`{}` when it has none).
   *
   * @param stream the stream
   * @returns its `maxAge` and `maxCount`, where set
   */
  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    return (await this.streamStatus(stream))?.metadata ?? {};
  }

  /**
   * Removes for good what the streams' retention rules hide now, stream by stream, in
   * transactions of at most `batchSize` events (default 1000). An aborted `signal` stops it
   * between two transactions (`complete: false`); nothing it keeps is lost, and a later
   * run goes on from there.
   *
   * @param options `signal`, `batchSize`, `onProgress`
   * @returns streams looked at, streams truncated, events removed, transactions, and whether it finished
   * @throws {TypeError} for an adapter without stream metadata, or bad options
   */
  async scavenge(options: ScavengeOptions = {}): Promise<ScavengeResult> {
    return await scavenge(this.#opened(), () => this.#retention.now(), options);
  }

  /**
   * Forgets a subject: destroys the key its personal fields were sealed with. Afterwards
   * every read (and export, copy, replay) returns those fields as `null`, with
   * `forgotten: true` on the record; everything else of the records stays readable.
   * Idempotent; events with personal fields of the subject written later get a new key.
   *
   * Then a `"$subject:forgotten"` record (data `{ subject, destroyed }`) is appended to the
   * `"$streams"` stream, on every call, so projectors (`projector.on("$subject:forgotten",
   * ...)`) can erase the subject from their read models, and sync forgets the subject at
   * every store its events went to (an `import()` of the record destroys the importing
   * store's key of the subject). Should that append fail, the key is gone all the same: call
   * `forget` again to record it.
   *
   * @param subject the subject, as the definitions' `personal({ subject })` gives it
   * @returns true when a key was destroyed, false when the subject had none
   * @throws {TypeError} for a subject that is not a non-empty string, or a store without a key store
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * import { z } from "zod";
   * const events = new EventFactory([
   *   event.type("user:created").data(z.object({ id: z.string(), email: z.string() }))
   *     .personal({ subject: (data) => data.id, fields: ["email"] }),
   * ]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushEvent(store.event({ type: "user:created", stream: "u1", data: { id: "u1", email: "ada@example.com" } }));
   * assert(await store.forget("u1"));
   * const [record] = await store.getEvents();
   * assert.deepEqual([record.data, record.forgotten], [{ id: "u1", email: null }, true]);
   * ```
   */
  async forget(subject: string): Promise<boolean> {
    this.#open();
    if (typeof subject !== "string" || subject === "") {
      throw new TypeError(`forget needs a subject (a non-empty string), got ${JSON.stringify(subject)}`);
    }
    // Kept in the log as a name is: a subject no store could record is refused here.
    checkName(subject, "the subject to forget");
    if (this.#keyStore === undefined) {
      throw new TypeError(
        `forget needs a key store: the ${this.adapter.kind} adapter holds no keys and no keyStore option was given`,
      );
    }
    const keys = this.#keyStore;
    // One erasure of a subject at a time here: an import's forget cannot slip between.
    const release = await this.#erasures.acquire([subject]);
    try {
      const destroyed = await keys.deleteKey(subject);
      await this.#writer.write([forgetRecord(subject, destroyed, this.#clock.now())], {}, false);
      return destroyed;
    } finally {
      release();
    }
  }

  /**
   * Reads one stream in revision order, page by page, so any length fits in memory.
   *
   * @param stream the stream
   * @param options first revision, direction, limit, types
   * @returns an async iterable of records
   * @throws {TypeError} for a bad stream or direction
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushManyEvents([store.event({ type: "tick", stream: "s" }), store.event({ type: "tick", stream: "s" })]);
   * const revisions = [];
   * for await (const record of store.readStream("s", { direction: "backward" })) revisions.push(record.revision);
   * assert(revisions.join() === "2,1");
   * ```
   */
  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<EventRecordOf<TEvents>> {
    for await (const page of this.readStreamPages(stream, options)) yield* page;
  }

  /**
   * Like {@linkcode EventStore.readStream}, one page (array) at a time: for bulk work
   * such as folds, exports and catch-up, where a step per page is cheaper than per record.
   *
   * @param stream the stream
   * @param options first revision, direction, limit, types
   * @returns an async iterable of non-empty pages
   * @throws {TypeError} for a bad stream or direction
   * @throws {RangeError} for a negative or fractional revision or limit
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events, pageSize: 2 });
   * await store.pushManyEvents([1, 2, 3].map(() => store.event({ type: "tick", stream: "s" })));
   * const sizes = [];
   * for await (const page of store.readStreamPages("s")) sizes.push(page.length);
   * assert(sizes.join() === "2,1");
   * ```
   */
  async *readStreamPages(
    stream: string,
    options: ReadStreamOptions = {},
  ): AsyncIterable<EventRecordOf<TEvents>[]> {
    yield* streamPages(
      this.#access,
      this.#records,
      this.#retention,
      this.#pageSize,
      stream,
      options,
    ) as AsyncIterable<
      EventRecordOf<TEvents>[]
    >;
  }

  /**
   * Reads the log in global position order, page by page. A reader that has seen a
   * position never later receives an event that sorts before it.
   *
   * @param options cursor (`after`), types, streams, limit, direction
   * @returns an async iterable of records
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const first = await store.pushEvent(store.event({ type: "tick", stream: "a" }));
   * await store.pushEvent(store.event({ type: "tick", stream: "b" }));
   * const after = [];
   * for await (const record of store.readAll({ after: first.position })) after.push(record.stream);
   * assert(after.join() === "b");
   * ```
   */
  async *readAll(options: ReadAllOptions = {}): AsyncIterable<EventRecordOf<TEvents>> {
    for await (const page of this.readAllPages(options)) yield* page;
  }

  /**
   * Like {@linkcode EventStore.readAll}, one page (array) at a time.
   *
   * @param options cursor (`after`), types, streams, limit, direction
   * @returns an async iterable of non-empty pages
   * @throws {TypeError} for a bad cursor or direction
   * @throws {RangeError} for a bad limit
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushManyEvents([store.event({ type: "tick", stream: "a" }), store.event({ type: "tick", stream: "b" })]);
   * const streams = [];
   * for await (const page of store.readAllPages({ direction: "backward" })) streams.push(...page.map((r) => r.stream));
   * assert(streams.join() === "b,a");
   * ```
   */
  async *readAllPages(options: ReadAllOptions = {}): AsyncIterable<EventRecordOf<TEvents>[]> {
    yield* logPages(this.#access, this.#records, this.#retention, this.#pageSize, options) as AsyncIterable<
      EventRecordOf<TEvents>[]
    >;
  }

  async #collect(iterable: AsyncIterable<EventRecordOf<TEvents>>): Promise<EventRecordOf<TEvents>[]> {
    const out: EventRecordOf<TEvents>[] = [];
    for await (const record of iterable) out.push(record);
    return out;
  }

  /**
   * Events of the log as an array, in position order (valkyr's name).
   *
   * @param options types, cursor, direction, limit
   * @returns the records
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushEvent(store.event({ type: "tick" }));
   * assert((await store.getEvents({ limit: 10 })).length === 1);
   * ```
   */
  async getEvents(options: ReadOptions = {}): Promise<EventRecordOf<TEvents>[]> {
    const read = readOptions(options);
    return await this.#collect(this.readAll({ ...read, after: read.after ?? read.cursor }));
  }

  /**
   * Events of some streams as an array, in position order.
   *
   * @param streams the streams
   * @param options types, cursor, direction, limit
   * @returns the records
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushEvent(store.event({ type: "tick", stream: "a" }));
   * assert((await store.getEventsByStreams(["a", "b"])).length === 1);
   * ```
   */
  async getEventsByStreams(
    streams: readonly string[],
    options: ReadOptions = {},
  ): Promise<EventRecordOf<TEvents>[]> {
    if (!Array.isArray(streams)) throw new TypeError("getEventsByStreams needs an array of streams");
    streams.forEach((stream) => streamName(stream));
    const read = readOptions(options);
    return await this.#collect(this.readAll({ ...read, streams, after: read.after ?? read.cursor }));
  }

  /**
   * Events of every stream linked to any of `keys`, in position order.
   *
   * @param keys relation keys
   * @param options types, cursor, direction, limit
   * @returns the records
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("post:created")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushEvent(store.event({ type: "post:created", stream: "p1" }), { relations: [{ key: "user:u1:posts", stream: "p1" }] });
   * assert((await store.getEventsByRelations(["user:u1:posts"])).length === 1);
   * ```
   */
  async getEventsByRelations(
    keys: readonly string[],
    options: ReadOptions = {},
  ): Promise<EventRecordOf<TEvents>[]> {
    if (!Array.isArray(keys)) throw new TypeError("getEventsByRelations needs an array of relation keys");
    const streams = await this.#opened().getStreamsByKeys(keys);
    if (streams.length === 0) return [];
    return await this.getEventsByStreams(streams, options);
  }

  /**
   * Tells whether a record from elsewhere is stored here already (by id), and whether
   * its stream holds a newer event (by `created`) of its type, which would make an
   * import of it outdated (valkyr's `getEventStatus`; `import()` decides this itself).
   *
   * @param record a record or event with `id`, `stream`, `type` and `created`
   * @returns `{ exists, outdated }`; an existing record counts as outdated, as in valkyr
   * @throws {TypeError} when one of those fields is missing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("seen")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushEvent(store.event({ type: "seen", stream: "s", created: "2026-01-02T00:00:00.000Z" }));
   * const older = store.event({ type: "seen", stream: "s", created: "2026-01-01T00:00:00.000Z" });
   * assert.deepEqual(await store.getEventStatus(older), { exists: false, outdated: true });
   * ```
   */
  async getEventStatus(
    record: Pick<PendingEvent, "id" | "stream" | "type" | "created">,
  ): Promise<EventStatus> {
    const adapter = this.#opened();
    return await eventStatus({
      byIds: (ids) => adapter.getByIds(ids),
      stream: (stream, type) => this.readStream(stream, { types: [type] }),
    }, record);
  }

  /**
   * Makes a reducer over this store's events: {@linkcode makeReducer} with the event
   * types filled in (valkyr's `store.makeReducer`).
   *
   * @param fold `(state, record) => state`; it may mutate `state`
   * @param initial the initial state, or a function making it
   * @param options version and snapshot policy
   * @returns the reducer
   * @throws {RangeError} for a bad version or snapshot interval
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const count = store.makeReducer<{ ticks: number }>((state) => ({ ticks: state.ticks + 1 }), () => ({ ticks: 0 }));
   * await store.pushEvent(store.event({ type: "tick", stream: "s" }));
   * assert.equal((await store.reduce({ name: "count", stream: "s", reducer: count }))?.ticks, 1);
   * ```
   */
  makeReducer<TState>(
    fold: (state: TState, record: EventRecordOf<TEvents>) => TState,
    initial: TState | (() => TState),
    options?: ReducerOptions,
  ): Reducer<TEvents, TState> {
    return makeReducer<TEvents, TState>(fold, initial, options);
  }

  /**
   * Folds a stream (or the streams of a relation) into state with a reducer, starting
   * from the latest snapshot of this reducer version and folding only what came after.
   *
   * @param args `name`, `stream` or `relation`, `reducer`, optional `types`
   * @returns the state, or `undefined` when there is nothing to fold
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, makeReducer } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * import { z } from "zod";
   * const events = new EventFactory([event.type("added").data(z.number())]);
   * const sum = makeReducer<typeof events, number>((total, record) => total + record.data, 0);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushManyEvents([store.event({ type: "added", stream: "s", data: 2 }), store.event({ type: "added", stream: "s", data: 3 })]);
   * assert(await store.reduce({ name: "sum", stream: "s", reducer: sum }) === 5);
   * assert(await store.reduce({ name: "sum", stream: "empty", reducer: sum }) === undefined);
   * ```
   */
  async reduce<TState>(args: ReduceArgs<TEvents, TState>): Promise<TState | undefined> {
    return (await this.fold(args)).state;
  }

  /**
   * Like {@linkcode EventStore.reduce}, but also tells what the state covers: the last
   * revision (stream folds) and position, and how many events were folded now.
   *
   * @param args as for `reduce`
   * @param force save a snapshot whatever the reducer's policy
   * @returns the state and what it covers
   * @throws {TypeError} for an empty reducer name or a bad stream or relation
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, makeReducer } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const count = makeReducer<typeof events, number>((n) => n + 1, 0);
   * await store.pushManyEvents([store.event({ type: "tick", stream: "s" }), store.event({ type: "tick", stream: "s" })]);
   * const { state, revision, folded } = await store.fold({ name: "count", stream: "s", reducer: count });
   * assert(state === 2 && revision === 2 && folded === 2);
   * ```
   */
  async fold<TState>(args: ReduceArgs<TEvents, TState>, force = false): Promise<FoldResult<TState>> {
    this.#open();
    if (typeof args?.name !== "string" || args.name.length === 0) {
      throw new TypeError("reduce needs a non-empty reducer name (used for its snapshots)");
    }
    const scope: FoldScope = args.stream !== undefined
      ? { stream: streamName(args.stream) }
      : { relation: streamName(args.relation, "relation") };
    const { reducer } = args;
    if (args.types !== undefined && args.filter?.types !== undefined) {
      throw new TypeError("give the event types either as types or as filter.types, not both");
    }
    const types = args.types ?? args.filter?.types;
    return await fold(this.adapter, this.#reader, scope, {
      // A filtered fold keeps its snapshots apart: another filter's state would skip events.
      name: types === undefined ? args.name : `${args.name}[${[...types].sort().join(",")}]`,
      initial: reducer.initial,
      step: reducer.fold as (state: TState, record: EventRecord) => TState,
      version: reducer.version,
      // Store-wide "auto" (valkyr's): a snapshot after every fold that folded something.
      snapshot: this.#autoSnapshot && reducer.snapshot === "manual" ? { every: 1 } : reducer.snapshot,
      types,
    }, force);
  }

  /**
   * Folds and saves a snapshot now, whatever the reducer's policy.
   *
   * @param args as for `reduce`
   * @returns the state saved, or `undefined` when there was nothing to fold
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, makeReducer } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * const count = makeReducer<typeof events, number>((n) => n + 1, 0);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushEvent(store.event({ type: "tick", stream: "s" }));
   * await store.putSnapshot({ name: "count", stream: "s", reducer: count });
   * assert((await store.adapter.getSnapshot("count", "s"))?.revision === 1);
   * ```
   */
  async putSnapshot<TState>(args: ReduceArgs<TEvents, TState>): Promise<TState | undefined> {
    return (await this.fold(args, true)).state;
  }

  /**
   * The same as {@linkcode EventStore.putSnapshot}.
   *
   * @param args as for `reduce`
   * @returns the state saved, or `undefined` when there was nothing to fold
   * @deprecated use `putSnapshot` (put/get/delete, as for checkpoints).
   */
  createSnapshot<TState>(args: ReduceArgs<TEvents, TState>): Promise<TState | undefined> {
    return this.putSnapshot(args);
  }

  /**
   * Removes a snapshot (the next fold starts from the first event).
   *
   * @param name the reducer name
   * @param stream the stream or relation key
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, makeReducer } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const count = makeReducer<typeof events, number>((n) => n + 1, 0);
   * await store.pushEvent(store.event({ type: "tick", stream: "s" }));
   * await store.putSnapshot({ name: "count", stream: "s", reducer: count });
   * await store.deleteSnapshot("count", "s");
   * assert((await store.adapter.getSnapshot("count", "s")) === undefined);
   * ```
   */
  async deleteSnapshot(name: string, stream: string): Promise<void> {
    return await this.#opened().deleteSnapshot(name, stream);
  }

  /**
   * Handles a command: loads the state and revision of `stream` (with a reducer or an
   * aggregate class), calls `decide`, and appends what it returns with the loaded
   * revision as the expected revision. On a `ConcurrencyError` it reloads and decides
   * again, a bounded number of times. A rejection (`reject(reason)`) comes back as a value.
   *
   * @param stream the stream the command is about
   * @param model a reducer (with options `name` for snapshots) or an aggregate class
   * @param decide `(state, context) => events | intent | reject(reason)`
   * @param options retries and reducer name
   * @returns `{ ok: true, records, revision }` or `{ ok: false, rejection, revision }`
   * @throws {ConcurrencyError} when every retry lost the race (with `attempts`)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, makeReducer, reject } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * import { z } from "zod";
   * const events = new EventFactory([event.type("deposited").data(z.number())]);
   * const balance = makeReducer<typeof events, number>((total, record) => total + record.data, 0);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const result = await store.handle("acct", balance, (total = 0) =>
   *   total + 50 > 100 ? reject("limit" as const) : [{ type: "deposited", data: 50 }]
   * );
   * assert(result.ok && result.revision === 1);
   * ```
   */
  handle<TState, TDecision extends Decision<TEvents, unknown>>(
    stream: string,
    model: Reducer<TEvents, TState>,
    decide: Decide<TState | undefined, TDecision>,
    options?: HandleOptions,
  ): Promise<HandleResult<TEvents, RejectionOf<TDecision>>>;
  /**
   * Handles a command on an aggregate: `decide` gets the loaded aggregate (a new one at
   * revision 0 when the stream is empty) and returns events, an intent, a rejection, or
   * nothing after calling the aggregate's actions.
   *
   * @param stream the stream the command is about
   * @param model the aggregate class
   * @param decide `(aggregate, context) => events | intent | reject(reason) | void`
   * @param options retries
   * @returns `{ ok: true, records, revision }` or `{ ok: false, rejection, revision }`
   */
  handle<TAggregate extends AggregateRoot<TEvents>, TDecision extends Decision<TEvents, unknown>>(
    stream: string,
    model: AggregateClass<TEvents, TAggregate>,
    decide: Decide<TAggregate, TDecision>,
    options?: HandleOptions,
  ): Promise<HandleResult<TEvents, RejectionOf<TDecision>>>;
  async handle(
    stream: string,
    model: Reducer<TEvents, unknown> | AggregateClass<TEvents, AggregateRoot<TEvents>>,
    decide: Decide<never, Decision<TEvents, unknown>>,
    options: HandleOptions = {},
  ): Promise<HandleResult<TEvents, unknown>> {
    this.#open();
    return await handleCommand(
      this,
      streamName(stream),
      model,
      decide,
      options,
    );
  }

  /**
   * Registers a listener that runs after each commit, in commit order, with the records
   * of that commit. A failing listener goes to the `onError` listeners (or the console)
   * and never undoes or loses the write. `pushManyEvents` resolves after its listeners ran.
   *
   * @param listener `(records, { batch, hydrated }) => void | Promise<void>`
   * @returns a registration with `unsubscribe()`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const seen: string[] = [];
   * store.onEventsInserted((records) => void seen.push(...records.map((r) => r.type)));
   * await store.pushEvent(store.event({ type: "tick" }));
   * assert(seen.join() === "tick");
   * ```
   */
  onEventsInserted(listener: InsertedListener<EventRecordOf<TEvents>>): ListenerRegistration {
    return register(this.#writer.hooks.inserted, listener);
  }

  /**
   * Registers a listener that runs inside each append's transaction, after the insert,
   * with the adapter's transaction handle (`tx`): what it writes through `tx` commits with
   * the events, and if it throws, the append is rolled back and nothing is stored. For
   * consistent views and uniqueness checks.
   *
   * @param listener `(records, { tx, batch, hydrated }) => void | Promise<void>`
   * @returns a registration with `unsubscribe()`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * store.onEventsInserting(() => { throw new Error("no ticks allowed"); });
   * await store.pushEvent(store.event({ type: "tick" })).catch(() => {});
   * assert((await store.getEvents()).length === 0);
   * ```
   */
  onEventsInserting(
    listener: InsertingListener<EventRecordOf<TEvents>, TransactionHandleOf<TAdapter>>,
  ): ListenerRegistration {
    if (isCommitChecked(this.adapter)) throw refusedListeners(this.adapter);
    return register(this.#writer.inserting, listener);
  }

  /**
   * Runs `projector` as a durable subscription called `name`: from its saved checkpoint
   * through the log (catch-up delivered hydrated, so `once` handlers stay silent), then
   * live, saving the checkpoint after each page, retrying and parking failing events,
   * one active instance per name across processes. See {@linkcode Subscription}. With
   * `partitions: n` the log is cut by stream into `n` partitions shared out among every
   * running instance of the name ({@linkcode PartitionedSubscription}).
   * Closing the store stops its subscriptions.
   *
   * @param name the subscription name (checkpoint, parked events and lease are kept under it)
   * @param projector the handlers
   * @param options `transactional`, `attempts`, `backoff`, `onFailure`, `version`, `state`, `reset`...
   * @returns the running subscription (`start: false` leaves it stopped); with
   *   `partitions`, a {@linkcode PartitionedSubscription}
   * @throws {StoreClosedError} when the store is closed
   * @throws {TypeError} for an empty name, a missing projector or a bad option
   * @throws {RangeError} for `partitions` that is not an integer from 1 to 1024
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * let ticks = 0;
   * const projector = new Projector<typeof events>();
   * projector.on("tick", () => void ticks++);
   * const subscription = store.subscribe("ticks", projector);
   * const record = await store.pushEvent(store.event({ type: "tick" }));
   * await subscription.waitFor(record.position, { timeout: 1000 }); // read your writes
   * assert.equal(ticks, 1);
   * ```
   */
  subscribe(
    name: string,
    projector: Projector<TEvents>,
    options: SubscriptionOptions = {},
  ): Subscription<TEvents, TransactionHandleOf<TAdapter>> {
    this.#open();
    if (options?.partitions !== undefined) {
      return new PartitionedSubscription(this, name, projector, options, this.#subscriptions);
    }
    return new Subscription(this, name, projector, options, this.#subscriptions);
  }

  /**
   * Registers a listener for failures of after-commit listeners.
   *
   * @param listener `(error, { records }) => void`
   * @returns a registration with `unsubscribe()`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const failures: unknown[] = [];
   * store.onError((error) => void failures.push(error));
   * store.onEventsInserted(() => { throw new Error("mailer down"); });
   * await store.pushEvent(store.event({ type: "tick" })); // stored all the same
   * assert(failures.length === 1 && (await store.getEvents()).length === 1);
   * ```
   */
  onError(listener: ErrorListener): ListenerRegistration {
    return register(this.#writer.hooks.errors, listener);
  }

  /**
   * Counts of events and streams, and the head position.
   *
   * @returns the adapter's stats
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * const [, last] = await store.pushManyEvents([store.event({ type: "tick", stream: "a" }), store.event({ type: "tick", stream: "b" })]);
   * assert.deepEqual(await store.stats(), { events: 2, streams: 2, head: last.position });
   * ```
   */
  async stats(): Promise<AdapterStats> {
    return await this.#opened().stats();
  }

  /**
   * Stops its subscriptions, waits for queued after-commit listeners, then closes the adapter (which closes what
   * it opened). Later calls throw {@linkcode StoreClosedError}. Idempotent.
   *
   * @returns once everything is closed
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, StoreClosedError } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([event.type("tick")]) });
   * await store.close();
   * await assert.rejects(store.pushEvent(store.event({ type: "tick" })), StoreClosedError);
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Appends already under way finish (or fail) before the adapter goes.
    await this.#writer.settled();
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.stop()));
    await this.#writer.hooks.idle();
    this.#unobserve();
    await this.adapter.close();
  }

  /** Closes the store, for `await using store = new EventStore(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
