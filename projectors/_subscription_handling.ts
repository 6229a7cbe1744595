/**
 * How a subscription handles events: a page at a time (in one transaction when
 * `transactional`), retrying a failing event with backoff, then parking it or failing;
 * replaying parked events; resetting the read model for a rebuild.
 *
 * @module
 */

import { type AsyncContext, backoffDelay, delay } from "../async.ts";
import type { AnyEventFactory, EventRecordOf } from "../events/factory.ts";
import type { Adapter, ParkedEvent } from "../contract/mod.ts";
import { withinTransaction } from "../contract/_reentry.ts";
import type { Projector } from "./projector.ts";
import { deliverByStream, deliverInOrder, parkedOf } from "./_subscription_delivery.ts";
import { isStoreFailure } from "./_subscription_faults.ts";
import type { Settings } from "./_subscription_settings.ts";
import type { Progress } from "./_subscription_progress.ts";
import type { SubscriptionErrorContext } from "./subscription_options.ts";
import type { ReplayResult } from "./subscription_info.ts";

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
}

/** Delivers pages and parked events of one subscription. */
export class Handling<TEvents extends AnyEventFactory> {
  readonly #c: HandlingContext<TEvents>;

  /** @param context what handling needs of its subscription */
  constructor(context: HandlingContext<TEvents>) {
    this.#c = context;
  }

  #deliver(record: EventRecordOf<TEvents>, hydrated: boolean): Promise<void> {
    // An imported event stays hydrated, as it was for the listeners of its import.
    return this.#c.projector.push(record, { hydrated: hydrated || record.imported === true });
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
    if (this.#c.settings.transactional) await this.#inTransactions(page, hydrated, signal);
    else await this.#atLeastOnce(page, hydrated, signal);
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

  /** Delivers a page: stream by stream, or one event at a time (`sequential`). */
  #delivered(page: EventRecordOf<TEvents>[], hydrated: boolean) {
    const deliver = this.#c.settings.sequential ? deliverInOrder : deliverByStream;
    return deliver(page, (record) => this.#deliver(record, hydrated));
  }

  /** Delivers the page, retries what failed in log order, then saves the checkpoint. */
  async #atLeastOnce(page: EventRecordOf<TEvents>[], hydrated: boolean, signal: AbortSignal): Promise<void> {
    const { progress } = this.#c;
    const { done, failures } = await this.#delivered(page, hydrated);
    for (let i = 0; i < page.length && failures.size > 0; i++) {
      if (done[i]) continue;
      const first = failures.has(i) ? { attempts: 1, error: failures.get(i) } : undefined;
      let outcome: Outcome;
      try {
        outcome = await this.#retry(page[i], hydrated, first, signal, () => this.#deliver(page[i], hydrated));
      } catch (error) {
        await progress.saveBefore(page, i);
        throw error;
      }
      if (outcome === "aborted") return await progress.saveBefore(page, i);
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
    let failures: Map<number, unknown> | undefined;
    try {
      await withinTransaction(adapter, async (tx) => {
        const delivered = await this.#c.scope.run(
          { handle: tx.handle },
          () => this.#delivered(page, hydrated),
        );
        if (delivered.failures.size > 0) {
          failures = delivered.failures;
          throw new HandlerError(undefined);
        }
        await progress.saveIn(tx, progress.next(last));
      });
    } catch (error) {
      if (failures === undefined) throw error;
    }
    if (failures === undefined) return progress.advance(last);
    for (let i = 0; i < page.length; i++) {
      const record = page[i];
      const first = failures.has(i) ? { attempts: 1, error: failures.get(i) } : undefined;
      const outcome = await this.#retry(
        record,
        hydrated,
        first,
        signal,
        () => this.#oneInTransaction(record, hydrated),
      );
      if (outcome === "aborted") return;
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

  /** Delivers parked events again, once each, with the flags they had. */
  async replay(id: string | undefined, signal: AbortSignal): Promise<ReplayResult> {
    const { adapter, name, settings, progress } = this.#c;
    const parked = (await adapter.listParked(name)).filter((event) => id === undefined || event.id === id);
    const records = new Map(
      (await adapter.getByIds(parked.map((event) => event.id))).map((record) => [record.id, record]),
    );
    const replayed: string[] = [];
    const failed: ParkedEvent[] = [];
    for (const entry of parked) {
      const record = records.get(entry.id) as EventRecordOf<TEvents> | undefined;
      if (record === undefined || signal.aborted) continue;
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
      }
    }
    // A saved read model now holds the replayed events: save it with the checkpoint.
    if (replayed.length > 0 && settings.state !== undefined && progress.saved !== null) {
      await progress.save(progress.saved);
    }
    return { replayed, failed };
  }
}
