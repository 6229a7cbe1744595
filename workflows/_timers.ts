/**
 * The timers of one workflow: a fold of its timer stream (set, cancelled, fired), kept
 * up to date by reading what was appended since, and the firing of the due ones. A timer
 * fires by appending its event and a `"$workflow:timer-fired"` record in one append,
 * expected at the timer stream's revision as read: a cancel or a fire by another process
 * in between makes it fail and read again, and the event's id is fixed when it was set,
 * so each timer's event is appended once, whatever the number of processes.
 *
 * @module
 */

import { isConcurrencyError } from "../errors.ts";
import type { EventRecord, PendingEvent } from "../events/record.ts";
import { WORKFLOW_TYPES } from "../events/system.ts";
import {
  derivedId,
  type TimerRow,
  timerStream,
  workflowRecord,
  type WorkflowWriteOptions,
} from "./_records.ts";

/** What the timers need of the store. */
export interface TimerPort {
  /** Reads a stream from a revision on, in revision order. */
  readStream(stream: string, options: { readonly fromRevision: number }): AsyncIterable<EventRecord>;
  /** Appends, system records included; returns the records this call inserted (not those stored already). */
  write(pending: PendingEvent[], options: WorkflowWriteOptions): Promise<readonly EventRecord[]>;
}

function rowKey(key: string, id: string): string {
  return `${key}\u0000${id}`;
}

/** The pending timers of a workflow, as its timer stream says. */
export class TimerBook {
  readonly #workflow: string;
  readonly #stream: string;
  readonly #port: TimerPort;
  readonly #pending = new Map<string, TimerRow>();
  #revision = 0;
  /** Timers fired by this book. */
  fired = 0;

  /**
   * @param workflow the workflow's name
   * @param port the store
   */
  constructor(workflow: string, port: TimerPort) {
    this.#workflow = workflow;
    this.#stream = timerStream(workflow);
    this.#port = port;
  }

  /** The pending timers, soonest first. */
  get pending(): TimerRow[] {
    return [...this.#pending.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /**
   * Whether `row` is still pending, as last read (not fired, cancelled or set again).
   *
   * @param row a timer of an instance
   */
  holds(row: TimerRow): boolean {
    return this.#pending.get(rowKey(row.key, row.id))?.event.id === row.event.id;
  }

  /** Reads what the timer stream got since the last refresh. */
  async refresh(): Promise<void> {
    for await (const record of this.#port.readStream(this.#stream, { fromRevision: this.#revision + 1 })) {
      this.#revision = record.revision;
      const row = record.data as TimerRow;
      if (record.type === WORKFLOW_TYPES.timerSet) this.#pending.set(rowKey(row.key, row.id), row);
      else this.#pending.delete(rowKey(row.key, row.id));
    }
  }

  /**
   * Fires every timer due at `now` (ISO-8601), after reading the timer stream again.
   *
   * @param now the run's time
   * @returns how many fired
   */
  async fireDue(now: string): Promise<number> {
    await this.refresh();
    let count = 0;
    const failed: unknown[] = [];
    for (const row of this.pending) {
      if (row.at > now) break;
      try {
        if (await this.#fire(row, now)) count++;
      } catch (error) {
        // One timer whose event cannot be appended holds up no other: the rest fire, its error is reported.
        failed.push(error);
      }
    }
    this.fired += count;
    if (failed.length === 1) throw failed[0];
    if (failed.length > 1) throw new AggregateError(failed, `${failed.length} timers could not fire`);
    return count;
  }

  async #fire(row: TimerRow, now: string): Promise<boolean> {
    const fired = workflowRecord(
      WORKFLOW_TYPES.timerFired,
      this.#stream,
      await derivedId(this.#workflow, row.key, row.event.id, "fired"),
      { key: row.key, id: row.id, event: row.event.id },
      now,
    );
    let inserted: readonly EventRecord[];
    try {
      inserted = await this.#port.write([{ ...row.event, created: now }, fired], {
        expectedRevision: { [this.#stream]: this.#revision },
        causedBy: row.cause,
      });
    } catch (error) {
      // Cancelled, set again or fired meanwhile: the next round reads it and decides again.
      if (isConcurrencyError(error)) return false;
      throw error;
    }
    this.#pending.delete(rowKey(row.key, row.id));
    await this.refresh(); // the fired record moved the stream on
    // Nothing inserted: another process fired it first (its ids were stored already).
    return inserted.length > 0;
  }
}
