/**
 * Checkpoints, parked events and leases. Checkpoints are compare-and-set through a
 * check of their first chunk's versionstamp; a lease is one key holding its owner and
 * expiry time, written with `expireIn` so that abandoned ones are cleared.
 *
 * @module
 */

import { parkedOrder } from "../../contract/_parked_order.ts";
import type { Checkpoint, Lease, ParkedEvent } from "../../contract/mod.ts";
import type { KvContext } from "./_context.ts";
import { listDocuments } from "./_documents.ts";
import type { StoredCheckpoint } from "./_transaction.ts";
import { getAll } from "./_io.ts";

/**
 * A checkpoint as the contract gives it.
 *
 * @param ctx the database
 * @param name its name
 * @param stored what is stored
 */
export function checkpointOf(ctx: KvContext, name: string, stored: StoredCheckpoint): Checkpoint {
  const out: { -readonly [K in keyof Checkpoint]: Checkpoint[K] } = {
    name,
    position: stored.position,
    updated: stored.updated,
  };
  if (stored.state !== undefined) out.state = ctx.codec.decode(stored.state);
  if (stored.version !== undefined) out.version = stored.version;
  return out;
}

/** All checkpoints, by name. */
export async function listCheckpoints(ctx: KvContext): Promise<Checkpoint[]> {
  const documents = await listDocuments<StoredCheckpoint>(ctx.kv, ctx.layout.checkpoint());
  const out = documents.map(({ key, value }) => checkpointOf(ctx, key[key.length - 1] as string, value));
  return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** Parked events of `name` (of all when absent), by name then position. */
export async function listParked(ctx: KvContext, name?: string): Promise<ParkedEvent[]> {
  const documents = await listDocuments<ParkedEvent>(ctx.kv, ctx.layout.parked(name));
  const out = documents.map(({ value }) => value);
  return out.sort(parkedOrder);
}

/** A lease as stored. */
interface StoredLease {
  readonly owner: string;
  readonly until: number;
}

/**
 * Takes the lease on `name` for `owner` unless another owner holds it unexpired.
 *
 * @param ctx the database
 * @param name the lease
 * @param owner the holder
 * @param ttl its time to live, in ms
 */
export async function acquireLease(
  ctx: KvContext,
  name: string,
  owner: string,
  ttl: number,
): Promise<Lease | undefined> {
  const key = ctx.layout.lease(name);
  const life = Math.max(1, Math.ceil(ttl));
  // The stored time decides; `expireIn` only clears a lease nobody renews or takes any more
  // (KV removes expired keys lazily, and a renew a little late must still find its lease).
  const expireIn = life * 10 + 60_000;
  let until = 0;
  for (;;) {
    const current = await ctx.kv.get<StoredLease>(key);
    const held = current.value;
    const from = Date.now();
    if (held !== null && held.owner !== owner && held.until > Date.now()) return undefined;
    const taken = await ctx.kv.atomic().check(current)
      .set(key, { owner, until: from + life } satisfies StoredLease, { expireIn })
      .commit();
    if (taken.ok) {
      until = from + life;
      break;
    }
  }
  return {
    renew: async () => {
      // With more than half its time left, nobody can have taken it: no write needed, so
      // a renewal never waits behind a big commit when it need not.
      if (until - Date.now() > life / 2) return true;
      for (;;) {
        const current = await ctx.kv.get<StoredLease>(key);
        if (current.value === null || current.value.owner !== owner) return false;
        const from = Date.now();
        const renewed = await ctx.kv.atomic().check(current)
          .set(key, { owner, until: from + life } satisfies StoredLease, { expireIn })
          .commit();
        if (renewed.ok) {
          until = from + life;
          return true;
        }
      }
    },
    release: async () => {
      until = 0;
      for (;;) {
        const current = await ctx.kv.get<StoredLease>(key);
        if (current.value === null || current.value.owner !== owner) return;
        if ((await ctx.kv.atomic().check(current).delete(key).commit()).ok) return;
      }
    },
  };
}

/** Which of `names` are leased now. */
export async function heldLeases(ctx: KvContext, names: readonly string[]): Promise<string[]> {
  const entries = await getAll<StoredLease>(ctx.kv, names.map((name) => ctx.layout.lease(name)));
  const now = Date.now();
  return names.filter((_, i) => {
    const lease = entries[i].value;
    return lease !== null && lease.until > now;
  });
}
