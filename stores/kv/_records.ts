/**
 * Event records as KV values: one CBOR envelope per record (payloads inside it through
 * the adapter's codec), in chunks when it outgrows one KV value.
 *
 * @module
 */

import type { EventRecord } from "../../events/record.ts";
import { formatPosition, type InsertableRecord } from "../../contract/mod.ts";
import { cborCodec, type Codec } from "../codec.ts";
import { fromChunks } from "./_limits.ts";

type Envelope = [
  id: string,
  stream: string,
  type: string,
  revision: number,
  position: number,
  created: string,
  recorded: string,
  outdated: boolean,
  imported: boolean,
  version: number,
  data: Uint8Array,
  meta: Uint8Array,
];

/**
 * Encodes a record at `position`.
 *
 * @param codec the payload codec
 * @param record the record
 * @param position its position
 * @param recorded the commit time
 */
export function encodeRecord(
  codec: Codec,
  record: InsertableRecord,
  position: number,
  recorded: string,
): Uint8Array {
  const envelope: Envelope = [
    record.id,
    record.stream,
    record.type,
    record.revision,
    position,
    record.created,
    recorded,
    record.outdated,
    record.imported === true,
    record.version ?? 1,
    codec.encode(record.data ?? null),
    codec.encode(record.meta ?? null),
  ];
  return cborCodec.encode(envelope);
}

/**
 * Decodes a record from its chunks.
 *
 * @param codec the payload codec
 * @param chunks the chunks, in order
 * @returns the record, or `undefined` when chunks are missing
 */
export function decodeRecord(codec: Codec, chunks: readonly Uint8Array[]): EventRecord | undefined {
  const bytes = fromChunks(chunks);
  if (bytes === undefined) return undefined;
  const [id, stream, type, revision, position, created, recorded, outdated, imported, version, data, meta] =
    cborCodec.decode(bytes) as Envelope;
  return {
    id,
    stream,
    type,
    data: codec.decode(data),
    meta: codec.decode(meta),
    revision,
    position: formatPosition(position),
    created,
    recorded,
    outdated,
    imported,
    version,
  };
}

/**
 * Groups the entries of a list over chunked values by the key part before the chunk
 * index (a position or a revision), in list order (either direction).
 *
 * @param entries list entries whose keys end in `[..., n, chunk]`
 * @returns chunks per `n`
 */
export async function* grouped(
  entries: AsyncIterable<Deno.KvEntry<unknown>>,
): AsyncGenerator<{ n: number; chunks: Uint8Array[] }> {
  let current: { n: number; chunks: Uint8Array[] } | undefined;
  for await (const entry of entries) {
    const n = entry.key[entry.key.length - 2] as number;
    if (current !== undefined && current.n !== n) {
      yield current;
      current = undefined;
    }
    current ??= { n, chunks: [] };
    // A backward list meets the chunks of one value last first.
    current.chunks[entry.key[entry.key.length - 1] as number] = entry.value as Uint8Array;
  }
  if (current !== undefined) yield current;
}
