/**
 * Importing a long sequence of events in chunks: each chunk is one atomic
 * `EventStore.import` call, so memory stays bounded and ids, `created` and the
 * `outdated` decision follow the core's rules. Ids already stored are skipped, which
 * makes a second run import nothing and lets an interrupted run be resumed.
 *
 * @module
 */

import type { AnyEventFactory, EventStore, PendingEvent } from "../mod.ts";

/** Gathers events and imports them a chunk at a time. */
export class ChunkedImport {
  readonly #store: EventStore<AnyEventFactory>;
  readonly #size: number;
  #chunk: PendingEvent[] = [];
  /** Events stored so far. */
  imported = 0;
  /** Events skipped so far because their id was stored already. */
  skipped = 0;

  /**
   * @param store where events go
   * @param size events per import call
   */
  constructor(store: EventStore<AnyEventFactory>, size: number) {
    this.#store = store;
    this.#size = size;
  }

  /**
   * Adds one event, importing the chunk when it is full.
   *
   * @param event the event
   * @returns how many events were handed to the store now (0 while the chunk fills)
   */
  async add(event: PendingEvent): Promise<number> {
    this.#chunk.push(event);
    return this.#chunk.length >= this.#size ? await this.flush() : 0;
  }

  /**
   * Imports what is gathered.
   *
   * @returns how many events were handed to the store
   */
  async flush(): Promise<number> {
    const chunk = this.#chunk;
    if (chunk.length === 0) return 0;
    this.#chunk = [];
    const { imported, skipped } = await this.#store.import(chunk, { emit: false });
    this.imported += imported.length;
    this.skipped += skipped.length;
    return chunk.length;
  }
}
