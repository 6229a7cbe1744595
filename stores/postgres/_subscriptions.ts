/**
 * The SQL behind subscriptions on PostgreSQL: checkpoint compare-and-set, parked events,
 * and leases held as session-level advisory locks on one dedicated connection. Each
 * statement function takes the connection to run on, so the adapter (its pool) and its
 * transactions share them.
 *
 * @module
 */

import type { CheckpointUpdate, Lease, ParkedEvent } from "../../contract/mod.ts";
import type { Payloads, Query } from "./_rows.ts";
import { lostOr } from "./_connection_loss.ts";
import type { Reservations, ReservedConnection } from "./_reserved.ts";

// First key of the two-key advisory lock of a lease ("EVFL"): apart from the schema
// lock's class and from the one-key stream locks; the second key hashes schema and name.
const LEASE_CLASS = 0x4556464c;

/**
 * Sets checkpoint `name` to `next` if it is at `expected` now, in one statement: the row
 * lock taken by the UPDATE (or by ON CONFLICT) makes the comparison and the write atomic
 * against concurrent savers.
 *
 * @returns whether it was set
 */
export async function setCheckpoint(
  q: Query,
  schema: string,
  payloads: Payloads,
  name: string,
  expected: string | null,
  next: CheckpointUpdate,
): Promise<boolean> {
  const s = q(schema);
  const state = payloads.param(q, next.state);
  const version = next.version ?? null;
  const rows = expected === null
    ? await q`
      INSERT INTO ${s}.checkpoints AS t (name, position, state, version, updated)
      VALUES (${name}, ${next.position}::text, ${state}, ${version}::integer, now())
      ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state,
        version = excluded.version, updated = excluded.updated
      WHERE t.position IS NULL
      RETURNING 1 AS done`
    : await q`
      UPDATE ${s}.checkpoints SET position = ${next.position}::text, state = ${state},
        version = ${version}::integer, updated = now()
      WHERE name = ${name} AND position = ${expected}::text
      RETURNING 1 AS done`;
  return rows.length === 1;
}

/** Parks an event, replacing an earlier parking of it. */
export async function parkEvent(q: Query, schema: string, event: ParkedEvent): Promise<void> {
  await q`
    INSERT INTO ${q(schema)}.parked AS p (name, id, position, stream, type, hydrated, error, attempts, parked)
    VALUES (${event.name}, ${event.id}, ${event.position}, ${event.stream}, ${event.type}, ${event.hydrated},
            ${event.error}, ${event.attempts}::integer, ${event.parked}::timestamptz)
    ON CONFLICT (name, id) DO UPDATE SET position = excluded.position, stream = excluded.stream,
      type = excluded.type, hydrated = excluded.hydrated, error = excluded.error,
      attempts = excluded.attempts, parked = excluded.parked`;
}

/** Removes a parked event; returns whether it was parked. */
export async function unparkEvent(q: Query, schema: string, name: string, id: string): Promise<boolean> {
  const rows = await q`DELETE FROM ${
    q(schema)
  }.parked WHERE name = ${name} AND id = ${id} RETURNING 1 AS done`;
  return rows.length === 1;
}

/** Parked events of `name` (of all subscriptions when absent), by name and position. */
export async function listParked(q: Query, schema: string, name: string | undefined): Promise<ParkedEvent[]> {
  const rows = await q<
    {
      name: string;
      id: string;
      position: string;
      stream: string;
      type: string;
      hydrated: boolean;
      error: string;
      attempts: number;
      parked: string;
    }[]
  >`
    SELECT name, id, position, stream, type, hydrated, error, attempts,
           to_char(parked AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS parked
    FROM ${q(schema)}.parked
    ${name === undefined ? q`` : q`WHERE name = ${name}`}
    ORDER BY name, position`;
  return rows.map((row) => ({ ...row }));
}

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
