/**
 * Following the log while the subscription holds its lease: load the checkpoint (or
 * rebuild), read pages after it, history hydrated and later events fresh, serve rebuild
 * and replay requests between pages, pause, and go live once caught up.
 *
 * @module
 */

import { bounded, OVERDUE, type Signal, within } from "../async.ts";
import { PartitionsChangedError, TimeoutError } from "../errors.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import type { Adapter, Partition } from "../contract/mod.ts";
import { Failed, type Handling } from "./_subscription_handling.ts";
import { partitionOfName } from "./_partition_members.ts";
import type { Progress } from "./_subscription_progress.ts";
import type { Settings } from "./_subscription_settings.ts";
import type { Status } from "./_subscription_status.ts";
import type { SubscriptionSource } from "./subscription_source.ts";
import type { ReplayResult } from "./subscription_info.ts";

/** A rebuild, a replay or a drop of parked events, asked by a caller, served between pages. */
interface Request {
  readonly kind: "rebuild" | "replay" | "drop";
  readonly id?: string;
  readonly resolve: (value: ReplayResult | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** What following needs of its subscription. */
export interface FollowContext<TEvents extends AnyEventFactory> {
  /** The subscription name. */
  readonly name: string;
  /** The store. */
  readonly source: SubscriptionSource<TEvents>;
  /** The checked options. */
  readonly settings: Settings;
  /** Where the subscription is in the log. */
  readonly progress: Progress;
  /** Delivers pages and parked events. */
  readonly handling: Handling<TEvents>;
  /** Wakes the loop: a commit, a request, a pause, a stop. */
  readonly signal: Signal;
  /** The subscription's state. */
  readonly status: Status;
  /** The types its projector handles (`undefined`: every type), asked before each pass over the log. */
  readonly types: () => readonly string[] | undefined;
  /** Only this partition's streams (a part of a partitioned subscription). */
  readonly partition?: Partition;
  /** Where history ends for a run (default: the log's head when the run starts). */
  readonly historyAt?: () => Promise<string | null | undefined>;
}

/** The reading loop of one subscription, and the requests it serves. */
export class Follower<TEvents extends AnyEventFactory> {
  readonly #c: FollowContext<TEvents>;
  readonly #adapter: Adapter;
  #live = false;
  /** The last position that counts as history for this run (`undefined` before it is read). */
  #history: string | null | undefined;
  #historyAtStart: Promise<string | null | undefined> = Promise.resolve(undefined);
  #fresh = false;
  #requests: Request[] = [];
  #rebuilt: Request[] = [];
  /** Whether it delivers nothing until resumed (it keeps the lease). */
  paused = false;

  /** @param context what following needs of its subscription */
  constructor(context: FollowContext<TEvents>) {
    this.#c = context;
    this.#adapter = context.source.adapter;
  }

  /** A run starts: what is in the log at this moment is history. */
  begin(): void {
    this.#history = undefined;
    // Asked now, before the caller's next append.
    this.#historyAtStart = this.#c.historyAt?.() ??
      this.#adapter.stats().then((stats) => stats.head, () => undefined);
  }

  /** Asks for a rebuild, or a replay or drop of parked events, served by the active run between pages. */
  request(kind: Request["kind"], id?: string): Promise<ReplayResult | undefined> {
    const { promise, resolve, reject } = Promise.withResolvers<ReplayResult | undefined>();
    this.#requests.push({ kind, id, resolve, reject });
    this.#c.signal.notify();
    return promise;
  }

  /** The run ended: rejects every request not served, and every rebuild not caught up. */
  fail(error: unknown): void {
    for (const request of [...this.#requests.splice(0), ...this.#rebuilt.splice(0)]) request.reject(error);
  }

  /** Follows the log until `signal` aborts (or a store call fails). */
  async follow(signal: AbortSignal): Promise<void> {
    const { name, source, settings, progress, handling, status } = this.#c;
    // Events up to the head at start are history (hydrated); later ones are fresh, also
    // when they are read during catch-up or after an in-process recovery.
    if (this.#history === undefined) this.#history = await this.#historyAtStart;
    if (this.#history === undefined) this.#history = (await this.#adapter.stats()).head;
    await this.#load();
    while (!signal.aborted) {
      const request = this.#requests.shift();
      if (request !== undefined) {
        await this.#serve(request, signal);
        continue;
      }
      if (this.paused) {
        status.set("paused");
        await this.#c.signal.wait(settings.pollInterval);
        continue;
      }
      status.set(this.#live ? "live" : "catching-up");
      this.#c.signal.clear();
      let complete = true;
      const after = progress.position ?? undefined;
      // Only the types the projector handles are read, in the store. What they skip moves the
      // checkpoint too, up to the head as it was before the pass (nothing readable below it
      // was missed), so a restart does not read the skipped part again.
      const types = this.#c.types();
      const partition = this.#c.partition;
      const head = types === undefined && partition === undefined ? undefined : await this.#head();
      // It polls and is woken anyway, so a page never waits for held-back events.
      const pages = within(
        source.readAllPages({ after, settle: false, types, partition }),
        settings.readTimeout,
        `reading the log for subscription "${name}" (the store did not answer)`,
      );
      for await (const page of pages) {
        const history = this.#fresh ? 0 : historyLength(page, this.#history ?? null);
        if (history > 0) await handling.page(page.slice(0, history), true, signal);
        if (history < page.length && !signal.aborted) {
          await handling.page(history === 0 ? page : page.slice(history), false, signal);
        }
        if (signal.aborted || this.paused || this.#requests.length > 0) {
          complete = false;
          break;
        }
      }
      if (!complete) continue;
      // The log was read: any outage is over (`lastError` keeps it).
      progress.error = undefined;
      if (!this.#live) {
        this.#live = true;
        status.set("live");
        for (const rebuilt of this.#rebuilt.splice(0)) rebuilt.resolve(undefined);
      }
      if (head !== undefined && head !== null && (progress.position === null || head > progress.position)) {
        await handling.skipTo(head);
      }
      await this.#c.signal.wait(settings.pollInterval);
    }
  }

  /** The newest readable position (`null`: the log is empty). */
  async #head(): Promise<string | null> {
    const { name, settings } = this.#c;
    const read = await bounded(
      this.#adapter.readLog({ direction: "backward", limit: 1 }),
      settings.readTimeout,
    );
    if (read === OVERDUE) {
      throw new TimeoutError(
        `reading the log for subscription "${name}" (the store did not answer)`,
        settings.readTimeout,
      );
    }
    return read[0]?.position ?? null;
  }

  /** Loads the checkpoint: restores the saved state, or rebuilds when the version changed. */
  async #load(): Promise<void> {
    const { name, settings, progress } = this.#c;
    const checkpoint = await this.#adapter.getCheckpoint(name);
    if (checkpoint === undefined && this.#c.partition === undefined) await this.#unpartitioned();
    progress.saved = checkpoint?.position ?? null;
    progress.position = null;
    this.#live = false;
    const { version, state } = settings;
    const otherVersion = checkpoint !== undefined && version !== undefined && checkpoint.version !== version;
    if (otherVersion && this.#c.partition !== undefined) {
      // A partition never resets itself: its subscription resets them all at once. Another
      // version saved this checkpoint, so another version of the code runs the name now.
      throw new Failed(
        new Error(
          `the checkpoint of ${name} was saved by version ${checkpoint.version} of the subscription, ` +
            `not ${version}: another version runs it now`,
        ),
      );
    }
    const stateMissing = state !== undefined && checkpoint?.position != null &&
      checkpoint.state === undefined;
    // No checkpoint (a first start, an external reset, a crash inside a rebuild): the read
    // model must start empty, so the reset hook runs before everything is replayed.
    const fromScratch = checkpoint?.position == null && settings.reset !== undefined;
    if (otherVersion || stateMissing || fromScratch) return await this.#reset();
    if (state !== undefined && checkpoint?.state !== undefined) await state.restore(checkpoint.state);
    await this.#c.handling.load();
    this.#fresh = settings.resumeFresh && progress.saved !== null;
    progress.loaded();
  }

  /**
   * A first start of a subscription that is not partitioned: partition checkpoints under
   * its name mean its read model was built partitioned, which only a rebuild changes.
   *
   * @throws {Failed} with a {@linkcode PartitionsChangedError} when there are some and no rebuild is asked
   */
  async #unpartitioned(): Promise<void> {
    const { name } = this.#c;
    const parts = (await this.#adapter.listCheckpoints()).filter((c) => partitionOfName(name, c.name));
    if (parts.length === 0) return;
    if (!this.#requests.some((request) => request.kind === "rebuild")) {
      const counts = [...new Set(parts.map((c) => partitionOfName(name, c.name)!.count))];
      throw new Failed(new PartitionsChangedError(name, 1, counts));
    }
    const names = new Set(parts.map((checkpoint) => checkpoint.name));
    for (const event of await this.#adapter.listParked()) {
      if (names.has(event.name)) await this.#adapter.unparkEvent(event.name, event.id);
    }
    for (const checkpoint of parts) await this.#adapter.deleteCheckpoint(checkpoint.name);
  }

  async #reset(): Promise<void> {
    await this.#c.handling.reset();
    this.#live = false;
    this.#fresh = false;
    this.#history = (await this.#adapter.stats()).head;
  }

  async #serve(request: Request, signal: AbortSignal): Promise<void> {
    try {
      if (request.kind === "rebuild") {
        await this.#reset();
        this.#rebuilt.push(request);
      } else if (request.kind === "drop") {
        request.resolve(await this.#c.handling.drop(request.id!, signal));
      } else {
        request.resolve(await this.#c.handling.replay(request.id, signal));
      }
    } catch (error) {
      request.reject(error);
      throw error;
    }
  }
}

/** How many records at the start of `page` (position order) are at or before `head`. */
function historyLength(page: readonly { readonly position: string }[], head: string | null): number {
  if (head === null) return 0;
  let n = 0;
  while (n < page.length && page[n].position <= head) n++;
  return n;
}
