/**
 * Documents (snapshots, checkpoints, parked events): CBOR values in chunks under one key
 * prefix. A replacement rewrites the chunks it needs; stale ones after them are never
 * read (the first chunk holds the length).
 *
 * @module
 */

import { cborCodec } from "../codec.ts";
import { fromChunks, toChunks } from "./_limits.ts";
import type { Mutation } from "./_mutations.ts";
import { readChunks } from "./_io.ts";

/**
 * The mutations that store `value` under `prefix`.
 *
 * @param prefix the document's key
 * @param value the document
 */
export function documentWrites(prefix: Deno.KvKey, value: unknown): Mutation[] {
  return toChunks(cborCodec.encode(value)).map((chunk, i) => ({ key: [...prefix, i], value: chunk }));
}

/**
 * The document under `prefix`, with the versionstamp of its first chunk.
 *
 * @param kv the database
 * @param prefix the document's key
 */
export async function readDocument<T>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
): Promise<{ value: T | undefined; versionstamp: string | null }> {
  const { chunks, versionstamp } = await readChunks(kv, prefix);
  const bytes = fromChunks(chunks);
  return { value: bytes === undefined ? undefined : cborCodec.decode(bytes) as T, versionstamp };
}

/**
 * The mutations that remove the document under `prefix` (every chunk of it).
 *
 * @param kv the database
 * @param prefix the document's key
 */
export async function documentDeletes(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Mutation[]> {
  const out: Mutation[] = [];
  for await (const entry of kv.list({ prefix })) out.push({ key: entry.key });
  return out;
}

/**
 * Documents listed under `prefix`, grouped by the key part before the chunk index.
 *
 * @param kv the database
 * @param prefix what to list
 * @returns each document's key (without the chunk index) and value
 */
export async function listDocuments<T>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
): Promise<{ key: Deno.KvKey; value: T }[]> {
  const out: { key: Deno.KvKey; value: T }[] = [];
  let key: Deno.KvKey | undefined;
  let chunks: Uint8Array[] = [];
  const flush = () => {
    const bytes = key === undefined ? undefined : fromChunks(chunks);
    if (key !== undefined && bytes !== undefined) out.push({ key, value: cborCodec.decode(bytes) as T });
  };
  for await (const entry of kv.list<Uint8Array>({ prefix })) {
    const base = entry.key.slice(0, -1);
    if (key === undefined || !sameKey(key, base)) {
      flush();
      key = base;
      chunks = [];
    }
    chunks[entry.key[entry.key.length - 1] as number] = entry.value;
  }
  flush();
  return out;
}

function sameKey(a: Deno.KvKey, b: Deno.KvKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}
