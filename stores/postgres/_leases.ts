/**
 * Subscription leases on PostgreSQL: session-level advisory locks, all held on one
 * dedicated connection of the adapter.
 *
 * @module
 */

import type { Lease } from "../../contract/mod.ts";
import { lostOr } from "./_connection_loss.ts";
import type { Reservations, ReservedConnection } from "./_reserved.ts";
import type { Query } from "./_rows.ts";

// First key of the two-key advisory lock of a lease ("EVFL"): apart from the schema
// lock's class and from the one-key stream locks; the second key hashes schema and name.
const LEASE_CLASS = 0x4556464c;

/**
 * The one connection that holds every lease of an adapter as session-level advisory
 * locks, so leases never use up the pool however many subscriptions run. It is reserved
 * with the first lease and given back with the last. PostgreSQL releases the locks when
 * that session ends, so when the holder's process dies another takes over as soon as the
 * server notices the closed connection.
 *
 * When the connection is lost, every lease it held is lost with it: `renew` answers
 * false at once (never hangs), and the next `acquire` reserves a new connection.
 */
export class LeaseSession {
  readonly #reservations: Reservations;
  readonly #schema: string;
  readonly #store: string;
  #connection: Promise<ReservedConnection> | undefined;
  /** Subscription names whose lease this session holds (locks are re-entrant per session). */
  readonly #held: Set<string> = new Set();

  /**
   * Creates it.
   *
   * @param reservations where to reserve the connection
   * @param schema the store's schema (leases of different schemas are apart)
   * @param store the store's name for messages (no password)
   */
  constructor(reservations: Reservations, schema: string, store = "PostgreSQL") {
    this.#reservations = reservations;
    this.#schema = schema;
    this.#store = store;
  }

  /** The live connection, reserving one when there is none (or the last one died). */
  #reserve(): Promise<ReservedConnection> {
    if (this.#connection === undefined) {
      const connection = this.#reservations.reserve().then((reserved) => {
        reserved.first("SELECT 1").catch(() => {});
        reserved.onLost(() => {
          // Its locks are gone with the session: every lease of it is lost.
          if (this.#connection === connection) {
            this.#connection = undefined;
            this.#held.clear();
          }
        });
        return reserved;
      });
      connection.catch(() => {
        if (this.#connection === connection) this.#connection = undefined;
      });
      this.#connection = connection;
    }
    return this.#connection;
  }

  /**
   * Takes the lease on `name`.
   *
   * @param name the subscription name
   * @returns the lease, or `undefined` when another session or instance holds it
   * @throws {ConnectionLostError} when the connection is lost (or cannot be made)
   */
  async acquire(name: string): Promise<Lease | undefined> {
    if (this.#held.has(name)) return undefined;
    this.#held.add(name);
    const key = `${this.#schema}.${name}`;
    let locked = false;
    let reserved: ReservedConnection;
    try {
      reserved = await this.#reserve();
      const [row] = await reserved.sql<{ locked: boolean }[]>`
        SELECT pg_try_advisory_lock(${LEASE_CLASS}::integer, hashtext(${key})) AS locked`;
      locked = row.locked;
    } catch (error) {
      throw lostOr(error, "acquireLease", this.#store);
    } finally {
      if (!locked) await this.#forget(name);
    }
    if (!locked) return undefined;
    let released = false;
    return {
      renew: async (): Promise<boolean> => {
        if (released || reserved.lost || this.#connection === undefined) return false;
        try {
          // Asks whether this session still holds the lock: a connection that was reset
          // (and so lost it) answers false rather than failing.
          const [row] = await reserved.sql<{ held: boolean }[]>`
            SELECT EXISTS (
              SELECT 1 FROM pg_locks
              WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                AND classid = (${LEASE_CLASS}::integer)::oid AND objid = (hashtext(${key}))::oid
                AND objsubid = 2
            ) AS held`;
          return row.held;
        } catch {
          return false;
        }
      },
      release: async (): Promise<void> => {
        if (released) return;
        released = true;
        if (reserved.lost) return;
        try {
          await reserved.sql`SELECT pg_advisory_unlock(${LEASE_CLASS}::integer, hashtext(${key}))`;
        } catch {
          // The session is gone, and its lock with it.
        } finally {
          await this.#forget(name);
        }
      },
    };
  }

  /** Drops `name`, and gives the connection back when no lease is left. */
  async #forget(name: string): Promise<void> {
    this.#held.delete(name);
    if (this.#held.size > 0 || this.#connection === undefined) return;
    const connection = this.#connection;
    this.#connection = undefined;
    try {
      (await connection).release();
    } catch {
      // It never opened.
    }
  }
}

/**
 * Which of `names` are leased now, by any session: their advisory locks are granted in
 * this database. A read of `pg_locks`, which takes no lock.
 *
 * @param q where to ask
 * @param schema the store's schema
 * @param names lease names
 * @returns those held, in the order given
 */
export async function heldLeases(q: Query, schema: string, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await q<{ name: string }[]>`
    SELECT n.name FROM unnest(${names as string[]}::text[]) AS n(name)
    WHERE EXISTS (
      SELECT 1 FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND objsubid = 2
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND classid = (${LEASE_CLASS}::integer)::oid
        AND objid = (hashtext(${schema} || '.' || n.name))::oid
    )`;
  const held = new Set(rows.map((row) => row.name));
  return names.filter((name) => held.has(name));
}
