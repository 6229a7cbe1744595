/**
 * `AggregateRoot`: a class that folds its stream with `with(record)`, exposes action
 * methods that `push` typed events, and `save()`s them with the revision it was loaded
 * at as the expected revision.
 *
 * @module
 */

import type { AnyEventFactory, EventInputOf, EventRecordOf } from "../events/factory.ts";
import type { PendingEvent } from "../events/record.ts";
import { validateEvent } from "../events/validate.ts";
import type { SnapshotPolicy } from "../reducers/make_reducer.ts";
import type { AggregateStore } from "./aggregate_store.ts";

/**
 * An aggregate class: its constructor and static settings.
 *
 * @typeParam TEvents the event factory
 * @typeParam TAggregate the instance type
 */
export interface AggregateClass<TEvents extends AnyEventFactory, TAggregate extends AggregateRoot<TEvents>> {
  /** Makes an empty aggregate for `stream`. */
  new (store: AggregateStore<TEvents>, stream: string): TAggregate;
  /** The aggregate's name (`static override readonly name = "user"`), used for snapshots. */
  readonly name: string;
  /** Version of the aggregate's state shape; snapshots of another version are ignored. */
  readonly version?: number;
  /** Snapshot policy (default: none). */
  readonly snapshot?: SnapshotPolicy;
}

/**
 * Base class of aggregates. Subclasses set `static override readonly name`, implement
 * `with(record)`, and write action methods that call `push`.
 *
 * @typeParam TEvents the event factory (`typeof events`)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AggregateRoot, event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { z } from "zod";
 *
 * const events = new EventFactory([event.type("user:email-set").data(z.string())]);
 * class User extends AggregateRoot<typeof events> {
 *   static override readonly name = "user";
 *   email = "";
 *   with(record: typeof events.$record): void {
 *     if (record.type === "user:email-set") this.email = record.data;
 *   }
 *   setEmail(email: string): this {
 *     return this.push({ type: "user:email-set", data: email });
 *   }
 * }
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * await store.aggregate.from(User, "u1").setEmail("a@x").save();
 * const user = await store.aggregate.getByStream(User, "u1");
 * assert(user?.email === "a@x" && user.revision === 1);
 * ```
 */
export abstract class AggregateRoot<TEvents extends AnyEventFactory> {
  /** The aggregate's main stream. */
  readonly id: string;
  readonly #store: AggregateStore<TEvents>;
  #staged: PendingEvent[] = [];
  #revisions: Map<string, number> = new Map();

  /**
   * Creates it.
   *
   * @param store the store it loads from and saves to
   * @param stream its stream
   */
  constructor(store: AggregateStore<TEvents>, stream: string) {
    this.#store = store;
    this.id = stream;
  }

  /**
   * Folds one record into the aggregate.
   *
   * @param record a stored record (or, right after `push`, a provisional one)
   */
  abstract with(record: EventRecordOf<TEvents>): void;

  /** The revision of the main stream this aggregate was loaded or last saved at (0 when new). */
  get revision(): number {
    return this.#revisions.get(this.id) ?? 0;
  }

  /** Events pushed and not saved yet. */
  get pending(): readonly PendingEvent[] {
    return this.#staged;
  }

  /** Whether it has pushed events that are not saved yet (valkyr's name). */
  get isDirty(): boolean {
    return this.#staged.length > 0;
  }

  /**
   * The events pushed and not saved yet, as a new array (valkyr's name for
   * {@linkcode AggregateRoot.pending}).
   *
   * @returns the pending events, oldest first
   */
  toPending(): PendingEvent[] {
    return [...this.#staged];
  }

  /**
   * Drops the events pushed and not saved yet. The state they were folded into stays as it
   * is: reload the aggregate to undo them.
   *
   * @returns this, for chaining
   */
  flush(): this {
    this.#staged = [];
    return this;
  }

  /**
   * Saves the pushed events, then stores a snapshot of the aggregate's stream, so later
   * loads start from it (valkyr's `aggregate.snapshot()`).
   *
   * @returns this, saved
   * @throws {TypeError} when the class keeps no snapshots (give it `static snapshot = "manual"`
   *   or `{ every: N }`, or build the store with `snapshot: "auto"`), since loads would never
   *   read it; nothing is saved then
   * @throws {ConcurrencyError} when the stream moved since it was loaded
   */
  async snapshot(): Promise<this> {
    await this.#store.aggregate.snapshot(this);
    return this;
  }

  /**
   * A new aggregate of this class in `store` (valkyr's static factory): empty with a new
   * stream id, or restored from a snapshot object as
   * {@linkcode AggregateRepository.fromSnapshot} does.
   *
   * @param store the store it belongs to
   * @param snapshot a state object (with `id` for its stream), as valkyr kept it
   * @returns the aggregate
   * @throws {TypeError} when `snapshot` is given and is not an object
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
   * const counter = Counter.from(store, { id: "c1", ticks: 5 });
   * assert(counter.id === "c1" && counter.ticks === 5);
   * ```
   */
  static from<TEvents extends AnyEventFactory, TAggregate extends AggregateRoot<TEvents>>(
    this: AggregateClass<TEvents, TAggregate>,
    store: AggregateStore<TEvents>,
    snapshot?: object,
  ): TAggregate {
    return snapshot === undefined ? store.aggregate.from(this) : store.aggregate.fromSnapshot(this, snapshot);
  }

  /** The store this aggregate belongs to. */
  get store(): AggregateStore<TEvents> {
    return this.#store;
  }

  /**
   * Stages an event (on this aggregate's stream unless the input names another),
   * validates it when its schemas are synchronous, and folds it in with `with()` at once.
   *
   * @param input the event input
   * @returns this, for chaining
   * @throws {EventValidationError} when the payload fails a synchronous schema
   */
  protected push(input: EventInputOf<TEvents>): this {
    const pending = this.#store.event({ ...input, stream: input.stream ?? this.id } as EventInputOf<TEvents>);
    const checked = validateEvent(this.#store.events, pending.type, pending.data, pending.meta);
    // Asynchronous schemas are checked again, in full, by save().
    const staged: PendingEvent = checked instanceof Promise ? pending : { ...pending, ...checked };
    const revision = (this.#revisions.get(staged.stream) ?? 0) +
      this.#staged.filter((event) => event.stream === staged.stream).length + 1;
    this.#staged.push(staged);
    this.with({ ...staged, revision, position: "", recorded: "", outdated: false } as EventRecordOf<TEvents>);
    return this;
  }

  /**
   * Appends the pushed events with the loaded revision as the expected revision, so two
   * writers that loaded the same revision cannot both commit.
   *
   * @returns this, at its new revision
   * @throws {ConcurrencyError} when the stream moved since it was loaded; reload and retry
   */
  async save(): Promise<this> {
    await this.#store.aggregate.save(this);
    return this;
  }

  /**
   * The state kept in snapshots: the aggregate's own enumerable fields. Override with
   * {@linkcode AggregateRoot.restore} for state that needs more care.
   *
   * @returns a plain object
   */
  snapshotState(): unknown {
    const state: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this)) if (key !== "id") state[key] = value;
    return state;
  }

  /**
   * Restores the fields saved by {@linkcode AggregateRoot.snapshotState}.
   *
   * @param state what a snapshot kept
   */
  restore(state: unknown): void {
    Object.assign(this, state);
  }

  /** @internal Expected revision per stream this aggregate saves to. */
  expectedRevisions(): Record<string, number | "any"> {
    const out: Record<string, number | "any"> = {};
    for (const event of this.#staged) {
      // A stream this aggregate never read is not its to guard, unless it is its own.
      out[event.stream] = this.#revisions.get(event.stream) ?? (event.stream === this.id ? 0 : "any");
    }
    return out;
  }

  /** @internal Records what was loaded or saved. */
  settle(revisions: Iterable<[string, number]>, clearStaged: boolean): void {
    for (const [stream, revision] of revisions) this.#revisions.set(stream, revision);
    if (clearStaged) this.#staged = [];
  }
}
