/**
 * Reads of the log and of streams, bounded by what has committed: a log read stops at
 * the head's position (records past it belong to a commit still writing), a stream read
 * at the stream's revision.
 *
 * @module
 */

import type { EventRecord } from "../../events/record.ts";
import {
  type AdapterStats,
  formatPosition,
  type LogPageQuery,
  parsePosition,
  type StreamPageQuery,
  type StreamStatus,
} from "../../contract/mod.ts";
import { inPartition } from "../../contract/partitions.ts";
import type { KvContext } from "./_context.ts";
import { EMPTY_HEAD, type Head, type StreamMeta } from "./_layout.ts";
import { decodeRecord, grouped } from "./_records.ts";
import { getAll } from "./_io.ts";
import { recordAt } from "./_transaction.ts";

/** The head as committed. */
export async function readHead(ctx: KvContext): Promise<Head> {
  return (await ctx.kv.get<Head>(ctx.layout.head())).value ?? EMPTY_HEAD;
}

/** How many KV entries one list call fetches at a time for a page of `limit` records. */
const batchOf = (limit: number): number => Math.max(10, Math.min(500, limit + 1));

/**
 * One page of a stream.
 *
 * @param ctx the database
 * @param stream the stream
 * @param query direction, first revision, limit, types
 */
export async function readStream(
  ctx: KvContext,
  stream: string,
  query: StreamPageQuery,
): Promise<EventRecord[]> {
  const meta = (await ctx.kv.get<StreamMeta>(ctx.layout.stream(stream))).value;
  if (meta === null || meta.stored === 0 || query.limit <= 0) return [];
  const lowest = Math.max(meta.truncatedBefore, meta.deletedAt + 1, 1);
  const forward = query.direction === "forward";
  const from = query.fromRevision ?? (forward ? 1 : meta.revision);
  const start = forward ? Math.max(from, lowest) : lowest;
  const end = forward ? meta.revision + 1 : Math.min(from, meta.revision) + 1;
  if (end <= start) return [];
  const types = query.types === undefined ? undefined : new Set(query.types);
  const list = ctx.kv.list<Uint8Array>(
    { start: ctx.layout.revision(stream, start), end: ctx.layout.revision(stream, end) },
    { reverse: !forward, batchSize: batchOf(query.limit) },
  );
  const out: EventRecord[] = [];
  for await (const { chunks } of grouped(list)) {
    const record = decodeRecord(ctx.codec, chunks);
    if (record === undefined || (types !== undefined && !types.has(record.type))) continue;
    out.push(record);
    if (out.length >= query.limit) break;
  }
  return out;
}

/**
 * One page of the log.
 *
 * @param ctx the database
 * @param query direction, exclusive `after`, limit, filters
 */
export async function readLog(ctx: KvContext, query: LogPageQuery): Promise<EventRecord[]> {
  const head = await readHead(ctx);
  const after = query.after ?? query.cursor;
  const bound = after === undefined ? undefined : parsePosition(after);
  const forward = query.direction === "forward";
  const start = forward ? (bound ?? 0) + 1 : 1;
  const end = forward ? head.position + 1 : Math.min(bound ?? head.position + 1, head.position + 1);
  if (end <= start || query.limit <= 0) return [];
  const types = query.types === undefined ? undefined : new Set(query.types);
  const streams = query.streams === undefined ? undefined : new Set(query.streams);
  const partition = query.partition;
  const list = ctx.kv.list<Uint8Array>(
    { start: ctx.layout.log(start), end: ctx.layout.log(end) },
    { reverse: !forward, batchSize: batchOf(query.limit) },
  );
  const out: EventRecord[] = [];
  for await (const { chunks } of grouped(list)) {
    const record = decodeRecord(ctx.codec, chunks);
    if (
      record === undefined || (types !== undefined && !types.has(record.type)) ||
      (streams !== undefined && !streams.has(record.stream)) ||
      (partition !== undefined && !inPartition(record.stream, partition))
    ) continue;
    out.push(record);
    if (out.length >= query.limit) break;
  }
  return out;
}

/**
 * Stored events by id.
 *
 * @param ctx the database
 * @param ids the ids
 */
export async function getByIds(ctx: KvContext, ids: readonly string[]): Promise<EventRecord[]> {
  if (ids.length === 0) return [];
  const head = await readHead(ctx);
  const entries = await getAll<number>(ctx.kv, ids.map((id) => ctx.layout.id(id)));
  const out: EventRecord[] = [];
  for (const [i, entry] of entries.entries()) {
    if (entry.value === null || entry.value > head.position) continue;
    const record = await recordAt(ctx, entry.value);
    if (record?.id === ids[i]) out.push(record);
  }
  return out;
}

/**
 * How many events sort after `position`.
 *
 * @param ctx the database
 * @param position the position (`null`: all)
 */
export async function countAfter(ctx: KvContext, position: string | null): Promise<number> {
  const head = await readHead(ctx);
  if (position === null) return head.events;
  const from = parsePosition(position) + 1;
  if (from > head.position) return 0;
  let count = 0;
  const list = ctx.kv.list({ start: ctx.layout.log(from), end: ctx.layout.log(head.position + 1) }, {
    batchSize: 1000,
  });
  for await (const entry of list) if (entry.key[entry.key.length - 1] === 0) count++;
  return count;
}

/**
 * Counts and the head position.
 *
 * @param ctx the database
 */
export async function stats(ctx: KvContext): Promise<AdapterStats> {
  const head = await readHead(ctx);
  let last: string | null = null;
  if (head.events > 0) {
    const list = ctx.kv.list({ start: ctx.layout.log(1), end: ctx.layout.log(head.position + 1) }, {
      reverse: true,
      limit: 1,
    });
    for await (const entry of list) last = formatPosition(entry.key[entry.key.length - 2] as number);
  }
  return { events: head.events, streams: head.streams, head: last };
}

/**
 * What is known of each stream.
 *
 * @param ctx the database
 * @param streams the streams
 */
export async function streamStatus(
  ctx: KvContext,
  streams: readonly string[],
): Promise<Map<string, StreamStatus>> {
  const entries = await getAll<StreamMeta>(ctx.kv, streams.map((stream) => ctx.layout.stream(stream)));
  const out = new Map<string, StreamStatus>();
  for (const [i, stream] of streams.entries()) {
    const meta = entries[i].value;
    if (meta === null) continue;
    if (
      meta.revision === 0 && meta.deletedAt === 0 && !meta.tombstoned && meta.truncatedBefore <= 1 &&
      meta.metadata === undefined
    ) continue;
    const status: StreamStatus = {
      revision: meta.revision,
      deletedAt: meta.deletedAt,
      tombstoned: meta.tombstoned,
      truncatedBefore: meta.truncatedBefore,
    };
    out.set(stream, meta.metadata === undefined ? status : { ...status, metadata: { ...meta.metadata } });
  }
  return out;
}

/**
 * The streams with metadata, in key order, after `after`.
 *
 * @param ctx the database
 * @param after exclusive lower bound
 * @param limit at most this many
 */
export async function streamsWithMetadata(
  ctx: KvContext,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  const out: string[] = [];
  const prefix = ctx.layout.withMetadata();
  const selector = after === undefined ? { prefix } : { prefix, start: ctx.layout.withMetadata(after) };
  for await (const entry of ctx.kv.list(selector)) {
    const name = entry.key[entry.key.length - 1] as string;
    if (name === after) continue;
    out.push(name);
    if (out.length >= limit) break;
  }
  return out;
}
