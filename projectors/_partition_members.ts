/**
 * Who runs a partitioned subscription now: each running instance holds one member
 * lease (`name#member/slot`, the lowest free slot), and the live members are the slots
 * whose lease is held. Partitions are dealt out by slot order: with `k` members, the one
 * at rank `r` gets the partitions `p` with `p % k === r`. Views of the membership may
 * differ for a moment; each partition's own lease keeps it with one instance anyway.
 *
 * @module
 */

import type { Adapter, Lease } from "../contract/mod.ts";

/** The name of partition `index` of subscription `name` cut into `count`: its checkpoint, lease and parked events. */
export function partitionName(name: string, index: number, count: number): string {
  return `${name}#${index}/${count}`;
}

/**
 * Which partition, of how many, a checkpoint name is of subscription `name`.
 *
 * @returns `undefined` when the name is not one of its partitions
 */
export function partitionOfName(
  name: string,
  checkpoint: string,
): { index: number; count: number } | undefined {
  if (!checkpoint.startsWith(`${name}#`)) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(checkpoint.slice(name.length + 1));
  if (match === null) return undefined;
  return { index: Number(match[1]), count: Number(match[2]) };
}

/** The lease name of member slot `slot`. */
function memberName(name: string, slot: number): string {
  return `${name}#member/${slot}`;
}

/** A member slot this instance holds. */
export interface Membership {
  readonly slot: number;
  readonly lease: Lease;
}

/**
 * Takes the lowest free member slot.
 *
 * @param slots how many slots there are (more members than partitions would have nothing to do)
 * @returns the slot, or `undefined` when every slot is held
 */
export async function join(
  adapter: Adapter,
  name: string,
  owner: string,
  ttl: number,
  slots: number,
): Promise<Membership | undefined> {
  for (let slot = 0; slot < slots; slot++) {
    const lease = await adapter.acquireLease(memberName(name, slot), owner, ttl);
    if (lease !== undefined) return { slot, lease };
  }
  return undefined;
}

/**
 * The slots held now (this instance's among them), in order: asked of the adapter when it
 * can tell (`heldLeases`, a read), else found by taking each other slot's lease and
 * giving it back at once.
 */
export async function liveSlots(
  adapter: Adapter,
  name: string,
  owner: string,
  ttl: number,
  slots: number,
  mine: number,
): Promise<number[]> {
  const all = Array.from({ length: slots }, (_, slot) => slot);
  if (adapter.heldLeases !== undefined) {
    const held = new Set(await adapter.heldLeases(all.map((slot) => memberName(name, slot))));
    return all.filter((slot) => slot === mine || held.has(memberName(name, slot)));
  }
  const held: number[] = [];
  for (const slot of all) {
    if (slot === mine) {
      held.push(slot);
      continue;
    }
    // Another owner's name for the probe, so that this instance's own slot lease (SQLite
    // and memory leases are per owner) is never mistaken for a free one.
    const probe = await adapter.acquireLease(memberName(name, slot), `${owner}?`, ttl);
    if (probe === undefined) held.push(slot);
    else await probe.release();
  }
  return held;
}

/**
 * The partitions of the member at slot `mine` among the live `slots`.
 *
 * @returns partition indexes
 */
export function dealt(slots: readonly number[], mine: number, count: number): Set<number> {
  const rank = slots.indexOf(mine);
  const out = new Set<number>();
  if (rank < 0) return out;
  for (let p = rank; p < count; p += slots.length) out.add(p);
  return out;
}
