/**
 * How a subscription handles events: a page at a time (in one transaction when
 * `transactional`), retrying a failing event with backoff, then parking it or failing;
 * holding the streams of parked events back (`onFailure: "park-stream"`); replaying and
 * dropping parked events; resetting the read model for a rebuild.
 *
 * @module
 */

import { type AsyncContext, backoffDelay, delay } from "../async.ts";
import type { AnyEventFactory, EventRecordOf } from "../events/factory.ts";
import type { Adapter, ParkedEvent } from "../contract/mod.ts";
import { withinTransaction } from "../contract/_reentry.ts";
import type { Projector } from "./projector.ts";
import { deliverByStream, deliverInOrder, parkedOf } from "./_subscription_delivery.ts";
import { activeTelemetry, traceHandle, tracePage } from "./_subscription_telemetry.ts";
import type { Telemetry } from "../contract/telemetry.ts";
import { isStoreFailure } from "./_subscription_faults.ts";
import type { Settings } from "./_subscription_settings.ts";
import type { Progress } from "./_subscription_progress.ts";
import type { SubscriptionErrorContext } from "./subscription_options.ts";
import type { DropResult, ReplayResult } from "./subscription_info.ts";

/** A handler failed for good with `onFailure: "stop"`. */
export class Failed {
  /** @param error the handler's last error */
  constructor(readonly error: unknown) {}
}

/** A handler's error inside a transaction, told apart from the store's own errors. */
class HandlerError {
  constructor(readonly error: unknown) {}
}

type Outcome = "handled" | "parked" | "aborted";

/** What handling needs of its subscription. */
export interface HandlingContext<TEvents extends AnyEventFactory> {
  /** The subscription name. */
  readonly name: string;
  /** The store's adapter. */
  readonly adapter: Adapter;
  /** The handlers. */
  readonly projector: Projector<TEvents>;
  /** The checked options. */
  readonly settings: Settings;
  /** Carries the transaction handle to handlers (`subscription.tx()`). */
  readonly scope: AsyncContext<{ readonly handle: unknown }>;
  /** Where the subscription is in the log. */
  readonly progress: Progress;
  /** Tells `onError` (or the console). */
  readonly report: (error: unknown, context: Omit<SubscriptionErrorContext, "subscription">) => void;
  /** Where pages and handled events are reported (the store's telemetry). */
  readonly telemetry?: Telemetry;
}

/** Delivers pages and parked events of one subscription. */
export class Handling<TEvents extends AnyEventFactory> {
  readonly #c: HandlingContext<TEvents>;
  /** Whether a parked event holds the later events of its stream (`onFailure: "park-stream"`). */
  readonly #parkStream: boolean;
  /** The streams held back, each with the id of its first parked event. */
  readonly #held = new Map<string, string>();
  /**
   * Parked events after the checkpoint as loaded (parked before a crash, not yet passed by
   * the checkpoint): read again, they are not parked again as held over their own row.
   */
  readonly #parkedAhead = new Set<string>();

  /** Where pages and handled events are reported; `undefined`: nowhere. */
  readonly #telemetry: Telemetry | undefined;

  /** @param context what handling needs of its subscription */
  constructor(context: HandlingContext<TEvents>) {
    this.#c = context;
    this.#parkStream = context.settings.onFailure === "park-stream";
    this.#telemetry = activeTelemetry(context.telemetry);
  }

  /**
   * Loads the held streams with the checkpoint (`onFailure: "park-stream"`): every stream
   * with a parked event is held, whichever instance parked it.
   */
  async load(): Promise<void> {
    this.#held.clear();
    this.#parkedAhead.clear();
    if (!this.#parkStream) return;
    const { adapter, name, progress } = this.#c;
    const parked = await adapter.listParked(name);
    for (const event of parked) {
      if (progress.saved === null || event.position > progress.saved) this.#parkedAhead.add(event.id);
    }
    this.#holdAll(parked);
  }

  /** Holds the streams of `parked` (all of this subscription's parked events), and only those. */
  #holdAll(parked: readonly ParkedEvent[]): void {
    this.#held.clear();
    for (const event of parked) {
      if (!this.#held.has(event.stream)) this.#held.set(event.stream, event.id);
    }
    const ids = new Set(parked.map((event) => event.id));
    for (const id of this.#parkedAhead) if (!ids.has(id)) this.#parkedAhead.delete(id);
  }

  /** An event was parked: with `"park-stream"`, its stream is held from now on. */
  #hold(record: EventRecordOf<TEvents>): void {
    if (this.#parkStream && !this.#held.has(record.stream)) this.#held.set(record.stream, record.id);
  }

  /** The records of `page` whose streams are held (`undefined`: none). */
  #holding(page: EventRecordOf<TEvents>[]): Set<EventRecordOf<TEvents>> | undefined {
    if (this.#held.size === 0) return undefined;
    const held = new Set(page.filter((record) => this.#held.has(record.stream)));
    return held.size === 0 ? undefined : held;
  }

  /**
   * The parked row of a record its held stream keeps back (`attempts: 0`, flagged as it
   * would have been delivered); `undefined` when it was parked before a crash already.
   */
  #heldRow(record: EventRecordOf<TEvents>, hydrated: boolean): ParkedEvent | undefined {
    if (this.#parkedAhead.has(record.id)) return undefined;
    const holder = this.#held.get(record.stream);
    const why = `held behind parked event ${holder} of stream ${JSON.stringify(record.stream)}`;
    return parkedOf(this.#c.name, record, hydrated, why, 0);
  }

  #deliver(record: EventRecordOf<TEvents>, hydrated: boolean): Promise<void> {
    // An imported event stays hydrated, as it was for the listeners of its import.
    const flags = { hydrated: hydrated || record.imported === true };
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return this.#c.projector.push(record, flags);
    return traceHandle(
      telemetry,
      this.#c.name,
      record,
      flags.hydrated,
      () => this.#c.projector.push(record, flags),
    );
  }

  /** Runs `deliver` with the transaction handle visible to handlers, marking their errors. */
  async #inScope(handle: unknown, deliver: () => Promise<void>): Promise<void> {
    try {
      await this.#c.scope.run({ handle }, deliver);
    } catch (error) {
      throw new HandlerError(error);
    }
  }

  /**
   * Handles one page and saves the checkpoint after it; on an abort, saves it before the
   * first event neither handled nor parked.
   *
   * @throws {Failed} when an event failed for good with `onFailure: "stop"`
   */
  async page(page: EventRecordOf<TEvents>[], hydrated: boolean, signal: AbortSignal): Promise<void> {
    const handle = () =>
      this.#c.settings.transactional
        ? this.#inTransactions(page, hydrated, signal)
        : this.#atLeastOnce(page, hydrated, signal);
    const telemetry = this.#telemetry;
    await (telemetry === undefined ? handle() : tracePage(telemetry, this.#c.name, page, hydrated, handle));
  }

  /**
   * Moves the checkpoint past events no handler takes (read with the projector's types,
   * none of them came back), so a restart does not read them again.
   *
   * @param position the newest position every handled event is at or below
   */
  async skipTo(position: string): Promise<void> {
    await this.#c.progress.skip(position);
  }

  /** Delivers a page: stream by stream, or one event at a time (`sequential`); leaves `held` out. */
  #delivered(page: EventRecordOf<TEvents>[], hydrated: boolean, held?: ReadonlySet<EventRecordOf<TEvents>>) {
    const deliver = this.#c.settings.sequential ? deliverInOrder : deliverByStream;
    return deliver(page, (record) => held?.has(record) ? Promise.resolve() : this.#deliver(record, hydrated));
  }

  /** Delivers the page, retries what failed in log order, then saves the checkpoint. */
  async #atLeastOnce(page: EventRecordOf<TEvents>[], hydrated: boolean, signal: AbortSignal): Promise<void> {
    const { adapter, progress } = this.#c;
    const holding = this.#holding(page);
    const { done, failures } = await this.#delivered(page, hydrated, holding);
    for (let i = 0; i < page.length && (failures.size > 0 || holding !== undefined); i++) {
      let outcome: Outcome;
      try {
        // Held back, also behind an event parked earlier in this page (a failed stream was
        // not delivered further). Parking it again replaces it: a crash before the
        // checkpoint is harmless.
        if (this.#held.has(page[i].stream)) {
          const row = this.#heldRow(page[i], hydrated);
          if (row !== undefined) await adapter.parkEvent(row);
          continue;
        }
        if (done[i]) continue;
        const first = failures.has(i) ? { attempts: 1, error: failures.get(i) } : undefined;
        outcome = await this.#retry(page[i], hydrated, first, signal, () => this.#deliver(page[i], hydrated));
      } catch (error) {
        await progress.saveBefore(page, i);
        throw error;
      }
      if (outcome === "aborted") return await progress.saveBefore(page, i);
      if (outcome === "parked") this.#hold(page[i]);
    }
    await progress.save(page[page.length - 1].position);
  }

  /**
   * Exactly once for a read model in the store: the page and its checkpoint in one
   * transaction; when a handler fails, that transaction is rolled back and the page is
   * handled again one event per transaction, retrying the failing one.
   */
  async #inTransactions(
    page: EventRecordOf<TEvents>[],
    hydrated: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const { adapter, progress } = this.#c;
    const last = page[page.length - 1].position;
    const holding = this.#holding(page);
    let failures: Map<number, unknown> | undefined;
    try {
      await withinTransaction(adapter, async (tx) => {
        const delivered = await this.#c.scope.run(
          { handle: tx.handle },
          () => this.#delivered(page, hydrated, holding),
        );
        if (delivered.failures.size > 0) {
          failures = delivered.failures;
          throw new HandlerError(undefined);
        }
        // Held events are parked with the checkpoint that moves past them, or not at all.
        for (const record of holding ?? []) {
          const row = this.#heldRow(record, hydrated);
          if (row !== undefined) await tx.parkEvent(row);
        }
        await progress.saveIn(tx, progress.next(last));
      });
    } catch (error) {
      if (failures === undefined) throw error;
    }
    if (failures === undefined) return progress.advance(last);
    for (let i = 0; i < page.length; i++) {
      const record = page[i];
      if (this.#held.has(record.stream)) {
        const row = this.#heldRow(record, hydrated);
        if (row === undefined) await progress.save(record.position);
        else await this.#park(row);
        continue;
      }
      const first = failures.has(i) ? { attempts: 1, error: failures.get(i) } : undefined;
      const outcome = await this.#retry(
        record,
        hydrated,
        first,
        signal,
        () => this.#oneInTransaction(record, hydrated),
      );
      if (outcome === "aborted") return;
      if (outcome === "parked") this.#hold(record);
    }
  }

  async #oneInTransaction(record: EventRecordOf<TEvents>, hydrated: boolean): Promise<void> {
    const { adapter, progress } = this.#c;
    await withinTransaction(adapter, async (tx) => {
      await this.#inScope(tx.handle, () => this.#deliver(record, hydrated));
      await progress.saveIn(tx, progress.next(record.position));
    });
    progress.advance(record.position);
  }

  /**
   * Tries `attempt` until it succeeds or the attempts run out, with backoff between
   * tries; then parks the record or throws `Failed`. Store errors (not the handler's) in
   * a transaction go up at once.
   */
  async #retry(
    record: EventRecordOf<TEvents>,
    hydrated: boolean,
    first: { attempts: number; error: unknown } | undefined,
    signal: AbortSignal,
    attempt: () => Promise<void>,
  ): Promise<Outcome> {
    const { settings, report } = this.#c;
    let attempts = first?.attempts ?? 0;
    let error = first?.error;
    while (attempts === 0 || attempts < settings.attempts) {
      if (attempts > 0) {
        await this.#unlessStoreDown(error);
        const wait = backoffDelay(attempts, settings.backoff, settings.maxBackoff);
        report(error, { record, attempt: attempts, action: "retry", delay: wait });
        await delay(wait, signal);
        if (signal.aborted) return "aborted";
      }
      attempts++;
      try {
        await attempt();
        return "handled";
      } catch (caught) {
        if (settings.transactional && !(caught instanceof HandlerError)) throw caught;
        error = caught instanceof HandlerError ? caught.error : caught;
      }
    }
    await this.#unlessStoreDown(error);
    if (settings.onFailure === "stop") {
      report(error, { record, attempt: attempts, action: "stop" });
      throw new Failed(error);
    }
    report(error, { record, attempt: attempts, action: "park" });
    await this.#park(parkedOf(this.#c.name, record, hydrated, error, attempts));
    return "parked";
  }

  /**
   * Throws when a handler's failure is the store's: a lost connection or a closed store,
   * or any error while the store does not answer a probe. Such a failure is an outage,
   * recovered from without end; it must not use up the event's attempts and park it.
   */
  async #unlessStoreDown(error: unknown): Promise<void> {
    if (isStoreFailure(error)) throw error;
    await this.#c.adapter.getCheckpoint(this.#c.name);
  }

  /** Parks an event; in a transaction, the checkpoint moves past it in the same one. */
  async #park(parked: ParkedEvent): Promise<void> {
    const { adapter, progress } = this.#c;
    if (!this.#c.settings.transactional) return await adapter.parkEvent(parked);
    await withinTransaction(adapter, async (tx) => {
      await tx.parkEvent(parked);
      await progress.saveIn(tx, progress.next(parked.position));
    });
    progress.advance(parked.position);
  }

  /** Empties the read model (the `reset` option) and resets the checkpoint and parked events together. */
  async reset(): Promise<void> {
    const { adapter, name, settings, progress } = this.#c;
    const update = { position: null, version: settings.version };
    // Every parked event goes, so no stream is held (a failed reset reloads them with the checkpoint).
    this.#held.clear();
    this.#parkedAhead.clear();
    const parked = await adapter.listParked(name);
    if (!settings.transactional) {
      // Checkpoint first: a crash before the read model is emptied leaves a null checkpoint,
      // and a start from a null checkpoint empties the read model again (see #load).
      await progress.reset(update);
      for (const event of parked) await adapter.unparkEvent(name, event.id);
      await settings.reset?.();
      return;
    }
    await withinTransaction(adapter, async (tx) => {
      await this.#c.scope.run({ handle: tx.handle }, async () => await settings.reset?.());
      for (const event of parked) await tx.unparkEvent(name, event.id);
      await progress.saveIn(tx, update);
    });
    progress.advance(null);
  }

  /**
   * Delivers parked events again, once each, with the flags they had (all of them, or
   * `id`). With `"park-stream"`, `id` replays its stream's parked events up to and
   * including it, never one ahead of an earlier parked event of its stream.
   */
  async replay(id: string | undefined, signal: AbortSignal): Promise<ReplayResult> {
    const parked = await this.#c.adapter.listParked(this.#c.name);
    if (id === undefined) return await this.#replayed(parked, signal);
    const entry = parked.find((event) => event.id === id);
    if (entry === undefined) return await this.#replayed([], signal);
    if (!this.#parkStream) return await this.#replayed([entry], signal);
    return await this.#replayed(
      parked.filter((event) => event.stream === entry.stream && event.position <= entry.position),
      signal,
    );
  }

  /**
   * Removes a parked event without handling it. With `"park-stream"`, when it was the first
   * parked event of its stream, the events its stream held behind it are replayed next,
   * in order, up to the first that fails again.
   */
  async drop(id: string, signal: AbortSignal): Promise<DropResult> {
    const { adapter, name } = this.#c;
    const parked = await adapter.listParked(name);
    const entry = parked.find((event) => event.id === id);
    if (entry === undefined || !await adapter.unparkEvent(name, id)) {
      return { dropped: null, ...await this.#replayed([], signal) };
    }
    const stream = parked.filter((event) => event.stream === entry.stream);
    // An event behind an earlier parked one holds nothing: its stream stays held by that one.
    const behind = this.#parkStream && stream[0].id === id ? stream.slice(1) : [];
    return { dropped: entry, ...await this.#replayed(behind, signal) };
  }

  /**
   * Replays `parked` (in position order). With `"park-stream"`, a stream stops at its
   * first event that fails again (or is no longer in the log): the rest stay parked, and
   * the held streams are those with a parked event afterwards.
   */
  async #replayed(parked: readonly ParkedEvent[], signal: AbortSignal): Promise<ReplayResult> {
    const { adapter, name, settings, progress } = this.#c;
    const records = new Map(
      parked.length === 0
        ? []
        : (await adapter.getByIds(parked.map((event) => event.id))).map((record) => [record.id, record]),
    );
    const replayed: string[] = [];
    const failed: ParkedEvent[] = [];
    const stopped = new Set<string>();
    for (const entry of parked) {
      if (signal.aborted) break;
      if (stopped.has(entry.stream)) continue;
      const record = records.get(entry.id) as EventRecordOf<TEvents> | undefined;
      if (record === undefined) {
        if (this.#parkStream) stopped.add(entry.stream);
        continue;
      }
      try {
        if (settings.transactional) {
          await withinTransaction(adapter, async (tx) => {
            await this.#inScope(tx.handle, () => this.#deliver(record, entry.hydrated));
            await tx.unparkEvent(name, entry.id);
          });
        } else {
          await this.#deliver(record, entry.hydrated);
          await adapter.unparkEvent(name, entry.id);
        }
        replayed.push(entry.id);
      } catch (caught) {
        if (settings.transactional && !(caught instanceof HandlerError)) throw caught;
        const error = caught instanceof HandlerError ? caught.error : caught;
        const again = parkedOf(name, record, entry.hydrated, error, entry.attempts + 1);
        await adapter.parkEvent(again);
        failed.push(again);
        if (this.#parkStream) stopped.add(entry.stream);
      }
    }
    if (this.#parkStream) this.#holdAll(await adapter.listParked(name));
    // A saved read model now holds the replayed events: save it with the checkpoint.
    if (replayed.length > 0 && settings.state !== undefined && progress.saved !== null) {
      await progress.save(progress.saved);
    }
    return { replayed, failed };
  }
}
