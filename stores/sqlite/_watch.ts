/**
 * Watching a SQLite file for commits of other connections and processes: `PRAGMA
 * data_version` changes when another connection commits, checked on a timer only while
 * someone watches.
 *
 * @module
 */

import type { Connections } from "./_connections.ts";

/** The listeners of one adapter and the timer that checks for commits while there are any. */
export class DataVersionWatch {
  readonly #connections: Connections;
  readonly #interval: number;
  readonly #watchers = new Set<{ listener: () => void }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #dataVersion = 0;

  /**
   * @param connections the adapter's connections (the check runs on the reader)
   * @param interval how often to check, in ms
   */
  constructor(connections: Connections, interval: number) {
    this.#connections = connections;
    this.#interval = interval;
  }

  /**
   * Adds a listener; the first one starts the timer.
   *
   * @param listener called without arguments after a commit
   * @returns a function that removes it (idempotent); the last one stops the timer
   */
  add(listener: () => void): () => void {
    const entry = { listener };
    if (this.#watchers.size === 0) {
      this.#dataVersion = this.#readDataVersion();
      this.#timer = setInterval(() => this.#poll(), this.#interval);
    }
    this.#watchers.add(entry);
    return () => {
      if (!this.#watchers.delete(entry) || this.#watchers.size > 0) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    };
  }

  /** Drops every listener and stops the timer. */
  stop(): void {
    this.#watchers.clear();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #readDataVersion(): number {
    return Number(this.#connections.reader.statement("PRAGMA data_version", true).row([])![0]);
  }

  #poll(): void {
    if (this.#connections.closed) return;
    let version: number;
    try {
      version = this.#readDataVersion();
    } catch {
      return; // A busy or failing check is retried on the next tick.
    }
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    for (const { listener } of [...this.#watchers]) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }
}
