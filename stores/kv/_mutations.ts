/**
 * Mutations planned for a commit, and how they are packed into `atomic()` commits under
 * KV's limits (mutations, mutation bytes, key bytes per commit).
 *
 * @module
 */

import { keyBytes, MAX_KEY_BYTES_TOTAL, MAX_MUTATION_BYTES, MAX_MUTATIONS } from "./_limits.ts";

/** One planned write: a set (with its value) or a delete. */
export interface Mutation {
  /** The key. */
  readonly key: Deno.KvKey;
  /** The value to set; absent: delete. */
  readonly value?: unknown;
  /** Time to live of a set, in ms. */
  readonly expireIn?: number;
}

/** About how many bytes a mutation adds to its commit. */
export function mutationBytes(mutation: Mutation): number {
  const value = mutation.value;
  const valueBytes = value === undefined
    ? 0
    : value instanceof Uint8Array
    ? value.length + 8
    : JSON.stringify(value, (_, v) => typeof v === "bigint" ? String(v) : v).length * 3 + 16;
  return keyBytes(mutation.key) + valueBytes;
}

/** What one commit of a plan may hold, leaving room for the head and a few more keys. */
const BUDGET = {
  mutations: MAX_MUTATIONS - 10,
  bytes: MAX_MUTATION_BYTES - 16_384,
  keys: MAX_KEY_BYTES_TOTAL - 4096,
};

/** Totals of a group of mutations. */
export interface Totals {
  /** Mutations. */
  readonly mutations: number;
  /** Bytes of keys and values. */
  readonly bytes: number;
  /** Bytes of keys. */
  readonly keys: number;
}

/** The totals of `mutations`. */
export function totals(mutations: readonly Mutation[]): Totals {
  let bytes = 0;
  let keys = 0;
  for (const mutation of mutations) {
    bytes += mutationBytes(mutation);
    keys += keyBytes(mutation.key);
  }
  return { mutations: mutations.length, bytes, keys };
}

/** Whether mutations of these totals fit one commit. */
export function fits(sum: Totals): boolean {
  return sum.mutations <= BUDGET.mutations && sum.bytes <= BUDGET.bytes && sum.keys <= BUDGET.keys;
}

/**
 * Names the limit that `sum` goes over, for a `RangeError`.
 *
 * @param sum the totals of what must commit in one atomic
 * @param what what could not be split
 */
export function overLimit(sum: Totals, what: string): RangeError {
  const which = sum.mutations > BUDGET.mutations
    ? `${sum.mutations} mutations, over Deno KV's limit of ${MAX_MUTATIONS} per atomic commit`
    : sum.bytes > BUDGET.bytes
    ? `about ${sum.bytes} bytes, over Deno KV's limit of ${MAX_MUTATION_BYTES} bytes of mutations per atomic commit`
    : `about ${sum.keys} bytes of keys, over Deno KV's limit of ${MAX_KEY_BYTES_TOTAL} key bytes per atomic commit`;
  return new RangeError(`${what} must commit in one atomic and takes ${which}`);
}

/**
 * Packs mutations, in order, into groups that each fit one commit.
 *
 * @param mutations the mutations
 * @returns the groups
 */
export function pack(mutations: readonly Mutation[]): Mutation[][] {
  const out: Mutation[][] = [];
  let group: Mutation[] = [];
  let bytes = 0;
  let keys = 0;
  for (const mutation of mutations) {
    const size = mutationBytes(mutation);
    const keySize = keyBytes(mutation.key);
    if (
      group.length > 0 &&
      (group.length + 1 > BUDGET.mutations || bytes + size > BUDGET.bytes || keys + keySize > BUDGET.keys)
    ) {
      out.push(group);
      group = [];
      bytes = 0;
      keys = 0;
    }
    group.push(mutation);
    bytes += size;
    keys += keySize;
  }
  if (group.length > 0) out.push(group);
  return out;
}

/**
 * Adds mutations to an atomic operation.
 *
 * @param atomic the operation
 * @param mutations what to add
 */
export function apply(atomic: Deno.AtomicOperation, mutations: readonly Mutation[]): Deno.AtomicOperation {
  for (const mutation of mutations) {
    if (mutation.value === undefined) atomic.delete(mutation.key);
    else if (mutation.expireIn !== undefined) {
      atomic.set(mutation.key, mutation.value, { expireIn: mutation.expireIn });
    } else atomic.set(mutation.key, mutation.value);
  }
  return atomic;
}
