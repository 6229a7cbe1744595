/**
 * A subscription's progress through the log: the checkpoint as stored, the position
 * handled through, and saving by compare-and-set so that two instances can never both
 * move it.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";
import type { Adapter, AdapterTransaction, CheckpointUpdate } from "../contract/mod.ts";
import type { Settings } from "./_subscription_settings.ts";
import type { Waiters } from "./_subscription_waiters.ts";

/** The checkpoint is not where this instance left it: another instance, or a reset, moved it. */
export class CheckpointMoved extends Error {
  constructor(name: string) {
    super(`The checkpoint of subscription "${name}" was moved by someone else; reloading it`);
  }
}

/** Where a subscription is in the log. */
export class Progress {
  /** The checkpoint position as stored: what the next compare-and-set expects. */
  saved: string | null = null;
  /**
   * The last position handled or parked with every earlier one; `null` until the read
   * model is known to match the checkpoint (after loading or restoring it).
   */
  position: string | null = null;
  /** The store error being recovered from; progress clears it. */
  error: unknown;
  readonly #adapter: Adapter;
  readonly #name: string;
  readonly #settings: Settings;
  readonly #waiters: Waiters;

  constructor(adapter: Adapter, name: string, settings: Settings, waiters: Waiters) {
    this.#adapter = adapter;
    this.#name = name;
    this.#settings = settings;
    this.#waiters = waiters;
  }

  /** The checkpoint to save at `position`, with the version and the saved state. */
  next(position: string): CheckpointUpdate {
    return { position, version: this.#settings.version, state: this.#settings.state?.save() };
  }

  /** The read model matches the checkpoint as stored: callers waiting up to it may go on. */
  loaded(): void {
    this.position = this.saved;
    this.#waiters.advance(this.position);
  }

  /** Everything up to `position` is handled and saved. */
  advance(position: string | null): void {
    this.saved = this.position = position;
    this.error = undefined;
    this.#waiters.advance(position);
  }

  /**
   * Moves the checkpoint past events no handler takes. Waits for positions up to it end;
   * predicates are not asked again, since no read model changed.
   */
  async skip(position: string): Promise<void> {
    if (!await this.#adapter.putCheckpoint(this.#name, this.saved, this.next(position))) {
      throw new CheckpointMoved(this.#name);
    }
    this.saved = this.position = position;
    this.error = undefined;
    this.#waiters.advance(position, false);
  }

  /** Saves the checkpoint at `position` outside a transaction. */
  async save(position: string): Promise<void> {
    await this.reset(this.next(position));
  }

  /** Saves `update` (a position, or `null` to start over) outside a transaction. */
  async reset(update: CheckpointUpdate): Promise<void> {
    if (!await this.#adapter.putCheckpoint(this.#name, this.saved, update)) {
      throw new CheckpointMoved(this.#name);
    }
    this.advance(update.position);
  }

  /** Saves `update` inside `tx`; call {@linkcode Progress.advance} once it committed. */
  async saveIn(tx: AdapterTransaction, update: CheckpointUpdate): Promise<void> {
    if (!await tx.putCheckpoint(this.#name, this.saved, update)) throw new CheckpointMoved(this.#name);
  }

  /** Saves the checkpoint just before `page[index]`, the first event neither handled nor parked. */
  async saveBefore(page: readonly EventRecord[], index: number): Promise<void> {
    if (index > 0 && page[index - 1].position !== this.saved) await this.save(page[index - 1].position);
  }
}
