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

import type { PostgresClient } from "./_options.ts";

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
  readonly #sql: PostgresClient;
  readonly #channel: string;
  #pending = false;
  #closed = false;
  #running: Promise<void> | undefined;

  /**
   * @param sql the client to send with
   * @param channel the channel to notify
   */
  constructor(sql: PostgresClient, channel: string) {
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

interface Subscription {
  unlisten(): Promise<void>;
}

/** Shares one `LISTEN` between every `watch()` listener of an adapter. */
export class Watcher {
  readonly #sql: PostgresClient;
  readonly #channel: string;
  readonly #listeners = new Set<() => void>();
  #subscription: Promise<Subscription | undefined> | undefined;
  readonly #stopping = new Set<Promise<void>>();

  /**
   * @param sql the client whose listen connection to use
   * @param channel the channel to listen on
   */
  constructor(sql: PostgresClient, channel: string) {
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
    if (this.#subscription === undefined) {
      this.#subscription = this.#sql.listen(this.#channel, () => this.#fire()).then(
        (meta) => meta as Subscription,
        // No LISTEN (server unreachable, a pooler in transaction mode): readers poll.
        () => undefined,
      );
    }
    return () => {
      if (this.#listeners.delete(entry) && this.#listeners.size === 0) this.#stop();
    };
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
    const subscription = this.#subscription;
    this.#subscription = undefined;
    if (subscription === undefined) return;
    const stopping: Promise<void> = subscription
      .then((meta) => meta?.unlisten())
      .catch(() => {/* the connection is gone, and the LISTEN with it */})
      .finally(() => this.#stopping.delete(stopping));
    this.#stopping.add(stopping);
  }

  /** Removes every listener and waits until the channel is unlistened. */
  async close(): Promise<void> {
    this.#listeners.clear();
    this.#stop();
    await Promise.all([...this.#stopping]);
  }
}
