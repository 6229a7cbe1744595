/**
 * Importing a long sequence of events in chunks: each chunk is one atomic
 * `EventStore.import` call, so memory stays bounded and ids, `created` and the
 * `outdated` decision follow the core's rules. Ids already stored are skipped, which
 * makes a second run import nothing and lets an interrupted run be resumed.
 *
 * @module
 */

import type { AnyEventFactory, EventStore, PendingEvent } from "../mod.ts";
import { CliFailure } from "./_errors.ts";
import { plural } from "./_format.ts";
import type { Progress } from "./_progress.ts";

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

/**
 * Imports every event of `events` in chunks, advancing `progress`. A failure names how
 * far it got and says that running again resumes (stored ids are skipped).
 *
 * @param importer the chunked import
 * @param progress the progress display
 * @param events the events, in order
 * @param what `"import into <store>"` or `"copy to <store>"`, for the failure message
 * @throws {CliFailure} when the store refuses a chunk
 */
export async function importAll(
  importer: ChunkedImport,
  progress: Progress,
  events: AsyncIterable<PendingEvent>,
  what: string,
): Promise<void> {
  try {
    for await (const event of events) {
      const handed = await importer.add(event);
      if (handed > 0) progress.advance(handed);
    }
    progress.advance(await importer.flush());
  } catch (error) {
    progress.finish();
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliFailure(
      `${what} stopped after ${plural(importer.imported, "event")}: ${reason}; ` +
        "running it again resumes (events already stored are skipped)",
      { cause: error },
    );
  }
  progress.finish();
}
