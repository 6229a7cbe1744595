/**
 * Leases in IndexedDB: one row per name with its owner, a token per taking, and when it
 * expires. A tab that closes cannot release its leases, so an unrenewed lease expires
 * after its time to live, as on SQLite.
 *
 * @module
 */

import type { Lease } from "../../contract/mod.ts";
import { done, type IdbDatabase, LEASES, run } from "./_idb.ts";

interface LeaseRow {
  readonly name: string;
  readonly owner: string;
  /** Which taking holds it: a lease object renews and releases only its own. */
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expires: number;
}

/**
 * Takes the lease on `name` for `owner`, unless another owner holds it unexpired.
 *
 * @param db the database
 * @param name the lease name
 * @param owner who takes it
 * @param ttl how long it lasts unrenewed, in ms
 * @returns the lease, or `undefined` when another owner holds it
 */
export async function acquireLease(
  db: IdbDatabase,
  name: string,
  owner: string,
  ttl: number,
): Promise<Lease | undefined> {
  const token = crypto.randomUUID();
  const taken = await run(db, LEASES, "readwrite", async (tx) => {
    const store = tx.objectStore(LEASES);
    const row = await done(store.get(name)) as LeaseRow | undefined;
    if (row !== undefined && row.owner !== owner && row.expires > Date.now()) return false;
    await done(store.put({ name, owner, token, expires: Date.now() + ttl } satisfies LeaseRow));
    return true;
  });
  if (!taken) return undefined;
  return {
    renew: () =>
      run(db, LEASES, "readwrite", async (tx) => {
        const store = tx.objectStore(LEASES);
        const row = await done(store.get(name)) as LeaseRow | undefined;
        if (row?.token !== token) return false;
        await done(store.put({ ...row, expires: Date.now() + ttl }));
        return true;
      }).catch(() => false),
    release: () =>
      run(db, LEASES, "readwrite", async (tx) => {
        const store = tx.objectStore(LEASES);
        const row = await done(store.get(name)) as LeaseRow | undefined;
        if (row?.token === token) await done(store.delete(name));
      }).catch(() => {}),
  };
}

/**
 * Which of `names` are leased now.
 *
 * @param db the database
 * @param names lease names
 * @returns those held unexpired, in the order given
 */
export function heldLeases(db: IdbDatabase, names: readonly string[]): Promise<string[]> {
  return run(db, LEASES, "readonly", async (tx) => {
    const store = tx.objectStore(LEASES);
    const now = Date.now();
    const out: string[] = [];
    for (const name of names) {
      const row = await done(store.get(name)) as LeaseRow | undefined;
      if (row !== undefined && row.expires > now) out.push(name);
    }
    return out;
  });
}
