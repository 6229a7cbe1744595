/**
 * Small reads every part uses: `getMany` past its ten keys, and chunked values.
 *
 * @module
 */

import { MAX_GET_MANY } from "./_limits.ts";

/**
 * `kv.getMany` for any number of keys, ten per call.
 *
 * @param kv the database
 * @param keys the keys
 * @returns the entries, in the order of `keys`
 */
export async function getAll<T>(kv: Deno.Kv, keys: readonly Deno.KvKey[]): Promise<Deno.KvEntryMaybe<T>[]> {
  if (keys.length <= MAX_GET_MANY) return await kv.getMany<T[]>([...keys]);
  // Ten keys per call, the calls in flight together.
  const calls: Promise<Deno.KvEntryMaybe<T>[]>[] = [];
  for (let at = 0; at < keys.length; at += MAX_GET_MANY) {
    calls.push(kv.getMany<T[]>(keys.slice(at, at + MAX_GET_MANY)));
  }
  return (await Promise.all(calls)).flat();
}

/**
 * The chunks stored under `prefix` (keys `[...prefix, i]`), in order.
 *
 * @param kv the database
 * @param prefix the value's key
 * @returns the chunks and the versionstamp of the first (`null` when there is none)
 */
export async function readChunks(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
): Promise<{ chunks: Uint8Array[]; versionstamp: string | null }> {
  const chunks: Uint8Array[] = [];
  let versionstamp: string | null = null;
  for await (const entry of kv.list<Uint8Array>({ prefix })) {
    if (typeof entry.key[entry.key.length - 1] !== "number") continue;
    if (chunks.length === 0) versionstamp = entry.versionstamp;
    chunks.push(entry.value);
  }
  return { chunks, versionstamp };
}
