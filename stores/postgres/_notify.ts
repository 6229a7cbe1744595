/**
 * Cross-process wake-up: after a transaction that stored events commits, the writer
 * sends `pg_notify` on the schema's channel, and watchers `LISTEN` on one dedicated
 * connection. A wake-up is only a hint to poll now: readers also poll, so a lost
 * notification costs latency, never an event.
 *
 * The notification is sent after the commit, not inside the transaction: PostgreSQL
 * commits every notifying transaction under one database-wide lock, which would
 * serialise all concurrent appends (measured: a third fewer appends per second with 16
 * writers). Notifications of one process are coalesced: while one is on its way, later
 * commits share the next one.
 *
 * @module
 */

import postgres from "postgres";
import type { Driver } from "./_options.ts";

const utf8 = new TextEncoder();

/**
 * The notification channel of a schema: `eventfold_` and a 64-bit FNV-1a hash of the
 * schema name in hex. A hash keeps the channel a short plain identifier whatever the
 * schema is called (channel names are limited to 63 bytes).
 *
 * @param schema the schema name
 * @returns the channel name
 */
export function channelOf(schema: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of utf8.encode(schema)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `eventfold_${hash.toString(16).padStart(16, "0")}`;
}

/** Sends post-commit notifications, at most one in flight. */
export class Notifier {
  readonly #sql: Driver;
  readonly #channel: string;
  #pending = false;
  #closed = false;
  #running: Promise<void> | undefined;

  /**
   * @param sql the client to send with
   * @param channel the channel to notify
   */
  constructor(sql: Driver, channel: string) {
    this.#sql = sql;
    this.#channel = channel;
  }

  /** Asks for a notification sent after now. */
  poke(): void {
    if (this.#closed) return;
    this.#pending = true;
    this.#running ??= this.#run();
  }

  async #run(): Promise<void> {
    try {
      while (this.#pending && !this.#closed) {
        this.#pending = false;
        try {
          await this.#sql`SELECT pg_notify(${this.#channel}, '')`;
        } catch {
          // Readers poll as well; a lost wake-up only delays them.
        }
      }
    } finally {
      this.#running = undefined;
    }
  }

  /** Stops sending and waits for the notification in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
  }
}

// Pauses between attempts to LISTEN again after the connection was lost, in ms.
const RELISTEN_FIRST = 50;
const RELISTEN_MAX = 2000;

/**
 * Shares one `LISTEN` between every `watch()` listener of an adapter, on a connection of
 * its own (a client of one connection made from the adapter's options). When that
 * connection is lost (the backend terminated, the server restarted), it listens again,
 * with growing pauses while the server is away, and then wakes every listener once:
 * commits made meanwhile sent notifications nobody heard.
 */
export class Watcher {
  readonly #sql: Driver;
  readonly #channel: string;
  readonly #listeners = new Set<() => void>();
  #client: Driver | undefined;
  #ending: Promise<void>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pause = RELISTEN_FIRST;
  #listened = false;
  /** How many times it sent `LISTEN` (a debug counter: tests bound it while the server is away). */
  attempts = 0;
  /** Bumped on every start and stop, so a late answer of an old connection changes nothing. */
  #generation = 0;

  /**
   * @param sql the adapter's client, whose options the listening connection copies
   * @param channel the channel to listen on
   */
  constructor(sql: Driver, channel: string) {
    this.#sql = sql;
    this.#channel = channel;
  }

  /**
   * Adds a listener, starting to listen when it is the first.
   *
   * @param listener called on each notification
   * @returns a function that removes the listener (idempotent)
   */
  add(listener: () => void): () => void {
    // One wrapper per call, so the same function added twice is removed once per call.
    const entry = () => listener();
    this.#listeners.add(entry);
    if (this.#client === undefined) this.#start();
    return () => {
      if (this.#listeners.delete(entry) && this.#listeners.size === 0) this.#stop();
    };
  }

  #start(): void {
    const generation = ++this.#generation;
    this.#listened = false;
    this.#pause = RELISTEN_FIRST;
    // As postgres.js's own `listen` does: the parsed options, one connection that never idles out.
    this.#client = postgres({
      ...(this.#sql.options as unknown as postgres.Options<Record<string, never>>),
      max: 1,
      idle_timeout: null,
      max_lifetime: null,
      fetch_types: false,
      onnotify: (channel: string) => {
        if (channel === this.#channel) this.#fire();
      },
      // With the pause of the next attempt, not at once: while the server is away, a failed
      // attempt's close can come before its rejection, and must not restart the loop early.
      onclose: () => this.#retry(generation),
    } as unknown as postgres.Options<Record<string, never>>);
    void this.#listen(generation);
  }

  async #listen(generation: number): Promise<void> {
    const client = this.#client;
    if (client === undefined || generation !== this.#generation) return;
    this.attempts++;
    try {
      await client.unsafe(`LISTEN "${this.#channel.replaceAll('"', '""')}"`);
    } catch {
      // The server is away (or refuses LISTEN, as a pooler in transaction mode does):
      // readers poll meanwhile; try again later.
      this.#retry(generation);
      return;
    }
    if (generation !== this.#generation) return;
    this.#pause = RELISTEN_FIRST;
    // After a lost connection, what was committed meanwhile was notified to nobody.
    if (this.#listened) this.#fire();
    this.#listened = true;
  }

  /** Listens again after the current pause, which grows until a `LISTEN` succeeds. */
  #retry(generation: number): void {
    if (this.#timer !== undefined || generation !== this.#generation) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#listen(generation);
    }, this.#pause);
    this.#pause = Math.min(this.#pause * 2, RELISTEN_MAX);
  }

  #fire(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // A listener's failure must not keep the others from waking.
      }
    }
  }

  #stop(): void {
    this.#generation++;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    const ending: Promise<void> = client.end({ timeout: 0 })
      .catch(() => {/* the connection is gone, and the LISTEN with it */})
      .finally(() => {
        this.#ending = this.#ending.filter((promise) => promise !== ending);
      });
    this.#ending.push(ending);
  }

  /** Removes every listener and waits until the listening connection is closed. */
  async close(): Promise<void> {
    this.#listeners.clear();
    this.#stop();
    await Promise.all([...this.#ending]);
  }
}
