/**
 * Delivering a batch of records: each stream in order, one record at a time, different
 * streams concurrently; a stream stops at its first failure, so nothing of it runs ahead
 * of a failed record.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";
import type { ParkedEvent } from "../contract/mod.ts";

/** What a batch delivery did. */
export interface Delivered {
  /** Per record (by index): whether its handlers succeeded. */
  readonly done: boolean[];
  /** The error of each record that failed (by index); records behind it in its stream were not tried. */
  readonly failures: Map<number, unknown>;
}

/**
 * Delivers `records` one at a time, in log order; stops at the first failure.
 *
 * @param records the batch, in log order
 * @param deliver runs a record's handlers; rejects when one failed
 * @returns which records succeeded and which failed
 */
export async function deliverInOrder<TRecord extends EventRecord>(
  records: readonly TRecord[],
  deliver: (record: TRecord) => Promise<void>,
): Promise<Delivered> {
  const done = new Array<boolean>(records.length).fill(false);
  const failures = new Map<number, unknown>();
  for (let index = 0; index < records.length; index++) {
    try {
      await deliver(records[index]);
      done[index] = true;
    } catch (error) {
      failures.set(index, error);
      break;
    }
  }
  return { done, failures };
}

/**
 * Delivers `records` stream by stream.
 *
 * @param records the batch, in log order
 * @param deliver runs a record's handlers; rejects when one failed
 * @returns which records succeeded and which failed
 */
export async function deliverByStream<TRecord extends EventRecord>(
  records: readonly TRecord[],
  deliver: (record: TRecord) => Promise<void>,
): Promise<Delivered> {
  const streams = new Map<string, number[]>();
  records.forEach((record, index) => {
    const list = streams.get(record.stream);
    if (list === undefined) streams.set(record.stream, [index]);
    else list.push(index);
  });
  const done = new Array<boolean>(records.length).fill(false);
  const failures = new Map<number, unknown>();
  await Promise.all([...streams.values()].map(async (indexes) => {
    for (const index of indexes) {
      try {
        await deliver(records[index]);
        done[index] = true;
      } catch (error) {
        failures.set(index, error);
        return;
      }
    }
  }));
  return { done, failures };
}

/** An error as one line of text for a parked event: its name, message and inner errors. */
export function errorText(error: unknown): string {
  if (error instanceof AggregateError) {
    return `${error.name}: ${error.message} [${error.errors.map(errorText).join("; ")}]`;
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The parked-event row of `record`. */
export function parkedOf(
  name: string,
  record: EventRecord,
  hydrated: boolean,
  error: unknown,
  attempts: number,
): ParkedEvent {
  return {
    name,
    id: record.id,
    position: record.position,
    stream: record.stream,
    type: record.type,
    hydrated,
    error: errorText(error),
    attempts,
    parked: new Date().toISOString(),
  };
}
