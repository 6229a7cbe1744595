/**
 * Appends made from inside a store transaction (an `onEventsInserting` listener, a
 * transactional subscription handler) cannot join it the same way on every store: one
 * would wait for itself, one would refuse, one would commit apart on another connection.
 * So every store refuses them alike, with a clear `TypeError`.
 *
 * @module
 */

import { AsyncContext } from "../async.ts";
import type { Adapter, AdapterTransaction } from "./adapter.ts";

const inside = new AsyncContext<Adapter>();

/**
 * Runs `work` in a transaction of `adapter`, marked so that an append to the same adapter
 * from inside it is refused.
 *
 * @param adapter the storage
 * @param work the transaction's body
 * @returns what `work` returns
 */
export function withinTransaction<THandle, T>(
  adapter: Adapter<THandle>,
  work: (tx: AdapterTransaction<THandle>) => Promise<T>,
): Promise<T> {
  return adapter.transaction((tx) => inside.run(adapter as Adapter, () => work(tx)));
}

/**
 * Runs `work` marked as inside a transaction of `adapter`.
 *
 * @param adapter the storage
 * @param work what runs inside
 * @returns what `work` returns
 */
export function markInside<T>(adapter: Adapter, work: () => Promise<T>): Promise<T> {
  return inside.run(adapter, work);
}

/**
 * Throws when the caller runs inside a transaction of `adapter`.
 *
 * @param adapter the storage an append is about to use
 * @throws {TypeError} inside such a transaction
 */
export function refuseReentry(adapter: Adapter): void {
  if (AsyncContext.tracked && inside.get() === adapter) {
    throw new TypeError(
      "Cannot append from inside a transaction of the same store (an onEventsInserting listener or a " +
        "transactional subscription handler): write through the transaction handle, or append from " +
        "an onEventsInserted listener after the commit",
    );
  }
}
