/**
 * The counter the aggregate and command cases share: an aggregate class, a reducer and
 * an event maker.
 *
 * @module
 */

import { AggregateRoot } from "../../aggregates/aggregate_root.ts";
import type { PendingEvent } from "../../events/record.ts";
import { makeReducer, type Reducer } from "../../reducers/make_reducer.ts";
import { collect, type Events, type Rec, type TestStore } from "../_fixture.ts";

/** A counter aggregate: `value` is the sum of its increments. */
export class Counter extends AggregateRoot<Events> {
  static override readonly name: string = "counter";
  /** The sum of the increments. */
  value = 0;

  /** Folds one record. */
  with(record: Rec): void {
    if (record.type === "counter:incremented") this.value += record.data.by;
  }

  /** Records an increment. */
  increment(by = 1): this {
    return this.push({ type: "counter:incremented", data: { by, before: this.value } });
  }
}

/** The sum of a stream's increments. */
export const total: Reducer<Events, number> = makeReducer<Events, number>(
  (sum, record) => record.type === "counter:incremented" ? sum + record.data.by : sum,
  0,
);

/** A `counter:incremented` event. */
export function increment(
  store: TestStore,
  stream: string,
  by: number,
  before: number,
): PendingEvent<"counter:incremented"> {
  return store.event({ type: "counter:incremented", stream, data: { by, before } });
}

/** The types of a stream's events, in revision order. */
export async function streamTypes(store: TestStore, stream: string): Promise<string[]> {
  return (await collect(store.readStream(stream))).map((record) => record.type);
}
