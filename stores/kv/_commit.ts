/**
 * The commit of a `KvAdapter` transaction.
 *
 * Every commit that writes events, stream lifecycle or data keys checks the head key's
 * versionstamp (as the transaction first read it) and writes the head: such commits are
 * serialised in versionstamp order, the head's position counter gives their positions in
 * that order, and a log read bounded by the head never skips a commit. When the check
 * fails, the commit finds out why: a stream it read moved (`RevisionConflictError`), an
 * id it inserts is stored (`DuplicateIdError`), a checkpoint or data key it read moved
 * (`RevisionConflictError` on `"$checkpoint:<name>"` or `"$key:<subject>"`); otherwise
 * only unrelated streams moved, and it numbers its records again and retries by itself.
 *
 * A commit that does not fit one `atomic()` (KV allows 1000 mutations and 800 KiB) first
 * claims the head (a checked write of a claim with a time limit, so no other commit of
 * events passes), writes its records past the head in several atomics (invisible: reads
 * stop at the head; a crashed claimant's leftovers there are overwritten later), then
 * moves the head in a last atomic with the stream counters, relations and checkpoints.
 * That last part must fit one atomic; when it does not, a `RangeError` names the limit.
 *
 * @module
 */

import type { EventRecord } from "../../events/record.ts";
import { DuplicateIdError, isRevisionConflictError, RevisionConflictError } from "../../contract/mod.ts";
import { delay } from "../../async.ts";
import type { KvContext } from "./_context.ts";
import { EMPTY_HEAD, type Head, type StreamMeta } from "./_layout.ts";
import { checkKeySize, MAX_CHECKS, toChunks } from "./_limits.ts";
import { apply, fits, type Mutation, overLimit, pack, totals } from "./_mutations.ts";
import { decodeRecord, encodeRecord, grouped } from "./_records.ts";
import { getAll } from "./_io.ts";
import { documentDeletes, documentWrites, readDocument } from "./_documents.ts";
import { type Staging, type StoredCheckpoint, storedIds } from "./_transaction.ts";

/** How long a claim holds the head while a big commit writes. */
const CLAIM_MS = 30_000;
/** How often a commit retries after only unrelated streams moved. */
const MAX_RETRIES = 1000;

/** What a commit writes, in the atomics it takes. */
interface Plan {
  /** Records past the head (invisible until the head moves). */
  readonly bulk: Mutation[];
  /** Deletions of removed events (must not be seen before the head moves). */
  readonly removals: Mutation[];
  /** The head, stream counters, relations, checkpoints, parkings, data keys. */
  readonly final: Mutation[];
  /** The checks of the final atomic besides the head. */
  readonly checks: Deno.AtomicCheck[];
  /** The stored records of each insert. */
  readonly stored: EventRecord[][];
}

/**
 * Commits what `staging` holds, or throws the signal that stops it (nothing is then
 * visible).
 *
 * @param ctx the database
 * @param staging what the transaction read and staged
 * @returns the stored records of each insert
 */
export async function commit(ctx: KvContext, staging: Staging): Promise<EventRecord[][]> {
  try {
    const stored = await attempts(ctx, staging);
    ctx.contention.streak = 0;
    return stored;
  } catch (error) {
    if (isRevisionConflictError(error)) {
      const streak = ++ctx.contention.streak;
      await delay(Math.random() * 4 * Math.min(streak, 10));
    }
    throw error;
  }
}

/** How long a writer's turn holds the head (see {@linkcode takeTurn}). */
const TURN_MS = 10_000;

/**
 * Takes the head for one transaction, before its reads: a writer that lost a stream to
 * other writers twice in a row waits for no more races. Other commits of events wait
 * until its commit (which gives the head back) or until the turn runs out.
 *
 * @param ctx the database
 * @param staging the transaction about to run
 */
export async function takeTurn(ctx: KvContext, staging: Staging): Promise<void> {
  for (let wait = 1;; wait = Math.min(wait * 2, 50)) {
    const head = await ctx.kv.get<Head>(ctx.layout.head());
    const claim = head.value?.claim;
    if (claim !== undefined && claim.until > Date.now()) {
      await delay(wait);
      continue;
    }
    const value: Head = {
      ...(head.value ?? EMPTY_HEAD),
      claim: { token: staging.token, until: Date.now() + TURN_MS },
    };
    const taken = await ctx.kv.atomic().check(head).set(ctx.layout.head(), value).commit();
    if (taken.ok) {
      staging.head = { key: ctx.layout.head(), value, versionstamp: taken.versionstamp };
      return;
    }
  }
}

/**
 * Gives back a turn that wrote nothing (the work threw, or had nothing to write).
 *
 * @param ctx the database
 * @param staging the transaction
 */
export async function giveTurnBack(ctx: KvContext, staging: Staging): Promise<void> {
  const held = staging.head;
  if (held?.value?.claim?.token !== staging.token || held.versionstamp === null) return;
  const { claim: _claim, ...head } = held.value;
  await ctx.kv.atomic().check(held).set(ctx.layout.head(), head).commit();
}

async function attempts(ctx: KvContext, staging: Staging): Promise<EventRecord[][]> {
  const token = staging.token;
  for (let attempt = 1;; attempt++) {
    if (attempt > MAX_RETRIES) throw new RevisionConflictError("$log");
    if (attempt > 3) await delay(Math.floor(Math.random() * Math.min(attempt, 20)));
    const plan = await build(ctx, staging);
    if (plan === undefined) {
      await giveTurnBack(ctx, staging);
      return [];
    }
    const headCheck: Deno.AtomicCheck[] = staging.touchesLog
      ? [{ key: ctx.layout.head(), versionstamp: staging.head!.versionstamp }]
      : [];
    const checks = [...headCheck, ...plan.checks];
    if (checks.length > MAX_CHECKS) {
      throw new RangeError(
        `The transaction checks ${checks.length} checkpoints and data keys, over Deno KV's limit of ${MAX_CHECKS} checks per atomic commit`,
      );
    }
    const claimed = staging.head?.value?.claim;
    if (claimed !== undefined && claimed.token !== token && claimed.until > Date.now()) {
      await resolveConflict(ctx, staging, token);
      continue;
    }
    const all = [...plan.bulk, ...plan.removals, ...plan.final];
    if (fits(totals(all))) {
      const atomic = ctx.kv.atomic();
      for (const check of checks) atomic.check(check);
      if ((await apply(atomic, all).commit()).ok) return plan.stored;
      await resolveConflict(ctx, staging, token);
      continue;
    }
    if (!fits(totals(plan.final))) {
      throw overLimit(totals(plan.final), "The end of this append (head, streams, relations, checkpoints)");
    }
    const head = staging.head!.value ?? EMPTY_HEAD;
    const claim = await ctx.kv.atomic().check(...headCheck)
      .set(ctx.layout.head(), { ...head, claim: { token, until: Date.now() + CLAIM_MS } } satisfies Head)
      .commit();
    if (!claim.ok) {
      await resolveConflict(ctx, staging, token);
      continue;
    }
    const held: Deno.AtomicCheck = { key: ctx.layout.head(), versionstamp: claim.versionstamp };
    for (const group of pack(plan.bulk)) {
      const wrote = await apply(ctx.kv.atomic().check(held), group).commit();
      // The claim ran out and another commit took the head: start over.
      if (!wrote.ok) throw new RevisionConflictError("$log");
    }
    const final = ctx.kv.atomic().check(held);
    for (const check of plan.checks) final.check(check);
    if (!(await apply(final, plan.final).commit()).ok) {
      await ctx.kv.atomic().check(held).set(ctx.layout.head(), head).commit();
      await resolveConflict(ctx, staging, token);
      continue;
    }
    for (const group of pack(plan.removals)) await apply(ctx.kv.atomic(), group).commit();
    return plan.stored;
  }
}

/**
 * After a failed check: waits out another commit's claim, then throws the signal for
 * what moved, or refreshes the head so that the commit is numbered again.
 */
async function resolveConflict(ctx: KvContext, staging: Staging, token: string): Promise<void> {
  let head = await ctx.kv.get<Head>(ctx.layout.head());
  for (let wait = 1;; wait = Math.min(wait * 2, 50)) {
    const claim = head.value?.claim;
    if (claim === undefined || claim.token === token || claim.until <= Date.now()) break;
    await delay(wait);
    head = await ctx.kv.get<Head>(ctx.layout.head());
  }
  const streams = [...staging.metas.keys()];
  const metas = await getAll<StreamMeta>(ctx.kv, streams.map((stream) => ctx.layout.stream(stream)));
  for (const [i, stream] of streams.entries()) {
    if (metas[i].versionstamp !== staging.metas.get(stream)!.versionstamp) {
      throw new RevisionConflictError(stream);
    }
  }
  const ids = staging.inserts.flatMap((insert) => insert.records.map((record) => record.id));
  const stored = await storedIds(ctx, ids, head.value?.position ?? 0);
  if (stored.size > 0) throw new DuplicateIdError([...stored]);
  for (const [name, versionstamp] of staging.checkpointReads) {
    const now = await readDocument(ctx.kv, ctx.layout.checkpoint(name));
    if (now.versionstamp !== versionstamp) throw new RevisionConflictError("$checkpoint:" + name);
  }
  const subjects = [...staging.keyReads.keys()];
  const keys = await getAll(ctx.kv, subjects.map((subject) => ctx.layout.dataKey(subject)));
  for (const [i, subject] of subjects.entries()) {
    if (keys[i].versionstamp !== staging.keyReads.get(subject)) {
      throw new RevisionConflictError("$key:" + subject);
    }
  }
  for (const [id, read] of staging.userReads) {
    if ((await ctx.kv.get(read.key)).versionstamp !== read.versionstamp) {
      throw new RevisionConflictError("$kv:" + id);
    }
  }
  if (staging.touchesLog) staging.head = head;
}

/** Plans the mutations of one commit attempt; `undefined` when there is nothing to write. */
async function build(ctx: KvContext, staging: Staging): Promise<Plan | undefined> {
  const { layout, codec, kv } = ctx;
  const records = staging.inserts.flatMap((insert) => insert.records);
  const writesLog = records.length > 0 || staging.removals.size > 0 || staging.truncations.size > 0 ||
    staging.metadata.size > 0 || staging.keys.size > 0;
  if (
    !writesLog && staging.relations.length === 0 && staging.checkpoints.size === 0 &&
    staging.parked.size === 0 && staging.userWrites.size === 0
  ) return undefined;
  const bulk: Mutation[] = [];
  const removals: Mutation[] = [];
  const final: Mutation[] = [];
  const checks: Deno.AtomicCheck[] = [];
  const stored: EventRecord[][] = [];
  if (writesLog) {
    const head = await staging.readHead();
    const touched = [
      ...new Set([
        ...records.map((record) => record.stream),
        ...staging.removals.keys(),
        ...staging.truncations.keys(),
        ...staging.metadata.keys(),
      ]),
    ];
    const before = await staging.metaOf(touched);
    const metas = new Map<string, { -readonly [K in keyof StreamMeta]: StreamMeta[K] }>();
    touched.forEach((stream, i) => metas.set(stream, { ...before[i] }));
    let events = head.events;
    // Removals first: a deleteStream's record follows the removed events.
    for (const [stream, removal] of staging.removals) {
      const meta = metas.get(stream)!;
      events -= await deleteEvents(ctx, stream, meta, removal.revision + 1, removals);
      meta.stored = 0;
      meta.deletedAt = removal.revision;
      meta.tombstoned = meta.tombstoned || removal.tombstone;
      for await (const entry of kv.list({ prefix: layout.snapshotOf(stream) })) {
        const name = entry.key[entry.key.length - 1] as string;
        removals.push(...await documentDeletes(kv, layout.snapshot(name, stream)), { key: entry.key });
      }
      for await (const entry of kv.list({ prefix: layout.relationOf(stream) })) {
        const key = entry.key[entry.key.length - 1] as string;
        removals.push({ key: layout.relation(key, stream) }, { key: entry.key });
      }
    }
    for (const [stream, cut] of staging.truncations) {
      const meta = metas.get(stream)!;
      if (meta.revision === 0 && staging.metas.get(stream)?.versionstamp === null) continue;
      const removed = await deleteEvents(ctx, stream, meta, cut, removals);
      events -= removed;
      meta.stored -= removed;
      meta.truncatedBefore = Math.max(meta.truncatedBefore, cut);
    }
    for (const [stream, metadata] of staging.metadata) {
      const meta = metas.get(stream)!;
      if (Object.keys(metadata).length === 0) {
        delete meta.metadata;
        final.push({ key: layout.withMetadata(stream) });
      } else {
        meta.metadata = metadata;
        final.push({ key: layout.withMetadata(stream), value: true });
      }
    }
    const seen = new Set<string>();
    const repeated = new Set<string>();
    for (const record of records) {
      if (seen.has(record.id)) repeated.add(record.id);
      seen.add(record.id);
      checkKeySize(layout.id(record.id), `Event id "${record.id.slice(0, 40)}..."`);
    }
    for (const id of await storedIds(ctx, [...seen], head.position)) repeated.add(id);
    if (repeated.size > 0) throw new DuplicateIdError([...repeated]);
    let position = head.position;
    const recorded = new Date().toISOString();
    for (const insert of staging.inserts) {
      const out: EventRecord[] = [];
      for (const record of insert.records) {
        const meta = metas.get(record.stream)!;
        if (record.revision !== meta.revision + 1) throw new RevisionConflictError(record.stream);
        meta.revision = record.revision;
        meta.stored++;
        events++;
        position++;
        const chunks = toChunks(encodeRecord(codec, record, position, recorded));
        chunks.forEach((chunk, i) => {
          bulk.push({ key: layout.log(position, i), value: chunk });
          bulk.push({ key: layout.revision(record.stream, record.revision, i), value: chunk });
        });
        bulk.push({ key: layout.id(record.id), value: position });
        out.push(decodeRecord(codec, chunks)!);
      }
      stored.push(out);
    }
    let streams = head.streams;
    for (const [i, stream] of touched.entries()) {
      const meta = metas.get(stream)!;
      streams += (meta.stored > 0 ? 1 : 0) - (before[i].stored > 0 ? 1 : 0);
      final.push({ key: layout.stream(stream), value: meta });
    }
    final.push({ key: layout.head(), value: { position, events, streams } satisfies Head });
  }
  const net = new Map<string, { op: "insert" | "remove"; key: string; stream: string }>();
  for (const change of staging.relations) net.set(JSON.stringify([change.key, change.stream]), change);
  for (const change of net.values()) {
    checkKeySize(layout.relation(change.key, change.stream), `Relation key "${change.key.slice(0, 40)}..."`);
    if (change.op === "insert") {
      final.push({ key: layout.relation(change.key, change.stream), value: true });
      final.push({ key: layout.relationOf(change.stream, change.key), value: true });
    } else {
      final.push({ key: layout.relation(change.key, change.stream) });
      final.push({ key: layout.relationOf(change.stream, change.key) });
    }
  }
  for (const [name, next] of staging.checkpoints) {
    checks.push({ key: layout.checkpoint(name, 0), versionstamp: staging.checkpointReads.get(name) ?? null });
    final.push(...documentWrites(layout.checkpoint(name), storedCheckpoint(ctx, next)));
  }
  for (const [key, event] of staging.parked) {
    const [name, id] = JSON.parse(key) as [string, string];
    if (event === undefined) final.push(...await documentDeletes(kv, layout.parked(name, id)));
    else final.push(...documentWrites(layout.parked(name, id), event));
  }
  for (const read of staging.userReads.values()) checks.push(read);
  for (const write of staging.userWrites.values()) final.push(write);
  for (const [subject, key] of staging.keys) {
    checks.push({ key: layout.dataKey(subject), versionstamp: staging.keyReads.get(subject) ?? null });
    final.push({ key: layout.dataKey(subject), value: key });
  }
  return { bulk, removals, final, checks, stored };
}

/**
 * Plans the deletion of the stored events of `stream` below revision `below`.
 *
 * @returns how many events it deletes
 */
async function deleteEvents(
  ctx: KvContext,
  stream: string,
  meta: StreamMeta,
  below: number,
  into: Mutation[],
): Promise<number> {
  const { kv, layout, codec } = ctx;
  const start = Math.max(meta.truncatedBefore, meta.deletedAt + 1, 1);
  const end = Math.min(below, meta.revision + 1);
  if (end <= start) return 0;
  let count = 0;
  const list = kv.list<Uint8Array>({
    start: layout.revision(stream, start),
    end: layout.revision(stream, end),
  });
  for await (const { n, chunks } of grouped(list)) {
    const record = decodeRecord(codec, chunks);
    chunks.forEach((_, i) => into.push({ key: layout.revision(stream, n, i) }));
    if (record === undefined) continue;
    const position = Number(record.position);
    chunks.forEach((_, i) => into.push({ key: layout.log(position, i) }));
    into.push({ key: layout.id(record.id) });
    count++;
  }
  return count;
}

function storedCheckpoint(
  ctx: KvContext,
  next: { position: string | null; state?: unknown; version?: number },
): StoredCheckpoint {
  const out: { -readonly [K in keyof StoredCheckpoint]: StoredCheckpoint[K] } = {
    position: next.position,
    updated: new Date().toISOString(),
  };
  if (next.version !== undefined) out.version = next.version;
  if (next.state !== undefined) out.state = ctx.codec.encode(next.state);
  return out;
}
