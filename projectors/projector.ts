/**
 * The projector: reacts to stored events with `once`, `on` and `all` handlers, keeping
 * each stream in order.
 *
 * @module
 */

import type { SystemEventType } from "../events/system.ts";
import type { EventRecord } from "../events/record.ts";
import type { AnyEventFactory, EventRecordOf, EventTypeOf } from "../events/factory.ts";
import { StreamQueue } from "./_stream_queue.ts";
import { checkFunction, checkType, deliver, type Entry, onceCallbacks, runs } from "./_projector_entries.ts";
import type {
  BatchHandler,
  OnceEffects,
  OnceOptions,
  ProjectedRecord,
  ProjectionStatus,
  ProjectorHandler,
  ProjectorRegistration,
} from "./projector_handlers.ts";

export type {
  BatchHandler,
  OnceEffects,
  OnceOptions,
  ProjectedRecord,
  ProjectionStatus,
  ProjectorHandler,
  ProjectorRegistration,
} from "./projector_handlers.ts";

/**
 * Reacts to events with handlers per event type, in three kinds:
 *
 * - `once`: fresh local events only (neither hydrated nor outdated), for side effects
 *   such as emails and payments;
 * - `on`: fresh and hydrated events, never outdated ones, for read models;
 * - `all`: every event.
 *
 * Records of one stream are handled one at a time in the order they were pushed, and
 * every handler is awaited; records of different streams run concurrently. A record's
 * handlers run in registration order; one failing does not stop the others.
 *
 * Errors: a `once` handler with `onError` hands its error there; any other handler
 * error makes that `push` reject (with an `AggregateError` when several handlers
 * failed). Records queued behind a failed one still run.
 *
 * @typeParam TEvents the event factory (`typeof events`), which types every handler
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, Projector } from "@eventfold/eventfold";
 * import { z } from "zod";
 *
 * const events = new EventFactory([event.type("user:created").data(z.object({ name: z.string() }))]);
 * const projector = new Projector<typeof events>();
 * const names: string[] = [];
 * projector.on("user:created", (record) => void names.push(record.data.name));
 *
 * await projector.push({
 *   id: "e1", stream: "u1", type: "user:created", data: { name: "Ada" }, meta: null, revision: 1,
 *   position: "1", created: "2026-01-01T00:00:00.000Z", recorded: "2026-01-01T00:00:00.000Z", outdated: false,
 * }, { hydrated: true });
 * assert(names[0] === "Ada");
 * ```
 */
export class Projector<TEvents extends AnyEventFactory = AnyEventFactory> {
  readonly #handlers = new Map<string, Entry[]>();
  readonly #batches = new Map<string, BatchHandler<EventRecordOf<TEvents>>>();
  readonly #queue = new StreamQueue();

  /**
   * Registers a handler for fresh local events only: it never sees hydrated or outdated
   * records, so a replay or an import never repeats its side effect.
   *
   * The callbacks come in two forms. The effects form (default, as in
   * @valkyr/event-store): `onSuccess({ data, record })`, where `data` is what the handler
   * returned, and `onError({ error, record })`. The positional form, chosen with
   * `style: "positional"`: `onSuccess(record, data)` and `onError(error, record)`.
   *
   * @param type the event type
   * @param handler runs once per fresh record of that type; awaited; its return value goes to `onSuccess`
   * @param options `onSuccess` after it succeeded, `onError` to receive its error instead of `push`
   * @returns a registration to unsubscribe with
   * @throws {TypeError} when `type` is empty, `handler` or a callback is not a function, or `style` is unknown
   * @example
   * ```ts
   * import { event, EventFactory, Projector } from "@eventfold/eventfold";
   * import { z } from "zod";
   *
   * const events = new EventFactory([event.type("user:created").data(z.object({ email: z.string() }))]);
   * const projector = new Projector<typeof events>();
   * const receipts: string[] = [];
   * projector.once("user:created", (record) => ({ receipt: `sent to ${record.data.email}` }), {
   *   onSuccess: ({ data }) => void receipts.push(data.receipt),
   *   onError: ({ error, record }) => console.error(`welcome mail for ${record.stream} failed`, error),
   * });
   * projector.once("user:created", () => {}, {
   *   style: "positional",
   *   onError: (error, record) => console.error(`welcome mail for ${record.stream} failed`, error),
   * });
   * ```
   */
  once<TType extends EventTypeOf<TEvents>, TData>(
    type: TType,
    handler: (record: ProjectedRecord<TEvents, TType>) => TData,
    options?: OnceEffects<ProjectedRecord<TEvents, TType>, Awaited<TData>>,
  ): ProjectorRegistration;
  /**
   * Registers a `once` handler whose callbacks take positional arguments
   * (`style: "positional"`): `onSuccess(record, data)` and `onError(error, record)`.
   *
   * @param type the event type
   * @param handler runs once per fresh record of that type; awaited
   * @param options `style: "positional"` and the callbacks
   * @returns a registration to unsubscribe with
   */
  once<TType extends EventTypeOf<TEvents>, TData>(
    type: TType,
    handler: (record: ProjectedRecord<TEvents, TType>) => TData,
    options: OnceOptions<ProjectedRecord<TEvents, TType>, Awaited<TData>>,
  ): ProjectorRegistration;
  once(
    type: string,
    handler: (record: never) => unknown,
    options?: OnceEffects<never, never> | OnceOptions<never, never>,
  ): ProjectorRegistration {
    const callbacks = onceCallbacks(options);
    return this.#register(type, { mode: "once", handler, callbacks } as Entry);
  }

  /**
   * Registers a handler for fresh and hydrated events; outdated ones are skipped so they
   * never overwrite newer data in a read model.
   *
   * @param type the event type
   * @param handler runs per record of that type that is not outdated; awaited
   * @returns a registration to unsubscribe with
   * @throws {TypeError} when `type` is empty or `handler` is not a function
   * @example
   * ```ts
   * import { event, EventFactory, Projector } from "@eventfold/eventfold";
   * import { z } from "zod";
   *
   * const events = new EventFactory([event.type("user:email-set").data(z.string())]);
   * const projector = new Projector<typeof events>();
   * const emails = new Map<string, string>();
   * const registration = projector.on("user:email-set", (record) => void emails.set(record.stream, record.data));
   * registration.unsubscribe();
   * ```
   */
  on<TType extends EventTypeOf<TEvents> | SystemEventType>(
    type: TType,
    handler: ProjectorHandler<ProjectedRecord<TEvents, TType>>,
  ): ProjectorRegistration {
    return this.#register(type, { mode: "on", handler } as Entry);
  }

  /**
   * Registers a handler for every event of a type: fresh, hydrated and outdated.
   *
   * @param type the event type
   * @param handler runs per record of that type; awaited
   * @returns a registration to unsubscribe with
   * @throws {TypeError} when `type` is empty or `handler` is not a function
   * @example
   * ```ts
   * import { event, EventFactory, Projector } from "@eventfold/eventfold";
   *
   * const events = new EventFactory([event.type("user:activated")]);
   * const projector = new Projector<typeof events>();
   * let seen = 0;
   * projector.all("user:activated", (record) => void (seen += record.outdated ? 0 : 1));
   * ```
   */
  all<TType extends EventTypeOf<TEvents> | SystemEventType>(
    type: TType,
    handler: ProjectorHandler<ProjectedRecord<TEvents, TType>>,
  ): ProjectorRegistration {
    return this.#register(type, { mode: "all", handler } as Entry);
  }

  /**
   * Registers the handler that receives whole batches pushed with
   * {@linkcode Projector.pushMany} under `key`, instead of record by record.
   *
   * @param key the batch key
   * @param handler receives the records of a batch and its status; awaited
   * @returns a registration to unsubscribe with
   * @throws {TypeError} when `key` is empty, `handler` is not a function or `key` already has a handler
   * @example
   * ```ts
   * import { Projector } from "@eventfold/eventfold";
   *
   * const projector = new Projector();
   * let rows = 0;
   * projector.batch("import", (records) => void (rows += records.length));
   * ```
   */
  batch(key: string, handler: BatchHandler<EventRecordOf<TEvents>>): ProjectorRegistration {
    checkType(key, "A batch key");
    checkFunction(handler, "A batch handler");
    if (this.#batches.has(key)) {
      throw new TypeError(`Batch key "${key}" already has a handler; unsubscribe it first`);
    }
    this.#batches.set(key, handler);
    return {
      unsubscribe: () => {
        if (this.#batches.get(key) === handler) this.#batches.delete(key);
      },
    };
  }

  /**
   * Runs the handlers of `record` that its status allows, after every record pushed
   * earlier on the same stream was handled.
   *
   * @param record the stored record
   * @param status `hydrated`, and `outdated` to override the record's own flag
   * @returns a promise that resolves when its handlers finished
   * @throws {TypeError} when `record` has no stream
   * @throws the handler's error (an `AggregateError` for several) when a handler failed
   *   and was not a `once` handler with `onError`
   * @example
   * ```ts
   * import { Projector } from "@eventfold/eventfold";
   *
   * const projector = new Projector();
   * const record = {
   *   id: "e1", stream: "s1", type: "noted", data: null, meta: null, revision: 1, position: "1",
   *   created: "2026-01-01T00:00:00.000Z", recorded: "2026-01-01T00:00:00.000Z", outdated: false,
   * };
   * await projector.push(record, { hydrated: false });
   * ```
   */
  push(record: EventRecordOf<TEvents>, status: ProjectionStatus): Promise<void> {
    const stored = record as EventRecord;
    if (typeof stored?.stream !== "string") {
      return Promise.reject(new TypeError("A projected record must have a string `stream`"));
    }
    const hydrated = status.hydrated === true;
    const outdated = status.outdated ?? (stored.outdated === true);
    return this.#queue.run([stored.stream], () => this.#handle(stored, hydrated, outdated));
  }

  /**
   * Pushes a batch: to the {@linkcode Projector.batch} handler of `key` when there is
   * one (it runs after earlier records of every stream in the batch, and later records
   * of those streams wait for it), otherwise record by record in order.
   *
   * @param key the batch key
   * @param records the records, in commit order
   * @param status defaults to fresh (`hydrated: false`), each record's own `outdated` applying
   * @returns a promise that resolves when the batch was handled
   * @throws the batch handler's error, or the first failing record's as {@linkcode Projector.push} would
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Projector } from "@eventfold/eventfold";
   *
   * const projector = new Projector();
   * const seen: string[] = [];
   * projector.batch("b1", (records) => void seen.push(...records.map((r) => r.id)));
   * await projector.pushMany("b1", [{
   *   id: "e1", stream: "s1", type: "noted", data: null, meta: null, revision: 1, position: "1",
   *   created: "2026-01-01T00:00:00.000Z", recorded: "2026-01-01T00:00:00.000Z", outdated: false,
   * }]);
   * assert(seen[0] === "e1");
   * ```
   */
  async pushMany(
    key: string,
    records: readonly EventRecordOf<TEvents>[],
    status: ProjectionStatus = { hydrated: false },
  ): Promise<void> {
    if (records.length === 0) return;
    const handler = this.#batches.get(key);
    if (handler === undefined) {
      // Queue every record before awaiting any, so other streams of the batch run concurrently.
      const settled = await Promise.allSettled(records.map((record) => this.push(record, status)));
      const failed = settled.find((outcome) => outcome.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      return;
    }
    const list = [...records];
    await this.#queue.run(list.map((record) => (record as EventRecord).stream), () => handler(list, status));
  }

  /**
   * Removes every handler and batch handler; records already queued run no handler.
   *
   * @example
   * ```ts
   * import { Projector } from "@eventfold/eventfold";
   *
   * const projector = new Projector();
   * projector.all("noted", () => {});
   * projector.clear();
   * ```
   */
  clear(): void {
    this.#handlers.clear();
    this.#batches.clear();
  }

  /**
   * The event types this projector has handlers for, sorted. A subscription reads only
   * these from the store (in SQL on SQLite and PostgreSQL), so a projector of a few types
   * catches up without reading the rest of the log.
   *
   * @returns the types
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, Projector } from "@eventfold/eventfold";
   * const events = new EventFactory([event.type("a"), event.type("b")]);
   * const projector = new Projector<typeof events>();
   * projector.on("b", () => {});
   * assert.deepEqual(projector.handledTypes(), ["b"]);
   * ```
   */
  handledTypes(): string[] {
    return [...this.#handlers.keys()].sort();
  }

  #register(type: string, entry: Entry): ProjectorRegistration {
    checkType(type, "An event type");
    checkFunction(entry.handler, "A handler");
    let entries = this.#handlers.get(type);
    if (entries === undefined) this.#handlers.set(type, entries = []);
    entries.push(entry);
    return {
      unsubscribe: () => {
        const current = this.#handlers.get(type);
        if (current === undefined) return;
        const index = current.indexOf(entry);
        if (index >= 0) current.splice(index, 1);
        if (current.length === 0) this.#handlers.delete(type);
      },
    };
  }

  async #handle(record: EventRecord, hydrated: boolean, outdated: boolean): Promise<void> {
    // Handlers are chosen when the record's turn comes, so an unsubscribe takes effect at once.
    const entries = (this.#handlers.get(record.type) ?? []).filter((e) => runs(e.mode, hydrated, outdated));
    const errors: unknown[] = [];
    for (const entry of entries) {
      try {
        await deliver(entry, record);
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(
        errors,
        `${errors.length} handlers failed on event ${record.id} (${record.type})`,
      );
    }
  }
}
