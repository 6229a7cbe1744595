/**
 * Importing a long sequence of events in chunks: each chunk is one
 * `EventStore.import` call (atomic, unless it holds `"$subject:forgotten"` records,
 * which forget their subjects in the target too, each after the events before it), so
 * memory stays bounded and ids, `created` and the `outdated` decision follow the core's
 * rules. Ids already stored are skipped, which makes a second run import nothing and lets
 * an interrupted run be resumed.
 *
 * @module
 */

import { delay } from "../async.ts";
import type { AnyEventFactory, EventStore, PendingEvent } from "../mod.ts";
import { CliFailure, Interrupted } from "./_errors.ts";
import { count, plural } from "./_format.ts";
import type { Progress } from "./_progress.ts";

/**
 * Gathers events and imports them a chunk at a time. One chunk is in flight while the
 * next one gathers, so reading the source overlaps with the target's writing; chunks
 * still commit one after another, in order (two at once could interleave a stream).
 */
export class ChunkedImport {
  readonly #store: EventStore<AnyEventFactory>;
  readonly #size: number;
  #chunk: PendingEvent[] = [];
  #inFlight: Promise<void> | undefined;
  /** Events stored so far. */
  imported = 0;
  /** Events skipped so far because their id was stored already. */
  skipped = 0;
  /** Events handed to the store whose chunk has committed. */
  committed = 0;
  #reported = 0;

  /**
   * @param store where events go
   * @param size events per import call
   */
  constructor(store: EventStore<AnyEventFactory>, size: number) {
    this.#store = store;
    this.#size = size;
  }

  /**
   * Adds one event; when the chunk is full, waits for the chunk in flight and sends this one.
   *
   * @param event the event
   * @returns how many more events have committed since the last call (0 while the chunk fills)
   */
  async add(event: PendingEvent): Promise<number> {
    this.#chunk.push(event);
    if (this.#chunk.length < this.#size) return 0;
    await this.#settle();
    this.#send();
    // A store whose calls all resolve at once (SQLite) would never let the event loop
    // deliver a Ctrl-C; one macrotask per chunk lets it in.
    await delay(0);
    return this.#newlyCommitted();
  }

  #newlyCommitted(): number {
    const n = this.committed - this.#reported;
    this.#reported = this.committed;
    return n;
  }

  /**
   * Imports what is gathered and waits until every chunk has committed.
   *
   * @returns how many more events have committed since the last call
   */
  async flush(): Promise<number> {
    await this.#settle();
    this.#send();
    await this.#settle();
    return this.#newlyCommitted();
  }

  /** Waits for the chunk in flight, if any (after a failure, so nothing is left unobserved). */
  async #settle(): Promise<void> {
    const inFlight = this.#inFlight;
    this.#inFlight = undefined;
    await inFlight;
  }

  #send(): void {
    const chunk = this.#chunk;
    if (chunk.length === 0) return;
    this.#chunk = [];
    const sent = this.#store.import(chunk, { emit: false }).then(({ imported, skipped }) => {
      this.imported += imported.length;
      this.skipped += skipped.length;
      this.committed += chunk.length;
    });
    // The chunk can fail while the next one gathers (a macrotask, file or page reads); an
    // unobserved rejection then would end the process before #settle rethrows it.
    sent.catch(() => {});
    this.#inFlight = sent;
  }

  /** Waits for the chunk in flight and ignores its outcome (after another failure). */
  async abandon(): Promise<void> {
    await this.#settle().catch(() => {});
  }
}

/**
 * Imports every event of `events` in chunks, advancing `progress`. A failure names how
 * far it got and says that running again resumes (stored ids are skipped). Ctrl-C
 * (`signal`) lets the chunk in flight commit, sends nothing more, and says so.
 *
 * @param importer the chunked import
 * @param progress the progress display
 * @param events the events, in order
 * @param what `"import into <store>"` or `"copy to <store>"`, for the failure message
 * @param signal aborted on Ctrl-C
 * @throws {CliFailure} when the store refuses a chunk
 * @throws {Interrupted} when `signal` aborts
 */
export async function importAll(
  importer: ChunkedImport,
  progress: Progress,
  events: AsyncIterable<PendingEvent>,
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  let interrupted = false;
  try {
    for await (const event of events) {
      const handed = await importer.add(event);
      if (handed > 0) progress.advance(handed);
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
    }
    if (interrupted) await importer.abandon();
    else progress.advance(await importer.flush());
  } catch (error) {
    await importer.abandon();
    progress.finish();
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliFailure(
      `${what} stopped after ${plural(importer.imported, "event")}: ${reason}; ` +
        "running it again resumes (events already stored are skipped)",
      { cause: error },
    );
  }
  progress.finish();
  if (interrupted) {
    throw new Interrupted(
      `${what} interrupted after ${plural(importer.committed, "event")}` +
        `${importer.committed > importer.imported ? ` (${count(importer.imported)} new)` : ""}; ` +
        "run it again to resume (events already stored are skipped)",
    );
  }
}
