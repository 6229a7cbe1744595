/**
 * The write path of a store: validation, stream locks, the append, and the after-commit
 * hooks in commit order. `close()` waits for the writes under way.
 *
 * @module
 */

import type { Adapter } from "../contract/adapter.ts";
import { refuseReentry } from "../contract/_reentry.ts";
import type { RelationChange } from "../contract/relation_storage.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import type { EventRecord, PendingEvent } from "../events/record.ts";
import { validateEvent } from "../events/validate.ts";
import { append, type AppendOutcome, type AppendPlan, KeyTakenError, type Removal } from "./_append.ts";
import { EventInsertionError } from "../errors.ts";
import { causedMeta, checkCause } from "../events/correlation.ts";
import { uuidv7 } from "../events/id.ts";
import { isSystemType, STREAM_DELETED, SYSTEM_STREAM } from "../events/system.ts";
import type { RecordReader } from "./_evolve.ts";
import { checkForgotten, isForgottenImport } from "./_forgotten.ts";
import { HookQueue } from "./_hook_queue.ts";
import { expectations } from "./_input.ts";
import { streamName } from "./_pages.ts";
import { StreamLocks } from "./_stream_locks.ts";
import { tracedAppend } from "./_telemetry.ts";
import type { Telemetry, TelemetryAttributes } from "../contract/telemetry.ts";
import type { InsertingListener, PushOptions } from "./event_store_options.ts";

/** How often an append is sealed again when other writers keep giving its new subjects keys first. */
const KEY_ATTEMPTS = 8;
/** What one write stored, returned (stored earlier) and skipped. */
export interface WriteResult<TRecord> {
  /** The records of the call, stored now or before, in call order. */
  readonly records: TRecord[];
  /** The records stored by this call. */
  readonly inserted: TRecord[];
  /** Ids of the call that were stored already. */
  readonly skipped: string[];
}

/**
 * Appends for one store.
 *
 * @typeParam TRecord the store's record type
 * @typeParam THandle the adapter's transaction handle
 */
export class Writer<TRecord extends EventRecord, THandle> {
  /** After-commit listeners. */
  readonly hooks: HookQueue<TRecord> = new HookQueue();
  /** In-transaction listeners. */
  readonly inserting: Set<InsertingListener<TRecord, THandle>> = new Set();
  readonly #adapter: Adapter;
  readonly #events: AnyEventFactory;
  readonly #open: () => void;
  readonly #records: RecordReader;
  readonly #locks: StreamLocks = new StreamLocks();
  readonly #writing: Set<Promise<unknown>> = new Set();
  readonly #telemetry: Telemetry | undefined;
  readonly #system: TelemetryAttributes;

  /**
   * Creates it.
   *
   * @param adapter the storage
   * @param events the definitions payloads are validated against
   * @param open throws when the store is closed
   * @param records reads what was stored in the current shape
   * @param telemetry where appends are reported (`undefined`: nowhere)
   * @param system the database attributes of what is reported
   */
  constructor(
    adapter: Adapter,
    events: AnyEventFactory,
    open: () => void,
    records: RecordReader,
    telemetry?: Telemetry,
    system: TelemetryAttributes = {},
  ) {
    this.#telemetry = telemetry;
    this.#system = system;
    this.#records = records;
    this.#adapter = adapter;
    this.#events = events;
    this.#open = open;
  }

  /**
   * Validates and appends `pending`, then runs the after-commit hooks.
   *
   * @param pending the checked events
   * @param options expected revisions, relations, batch, emit
   * @param imported true for `import()`
   */
  write(pending: PendingEvent[], options: PushOptions, imported: boolean): Promise<WriteResult<TRecord>> {
    const fromListener = HookQueue.inListener();
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return this.#tracked(this.#write(pending, options, imported, fromListener));
    return this.#tracked(
      tracedAppend(
        telemetry,
        this.#system,
        pending,
        imported ? "import" : "append",
        () => this.#write(pending, options, imported, fromListener),
      ),
    );
  }

  /**
   * Removes a stream and appends its `"$stream:deleted"` record, in one transaction, then
   * runs the after-commit hooks with that record.
   *
   * @param removal the stream, its expected revision and whether to tombstone it
   * @param created the record's `created` (the store's clock)
   * @returns the record appended
   */
  async remove(removal: Removal, created: string): Promise<EventRecord> {
    const record: PendingEvent = {
      id: uuidv7(),
      stream: SYSTEM_STREAM,
      type: STREAM_DELETED,
      // The revision is read inside the transaction; the append path fills it in.
      data: { stream: removal.stream, revision: 0, tombstone: removal.tombstone },
      meta: null,
      created,
      version: 1,
    };
    const telemetry = this.#telemetry;
    const fromListener = HookQueue.inListener();
    const write = () => this.#write([record], {}, false, fromListener, removal);
    const { records } = await this.#tracked(
      telemetry === undefined
        ? write()
        : tracedAppend(telemetry, this.#system, [record], "deleteStream", write, removal.stream),
    );
    return records[0];
  }

  /**
   * Checks events as a write would (schemas, personal fields), writing nothing: for an
   * import that writes in several parts and must refuse bad input before the first.
   *
   * @param pending the checked events
   * @throws {EventValidationError} for an event a write would refuse
   */
  async check(pending: PendingEvent[]): Promise<void> {
    // With keys left to the append, sealing stores none: it only looks them up.
    await this.#records.seal(await this.#validate(pending), true);
  }

  /** Resolves when every write under way has finished (or failed), and their hooks ran. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#writing]);
  }

  /** Keeps `write` in the set `close()` waits for while it runs. */
  #tracked<T>(write: Promise<T>): Promise<T> {
    this.#writing.add(write);
    const done = () => void this.#writing.delete(write);
    write.then(done, done);
    return write;
  }

  /** Validates every event; synchronous schemas (most) cost no promise per event. */
  #validate(pending: readonly PendingEvent[]): PendingEvent[] | Promise<PendingEvent[]> {
    const out: PendingEvent[] = new Array(pending.length);
    let waiting: Promise<void>[] | undefined;
    try {
      for (let i = 0; i < pending.length; i++) {
        const event = pending[i];
        if (isSystemType(event.type)) {
          out[i] = event; // made by the store itself
          continue;
        }
        if (isForgottenImport(event)) {
          // Stored as given, once it reads valid but for its personal fields (gone).
          out[i] = event;
          (waiting ??= []).push(
            checkForgotten(this.#events, (read, index) => this.#records.checkImport(read, index), event, i),
          );
          continue;
        }
        if (
          event.version !== undefined && event.version !== this.#events.resolve(event.type)?.currentVersion
        ) {
          // Imported at an older version: stored as given, once its upcast reads back valid.
          out[i] = event;
          (waiting ??= []).push(this.#records.checkImport(event, i));
          continue;
        }
        const valid = validateEvent(this.#events, event.type, event.data, event.meta);
        if (valid instanceof Promise) {
          (waiting ??= []).push(valid.then(({ data, meta }) => void (out[i] = { ...event, data, meta })));
        } else {
          out[i] = { ...event, data: valid.data, meta: valid.meta };
        }
      }
    } catch (error) {
      // The call fails with the first synchronous error; the pending checks are dropped.
      for (const check of waiting ?? []) check.catch(() => {});
      throw error;
    }
    return waiting === undefined ? out : Promise.all(waiting).then(() => out);
  }

  async #write(
    pending: PendingEvent[],
    options: PushOptions,
    imported: boolean,
    fromListener: boolean,
    removal?: Removal,
  ): Promise<{ records: TRecord[]; inserted: TRecord[]; skipped: string[] }> {
    if (options.batch !== undefined && typeof options.batch !== "string") {
      throw new TypeError(`batch must be a string (a key handed to listeners), got ${typeof options.batch}`);
    }
    const cause = options.causedBy === undefined ? undefined : checkCause(options.causedBy);
    const valid = await this.#validate(pending);
    // After validation: a meta schema would strip the two keys.
    const clear = cause === undefined
      ? valid
      : valid.map((event, i) =>
        isSystemType(event.type)
          ? event
          : { ...event, meta: causedMeta(event.meta, cause, `event #${i} ("${event.type}")`) }
      );
    // The adapter holding the keys stores a new subject's key with its first events.
    const keysInAppend = this.#records.keyStore === (this.#adapter as unknown);
    const sealed = await this.#records.seal(clear, keysInAppend);
    const validated = sealed.events;
    // What was sealed here reads back from its cleartext, without decrypting it again.
    let written: Map<string, unknown> | undefined;
    for (let i = 0; i < clear.length; i++) {
      if (validated[i] !== clear[i]) (written ??= new Map()).set(clear[i].id, clear[i].data);
    }
    const relations: RelationChange[] = (options.relations ?? []).map((r) => ({
      op: r.op ?? "insert",
      key: streamName(r.key, "relation key"),
      stream: streamName(r.stream),
    }));
    const hydrated = imported;
    const listeners = [...this.inserting];
    let plan: AppendPlan = {
      events: validated,
      keys: sealed.keys,
      expected: removal === undefined
        ? expectations(options.expectedRevision, validated.map((event) => event.stream))
        : new Map([[removal.stream, removal.expected ?? "any"]]),
      relations,
      imported,
      removal,
      inTransaction: listeners.length === 0 ? undefined : async (records, handle) => {
        const context = { batch: options.batch, hydrated, tx: handle as THandle };
        const current = await this.#records.read(records, written) as TRecord[];
        for (const listener of listeners) await listener(current, context);
      },
    };
    this.#open();
    refuseReentry(this.#adapter);
    const release = await this.#locks.acquire([
      ...validated.map((event) => event.stream),
      ...(removal === undefined ? [] : [removal.stream]),
    ]);
    let outcome: AppendOutcome;
    let dispatched: Promise<void> | undefined;
    let stored: TRecord[];
    try {
      for (let attempt = 1;; attempt++) {
        try {
          outcome = await append(this.#adapter, plan);
          break;
        } catch (error) {
          if (!(error instanceof KeyTakenError)) throw error;
          if (attempt === KEY_ATTEMPTS) {
            throw new EventInsertionError(
              `The key of subject "${error.subject}" kept changing while appending (${KEY_ATTEMPTS} attempts)`,
              { cause: error },
            );
          }
          // Sealed again with the key the other writer stored.
          const again = await this.#records.seal(clear, keysInAppend);
          plan = { ...plan, events: again.events, keys: again.keys };
        }
      }
      stored = await this.#records.read(outcome.stored, written) as TRecord[];
      // Queued before the stream locks are released: listeners see each stream in commit order.
      if (stored.length > 0 && options.emit !== false) {
        dispatched = this.hooks.dispatch(stored, { batch: options.batch, hydrated });
      }
    } finally {
      release();
    }
    // A listener that appends gets its reply at once; its records' listeners run after it.
    if (!fromListener) await dispatched;
    const inserted = stored;
    const skipped = [...outcome.skipped];
    if (skipped.length === 0) return { records: inserted, inserted, skipped };
    const byId = new Map<string, EventRecord>(inserted.map((record) => [record.id, record]));
    for (const record of await this.#records.read(await this.#adapter.getByIds(skipped))) {
      byId.set(record.id, record);
    }
    const records = validated.map((event) => byId.get(event.id)).filter((record) => record !== undefined);
    return { records: [...new Set(records)] as TRecord[], inserted, skipped };
  }
}
