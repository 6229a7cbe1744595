/**
 * The append algorithm, written once for every adapter: skip ids that exist, check
 * expected revisions, assign contiguous revisions, decide `outdated` for imports, insert,
 * apply relation changes and run in-transaction listeners, all in one transaction.
 *
 * @module
 */

import { delay, jitteredDelay } from "../async.ts";
import { ConcurrencyError, EventInsertionError, StreamDeletedError } from "../errors.ts";
import { STREAM_DELETED } from "../events/system.ts";
import type { ExpectedRevision } from "../events/expected_revision.ts";
import type { EventRecord, PendingEvent } from "../events/record.ts";
import {
  type Adapter,
  type AdapterTransaction,
  type InsertableRecord,
  isCommitChecked,
  isDuplicateIdError,
  isRevisionConflictError,
  isStreamTombstonedError,
  type RelationChange,
  type TransactionOptions,
} from "../contract/mod.ts";
import { checkPayloads } from "./_fidelity.ts";
import { markInside } from "../contract/_reentry.ts";

/** Everything one append needs, already checked and validated. */
export interface AppendPlan {
  /** The events, with validated payloads, in call order. */
  readonly events: readonly PendingEvent[];
  /** Expected revision per stream. */
  readonly expected: ReadonlyMap<string, ExpectedRevision>;
  /** Relation changes committed with the events. */
  readonly relations: readonly RelationChange[];
  /** True for `import`: flags records hydrated and decides `outdated`. */
  readonly imported: boolean;
  /** Runs inside the transaction after the insert; its error rolls everything back. */
  readonly inTransaction?: (records: EventRecord[], handle: unknown) => Promise<void>;
  /** A stream to remove in the same transaction (`deleteStream`); its expectation is in `expected`. */
  readonly removal?: Removal;
  /** Keys of new subjects the events were sealed with, stored in the same transaction. */
  readonly keys?: ReadonlyMap<string, Uint8Array>;
}

/**
 * Thrown inside the transaction when a subject got a key from another writer after the
 * events were sealed with a new one: nothing is written, and the caller seals again.
 */
export class KeyTakenError extends Error {
  /** The subject. */
  readonly subject: string;

  /** @param subject the subject whose key another writer stored first */
  constructor(subject: string) {
    super(`Subject "${subject}" got a key from another writer while its events were sealed`);
    this.name = "KeyTakenError";
    this.subject = subject;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Stores the keys new subjects were sealed with; another writer's key, stored first, wins. */
async function storeKeys(
  adapter: Adapter,
  tx: AdapterTransaction,
  keys: ReadonlyMap<string, Uint8Array>,
): Promise<void> {
  if (typeof tx.createKeys !== "function") {
    throw new TypeError(
      `the ${adapter.kind} adapter holds keys, but its transactions cannot create them (createKeys)`,
    );
  }
  const held = await tx.createKeys(keys);
  for (const [subject, key] of keys) {
    const stored = held.get(subject);
    if (stored === undefined || !sameBytes(stored, key)) throw new KeyTakenError(subject);
  }
}

/** What `deleteStream` asks of the append: the stream to remove with the `"$stream:deleted"` record. */
export interface Removal {
  /** The stream. */
  readonly stream: string;
  /** The revision it must be at. */
  readonly expected?: ExpectedRevision;
  /** Whether it takes no more appends. */
  readonly tombstone: boolean;
}

/** What an append stored and what it skipped. */
export interface AppendOutcome {
  /** Records inserted by this call, in call order. */
  readonly stored: EventRecord[];
  /** Ids of the call that were stored already (skipped). */
  readonly skipped: ReadonlySet<string>;
}

const MAX_ATTEMPTS = 8;
/** The wait before the second retry after a lost revision; it doubles for each one after. */
const CONFLICT_BACKOFF_MS = 2;
/** The longest wait between two attempts (a call that loses every time waits about 130 ms in all). */
const CONFLICT_BACKOFF_MAX_MS = 64;

function mismatch(expected: ExpectedRevision, actual: number): boolean {
  if (expected === "any") return false;
  if (expected === "exists") return actual === 0;
  return expected !== actual;
}

function freshEvents(events: readonly PendingEvent[], skipped: ReadonlySet<string>): PendingEvent[] {
  const seen = new Set<string>();
  const out: PendingEvent[] = [];
  for (const event of events) {
    if (skipped.has(event.id) || seen.has(event.id)) continue;
    seen.add(event.id);
    out.push(event);
  }
  return out;
}

function streamsToCheck(fresh: readonly PendingEvent[], plan: AppendPlan): string[] {
  const streams = new Set(fresh.map((event) => event.stream));
  // An expectation on a stream whose events were all skipped is met by the earlier call
  // that stored them, so a retried call stays a no-op. Expectations on streams the call
  // does not write to are checked as given.
  const written = new Set(plan.events.map((event) => event.stream));
  for (const stream of plan.expected.keys()) if (!written.has(stream)) streams.add(stream);
  return [...streams].sort();
}

function firstMismatch(
  streams: readonly string[],
  plan: AppendPlan,
  revisions: ReadonlyMap<string, number>,
): ConcurrencyError | undefined {
  for (const stream of streams) {
    const expected = plan.expected.get(stream);
    const actual = revisions.get(stream) ?? 0;
    if (expected !== undefined && mismatch(expected, actual)) {
      return new ConcurrencyError(stream, expected, actual);
    }
  }
  return undefined;
}

async function outdatedFlags(tx: AdapterTransaction, fresh: readonly PendingEvent[]): Promise<boolean[]> {
  // The newest stored `created` per stream and type, asked for all pairs of the call at
  // once (one statement on PostgreSQL rather than one round trip per pair)...
  const pairs = new Map<string, { stream: string; type: string }>();
  for (const event of fresh) {
    const key = JSON.stringify([event.stream, event.type]);
    if (!pairs.has(key)) pairs.set(key, { stream: event.stream, type: event.type });
  }
  const asked = [...pairs.values()];
  let answers: readonly (string | null)[];
  if (tx.latestCreatedMany !== undefined) {
    answers = await tx.latestCreatedMany(asked);
    if (answers.length !== asked.length) {
      throw new TypeError(
        `adapter.latestCreatedMany answered ${answers.length} pairs for ${asked.length} asked: it must answer each`,
      );
    }
  } else {
    // One statement at a time: an interactive transaction need not take several at once.
    const one: (string | null)[] = [];
    for (const pair of asked) one.push(await tx.latestCreated(pair.stream, pair.type));
    answers = one;
  }
  const latest = new Map<string, string | null>();
  [...pairs.keys()].forEach((key, i) => latest.set(key, answers[i] ?? null));
  // ...then those of this call so far.
  const flags: boolean[] = [];
  for (const event of fresh) {
    const key = JSON.stringify([event.stream, event.type]);
    const newest = latest.get(key) ?? null;
    flags.push(newest !== null && newest > event.created);
    latest.set(key, newest === null || event.created > newest ? event.created : newest);
  }
  return flags;
}

/**
 * What one attempt produced: the stored records, or (on a commit-checked adapter) the
 * promise of them, which settles when the transaction commits.
 */
interface Attempted {
  readonly stored: EventRecord[] | Promise<EventRecord[]>;
}

async function attempt(
  adapter: Adapter,
  tx: AdapterTransaction,
  plan: AppendPlan,
  known: Set<string>,
  recheck: boolean,
): Promise<Attempted> {
  // After an insert found a stored id, ask for all of them at once rather than one per try.
  if (recheck) { for (const id of await tx.existing(plan.events.map((event) => event.id))) known.add(id); }
  let fresh = freshEvents(plan.events, known);
  let streams = streamsToCheck(fresh, plan);
  const revisions = await tx.revisions(streams);
  let conflict = firstMismatch(streams, plan, revisions);
  if (conflict !== undefined) {
    // Before reporting, see whether the call was stored already (a retry after a lost reply).
    for (const id of await tx.existing(plan.events.map((event) => event.id))) known.add(id);
    fresh = freshEvents(plan.events, known);
    streams = streamsToCheck(fresh, plan);
    conflict = firstMismatch(streams, plan, revisions);
    if (conflict !== undefined) throw conflict;
  }
  if (plan.removal !== undefined) fresh = await remove(tx, plan.removal, revisions, fresh);
  if (plan.keys !== undefined && plan.keys.size > 0 && fresh.length > 0) {
    await storeKeys(adapter, tx, plan.keys);
  }
  const flags = plan.imported ? await outdatedFlags(tx, fresh) : undefined;
  const next = new Map(revisions);
  const rows: InsertableRecord[] = fresh.map((event, i) => {
    const revision = (next.get(event.stream) ?? 0) + 1;
    next.set(event.stream, revision);
    return { ...event, revision, outdated: flags?.[i] ?? false, imported: plan.imported };
  });
  const final = plan.relations.length === 0 && plan.inTransaction === undefined;
  if (isCommitChecked(adapter)) {
    if (plan.inTransaction !== undefined) throw refusedListeners(adapter);
    // Staged: the records and their positions exist once the work returns and the
    // adapter commits. A failed commit rejects transaction() itself, so this promise's
    // own rejection is handled here and read after it.
    const staged = rows.length > 0 ? tx.insert(rows, { final }) : Promise.resolve([]);
    staged.catch(() => {});
    if (plan.relations.length > 0) await tx.updateRelations(plan.relations);
    return { stored: staged };
  }
  const stored = rows.length > 0 ? await tx.insert(rows, { final }) : [];
  if (plan.relations.length > 0) await tx.updateRelations(plan.relations);
  const listeners = plan.inTransaction;
  if (listeners !== undefined && stored.length > 0) {
    await markInside(adapter, () => listeners(stored, tx.handle));
  }
  return { stored };
}

/**
 * Removes the stream of a `deleteStream` and puts its revision into the
 * `"$stream:deleted"` record about to be inserted.
 */
async function remove(
  tx: AdapterTransaction,
  removal: Removal,
  revisions: ReadonlyMap<string, number>,
  fresh: PendingEvent[],
): Promise<PendingEvent[]> {
  if (fresh.length === 0) return fresh; // stored already: a retry after a lost reply
  const revision = revisions.get(removal.stream) ?? 0;
  await tx.removeStream!(removal.stream, { revision, tombstone: removal.tombstone });
  return fresh.map((event) =>
    event.type === STREAM_DELETED
      ? { ...event, data: { stream: removal.stream, revision, tombstone: removal.tombstone } }
      : event
  );
}

/**
 * The error for in-transaction listeners on a commit-checked adapter, which has no open
 * transaction to run them in.
 *
 * @param adapter the adapter
 */
export function refusedListeners(adapter: Adapter): TypeError {
  return new TypeError(
    `onEventsInserting listeners need an interactive transaction, and the ${adapter.kind} adapter checks ` +
      "its transactions at commit: use onEventsInserted (after the commit) or a subscription instead",
  );
}

/** The error to report when every attempt lost a race: one of the public error tree. */
function exhausted(error: unknown, plan: AppendPlan): unknown {
  if (isRevisionConflictError(error)) {
    return new ConcurrencyError(error.stream, plan.expected.get(error.stream) ?? "any", NaN, {
      cause: error,
      attempts: MAX_ATTEMPTS,
    });
  }
  if (isDuplicateIdError(error)) {
    return new EventInsertionError(
      `Events with ids ${error.ids.join(", ")} kept appearing while appending (${MAX_ATTEMPTS} attempts)`,
      { cause: error },
    );
  }
  return error;
}

const SHARED: TransactionOptions = { shared: true };

/** The most events of a call that may share its transaction with other calls. */
const SHARED_EVENTS = 64;

/**
 * Whether the plan's attempt may share a transaction with other appends (group commit):
 * it then only reads revisions and ids and inserts once as its last call (see
 * `TransactionOptions`). Relations, listeners, removals, keys and imports write more or
 * ask more, and big calls gain nothing from sharing a commit.
 */
function shareable(adapter: Adapter, plan: AppendPlan): boolean {
  return !isCommitChecked(adapter) && !plan.imported && plan.relations.length === 0 &&
    plan.inTransaction === undefined && plan.removal === undefined &&
    (plan.keys === undefined || plan.keys.size === 0) && plan.events.length <= SHARED_EVENTS;
}

/**
 * Appends a plan in one transaction, retrying when the adapter reports an id that
 * exists (it is then skipped) or a revision taken by a concurrent writer.
 *
 * @param adapter the storage
 * @param plan the checked events and options
 * @returns what was stored and what was skipped
 * @throws {ConcurrencyError} when an expected revision does not hold
 * @throws {EventValidationError} when the adapter's codec would not give a payload back
 *   exactly; checked before any I/O, so nothing is written
 */
export async function append(adapter: Adapter, plan: AppendPlan): Promise<AppendOutcome> {
  const checking = checkPayloads(adapter, plan.events);
  if (checking !== undefined) await checking;
  const known = new Set<string>();
  let recheck = false;
  for (let tries = 1;; tries++) {
    try {
      const attempted = await adapter.transaction(
        (tx) => attempt(adapter, tx, plan, known, recheck),
        shareable(adapter, plan) ? SHARED : undefined,
      );
      const stored = await attempted.stored;
      const skipped = new Set(plan.events.filter((event) => known.has(event.id)).map((event) => event.id));
      return { stored, skipped };
    } catch (error) {
      if (isStreamTombstonedError(error)) throw new StreamDeletedError(error.stream, { cause: error });
      if (tries >= MAX_ATTEMPTS) throw exhausted(error, plan);
      if (isDuplicateIdError(error)) {
        for (const id of error.ids) known.add(id);
        recheck = true;
      } else if (!isRevisionConflictError(error)) {
        throw error;
      } else if (tries > 1) {
        // Writers that keep losing one stream to each other (tabs, processes on one KV
        // file) spread out: the first retry is at once, later ones wait a little longer.
        await delay(jitteredDelay(tries - 1, CONFLICT_BACKOFF_MS, CONFLICT_BACKOFF_MAX_MS));
      }
    }
  }
}
