/**
 * Group commit for the PostgreSQL adapter: appends that arrive while earlier ones are in
 * flight share one transaction, so a burst of small appends to different streams costs
 * one `BEGIN`, one lock-and-read statement, one insert and one `COMMIT` in all, rather
 * than that many per append.
 *
 * Only works given with `shared: true` join a group (see `TransactionOptions`): they read
 * revisions and ids, then insert once as their last call. The group runs them side by
 * side against one transaction and sends their calls together, phase by phase: when no
 * member is running (each waits on a call or has finished), the pending reads of all
 * members go as one statement each (the stream locks of all members in key order, then
 * their revisions; the ids asked for), and once every member still undecided waits on its
 * insert, their rows go as one insert with `COMMIT` after it. Each member gets the answer
 * to its own calls only, so each checks its own expected revisions: a member that throws
 * (a conflict, a tombstoned stream, a payload its codec refuses) has written nothing and
 * fails alone; the others go on.
 *
 * The transaction is one transaction: its events share its id, so the global order
 * guarantee holds as for any other (positions follow the members' order inside it, and a
 * reader below the horizon sees all of it or none). The stream locks are taken before
 * the transaction has an id, as for a transaction of one append.
 *
 * When a statement of the group fails (a duplicate id, a deadlock PostgreSQL broke, a
 * value the server refused) nothing of it is written, and every member that had not
 * settled runs again in a transaction of its own, exactly as it would have without the
 * group: the one at fault gets its own error, the others land. Two members naming the
 * same stream (two stores over one adapter) do the same. When the connection dies, every
 * member that had not settled fails with `ConnectionLostError` (`mayHaveCommitted` when
 * `COMMIT` had been sent); none is run again.
 *
 * A group of one runs as a plain transaction, so a lone writer pays nothing for this.
 *
 * @module
 */

import { ConnectionLostError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import {
  type AdapterTransaction,
  type InsertableRecord,
  type RelationChange,
  StreamTombstonedError,
} from "../../contract/mod.ts";
import type { PostgresTransactionSql } from "./client.ts";
import { isConnectionFailure, lostOr } from "./_connection_loss.ts";
import type { Reservations, ReservedConnection } from "./_reserved.ts";
import { textList } from "./_rows.ts";
import {
  committedInsert,
  type Context,
  type EncodedRow,
  encodeRows,
  type InsertedRow,
  insertStatement,
  lockAndReadRevisions,
  runTransaction,
  storedRecords,
} from "./_transaction.ts";

/** What a transaction returns to the adapter. */
export interface TransactionOutcome<T> {
  /** What the work returned. */
  readonly result: T;
  /** The id of the transaction that inserted its events, if it inserted any. */
  readonly transactionId: string | undefined;
}

type Work<T> = (tx: AdapterTransaction<PostgresTransactionSql>) => Promise<T>;

/** Why a member's call was refused: its group failed as a whole, and it runs again alone. */
class Alone extends Error {
  constructor() {
    super("The shared transaction failed; the work runs again in a transaction of its own");
    this.name = "Alone";
  }
}

type Call =
  | { readonly kind: "revisions"; readonly streams: string[] }
  | { readonly kind: "existing"; readonly ids: string[] }
  | { readonly kind: "insert"; readonly records: readonly InsertableRecord[]; readonly rows: EncodedRow[] };

interface Pending {
  readonly call: Call;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** One work of a group and where it is. */
interface Member {
  readonly work: Work<unknown>;
  readonly resolve: (outcome: TransactionOutcome<unknown>) => void;
  readonly reject: (error: unknown) => void;
  state: "running" | "waiting" | "done";
  pending: Pending | undefined;
  /** The streams it locked in the group. */
  streams: readonly string[];
  /** Whether it called insert (a lost connection is then a lost append). */
  inserting: boolean;
}

/**
 * Starts groups of shared works: at most `groups` transactions in flight; works arriving
 * meanwhile gather into the next group (up to `members` each).
 */
export class GroupCommit {
  readonly #reservations: Reservations;
  readonly #groups: number;
  readonly #members: number;
  readonly #queue: { context: Context; store: string; members: Member[] }[] = [];
  #running = 0;
  #scheduled = false;

  /**
   * @param reservations where transactions reserve their connection
   * @param options how many groups may be in flight at once, and how many works one holds
   */
  constructor(reservations: Reservations, options: { groups?: number; members?: number } = {}) {
    this.#reservations = reservations;
    this.#groups = options.groups ?? 2;
    this.#members = options.members ?? 32;
  }

  /**
   * Runs `work` in a transaction, shared with other works that arrive while earlier
   * transactions are in flight.
   *
   * @param context the adapter's schema and payloads
   * @param work a shared work (see `TransactionOptions`)
   * @param store the store's name for messages
   * @returns what the work returned, and the id of the transaction that inserted its events
   */
  run<T>(context: Context, work: Work<T>, store: string): Promise<TransactionOutcome<T>> {
    return new Promise<TransactionOutcome<T>>((resolve, reject) => {
      let group = this.#queue.at(-1);
      if (group === undefined || group.members.length >= this.#members) {
        group = { context, store, members: [] };
        this.#queue.push(group);
      }
      group.members.push({
        work,
        resolve: resolve as (outcome: TransactionOutcome<unknown>) => void,
        reject,
        state: "running",
        pending: undefined,
        streams: [],
        inserting: false,
      });
      if (!this.#scheduled && this.#running < this.#groups) {
        // Works arriving in the same turn of the event loop start together.
        this.#scheduled = true;
        queueMicrotask(() => {
          this.#scheduled = false;
          this.#start();
        });
      }
    });
  }

  #start(): void {
    while (this.#running < this.#groups && this.#queue.length > 0) {
      const { context, store, members } = this.#queue.shift()!;
      this.#running++;
      const ran = members.length === 1
        ? runTransaction(this.#reservations, context, members[0].work, store).then(
          members[0].resolve,
          members[0].reject,
        )
        : new Group(this.#reservations, context, store, members).run();
      ran.catch(() => {}).finally(() => {
        this.#running--;
        this.#start();
      });
    }
  }
}

/** One shared transaction. */
class Group {
  readonly #reservations: Reservations;
  readonly #context: Context;
  readonly #store: string;
  readonly #members: Member[];
  /** Members to run again alone once the group has ended. */
  readonly #alone: Member[] = [];
  readonly #claimed = new Set<string>();
  #connection: ReservedConnection | undefined;
  #begun: Promise<void> = Promise.resolve();
  #flushing = false;
  #failed = false;
  #lost: unknown;
  #isLost = false;
  #transactionId: string | undefined;
  #ended!: () => void;

  constructor(reservations: Reservations, context: Context, store: string, members: Member[]) {
    this.#reservations = reservations;
    this.#context = context;
    this.#store = store;
    this.#members = members;
  }

  /** The schema's payload codec. */
  get payloads(): Context["payloads"] {
    return this.#context.payloads;
  }

  /** Runs the group; settles when its transaction ended (the works run again alone may still run). */
  async run(): Promise<void> {
    try {
      await this.#run();
    } catch (error) {
      // Not expected: no caller may be left waiting.
      for (const member of this.#members) if (member.state !== "done") member.reject(error);
      throw error;
    }
  }

  async #run(): Promise<void> {
    let connection: ReservedConnection;
    try {
      connection = await this.#reservations.reserve();
    } catch (error) {
      const mapped = lostOr(error, "transaction", this.#store);
      for (const member of this.#members) member.reject(mapped);
      return;
    }
    this.#connection = connection;
    const ended = new Promise<void>((resolve) => this.#ended = resolve);
    try {
      this.#begun = connection.first("BEGIN ISOLATION LEVEL READ COMMITTED").then(() => undefined);
      this.#begun.catch(() => {});
      // Every member counts as running before any starts, so none flushes alone.
      for (const member of this.#members) this.#begin(member);
      await ended;
      if (this.#transactionId === undefined && !connection.lost) {
        // Nothing committed: the members only read, or the group failed.
        await connection.sql`ROLLBACK`.catch(() => {});
      }
    } finally {
      connection.release();
    }
    for (const member of this.#alone) {
      runTransaction(this.#reservations, this.#context, member.work, this.#store).then(
        member.resolve,
        member.reject,
      );
    }
  }

  #begin(member: Member): void {
    const tx = new SharedTransaction(this, member);
    let working: Promise<unknown>;
    try {
      working = member.work(tx);
    } catch (error) {
      working = Promise.reject(error);
    }
    working.then(
      (result) =>
        this.#settle(member, () => member.resolve({ result, transactionId: this.#committedId(member) })),
      (error) => this.#settle(member, () => this.#fail(member, error)),
    );
  }

  /** The transaction id for a member's outcome: the group's, when the member's rows went into it. */
  #committedId(member: Member): string | undefined {
    return member.inserting ? this.#transactionId : undefined;
  }

  #settle(member: Member, report: () => void): void {
    member.state = "done";
    member.pending = undefined;
    report();
    this.#check();
  }

  #fail(member: Member, error: unknown): void {
    if (error instanceof Alone) {
      this.#alone.push(member);
      return;
    }
    const connection = this.#connection!;
    if (this.#isLost || connection.lost || isConnectionFailure(error)) {
      member.reject(
        new ConnectionLostError(member.inserting ? "append" : "transaction", {
          cause: connection.cause ?? this.#lost ?? error,
          mayHaveCommitted: connection.commitSent,
          store: this.#store,
        }),
      );
      return;
    }
    member.reject(error);
  }

  /**
   * A member's call: waits until every member waits, then goes with theirs.
   *
   * @param member the member calling
   * @param call what it asks for
   * @returns the answer to its call only
   */
  call<T>(member: Member, call: Call): Promise<T> {
    if (this.#isLost) return Promise.reject(this.#lost);
    if (this.#failed) return Promise.reject(new Alone());
    return new Promise<T>((resolve, reject) => {
      member.state = "waiting";
      member.pending = { call, resolve: resolve as (value: unknown) => void, reject };
      this.#check();
    });
  }

  #check(): void {
    if (this.#flushing) return;
    const waiting: Member[] = [];
    for (const member of this.#members) {
      if (member.state === "running") return;
      if (member.state === "waiting") waiting.push(member);
    }
    if (waiting.length === 0) {
      this.#ended();
      return;
    }
    if (this.#failed || this.#isLost) {
      // Calls made before the failure was known: the transaction takes no more statements.
      this.#abandon(waiting, this.#lost);
      return;
    }
    const reads = waiting.filter((member) => member.pending!.call.kind !== "insert");
    this.#flushing = true;
    const flushed = reads.length > 0 ? this.#read(reads) : this.#insert(waiting);
    flushed.finally(() => {
      this.#flushing = false;
      this.#check();
    });
  }

  /** Takes each member out of waiting and hands it its answer (or error). */
  #answer(answers: [Member, (pending: Pending) => void][]): void {
    for (const [member] of answers) member.state = "running";
    for (const [member, answer] of answers) {
      const pending = member.pending!;
      member.pending = undefined;
      answer(pending);
    }
  }

  /** The group failed as a whole: nothing of it is written, each waiting member runs alone. */
  #abandon(waiting: readonly Member[], error: unknown): void {
    if (this.#isLost || this.#connection!.lost || isConnectionFailure(error)) {
      this.#isLost = true;
      this.#lost = this.#connection!.cause ?? error;
      this.#answer(waiting.map((member) => [member, (pending) => pending.reject(this.#lost)]));
      return;
    }
    this.#failed = true;
    this.#answer(waiting.map((member) => [member, (pending) => pending.reject(new Alone())]));
  }

  async #read(reads: readonly Member[]): Promise<void> {
    const q = this.#connection!.sql;
    const answers: [Member, (pending: Pending) => void][] = [];
    const streams = new Set<string>();
    const ids = new Set<string>();
    const asking: Member[] = [];
    for (const member of reads) {
      const call = member.pending!.call;
      if (call.kind === "revisions") {
        // A stream another member holds would get the same revision twice: run alone.
        if (call.streams.some((stream) => this.#claimed.has(stream) && !member.streams.includes(stream))) {
          answers.push([member, (pending) => pending.reject(new Alone())]);
          continue;
        }
        for (const stream of call.streams) streams.add(stream);
      } else if (call.kind === "existing") {
        for (const id of call.ids) ids.add(id);
      }
      asking.push(member);
    }
    for (const member of asking) {
      const call = member.pending!.call;
      if (call.kind !== "revisions") continue;
      for (const stream of call.streams) this.#claimed.add(stream);
      member.streams = [...new Set([...member.streams, ...call.streams])];
    }
    try {
      const sorted = [...streams].sort();
      const [locked, revisions] = sorted.length > 0
        ? lockAndReadRevisions(q, this.#context.schema, sorted)
        : [Promise.resolve(), Promise.resolve([])];
      const existing = ids.size > 0
        ? q<{ id: string }[]>`
            SELECT id FROM ${q(this.#context.schema)}.events WHERE id IN ${textList(q, [...ids])}`
        : Promise.resolve([]);
      const [, rows, found] = await Promise.all([locked, revisions, existing, this.#begun]);
      const byStream = new Map(rows.map((row) => [row.stream, row]));
      const stored = new Set(found.map((row) => row.id));
      for (const member of asking) {
        const call = member.pending!.call;
        if (call.kind === "revisions") {
          const out = new Map<string, number>();
          let tombstoned: string | undefined;
          for (const stream of call.streams) {
            const row = byStream.get(stream);
            out.set(stream, row?.revision ?? 0);
            if (row?.tombstoned && tombstoned === undefined) tombstoned = stream;
          }
          answers.push([
            member,
            tombstoned === undefined
              ? (pending) => pending.resolve(out)
              : (pending) => pending.reject(new StreamTombstonedError(tombstoned)),
          ]);
        } else if (call.kind === "existing") {
          answers.push([
            member,
            (pending) => pending.resolve(new Set(call.ids.filter((id) => stored.has(id)))),
          ]);
        }
      }
    } catch (error) {
      this.#answer(answers);
      this.#abandon(asking, error);
      return;
    }
    this.#answer(answers);
  }

  async #insert(waiting: readonly Member[]): Promise<void> {
    const connection = this.#connection!;
    const rows: EncodedRow[] = [];
    for (const member of waiting) {
      const call = member.pending!.call as Extract<Call, { kind: "insert" }>;
      for (const row of call.rows) rows.push({ ...row, n: rows.length });
    }
    let inserted: InsertedRow[];
    try {
      await this.#begun;
      const q = connection.sql;
      inserted = await committedInsert(
        insertStatement(q, this.#context, rows, true),
        connection.commit(q`COMMIT`),
      );
    } catch (error) {
      this.#abandon(waiting, error);
      return;
    }
    this.#transactionId = inserted[0].ptx;
    this.#answer(waiting.map((member) => {
      const { records } = member.pending!.call as Extract<Call, { kind: "insert" }>;
      let stored: EventRecord[] | undefined;
      let error: unknown;
      try {
        stored = storedRecords(records, inserted);
      } catch (cause) {
        error = cause;
      }
      return [member, (pending) => stored === undefined ? pending.reject(error) : pending.resolve(stored)];
    }));
  }
}

function refused(what: string): TypeError {
  return new TypeError(
    `${what} is not available in a shared transaction: give the work without shared: true`,
  );
}

/** What a member's work sees: its own part of the group's transaction. */
class SharedTransaction implements AdapterTransaction<PostgresTransactionSql> {
  readonly #group: Group;
  readonly #member: Member;
  readonly #payloads: Context["payloads"];

  constructor(group: Group, member: Member) {
    this.#group = group;
    this.#member = member;
    this.#payloads = group.payloads;
  }

  get handle(): PostgresTransactionSql {
    throw refused("The transaction handle");
  }

  revisions(streams: readonly string[]): Promise<Map<string, number>> {
    if (streams.length === 0) return Promise.resolve(new Map());
    return this.#group.call(this.#member, { kind: "revisions", streams: [...new Set(streams)].sort() });
  }

  existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return Promise.resolve(new Set());
    return this.#group.call(this.#member, { kind: "existing", ids: [...new Set(ids)] });
  }

  latestCreated(): Promise<string | null> {
    return Promise.reject(refused("latestCreated"));
  }

  insert(records: readonly InsertableRecord[], options?: { final?: boolean }): Promise<EventRecord[]> {
    if (options?.final !== true) return Promise.reject(refused("An insert that is not final"));
    if (this.#member.inserting) return Promise.reject(refused("A second insert"));
    if (records.length === 0) return Promise.resolve([]);
    this.#member.inserting = true;
    let rows: EncodedRow[];
    try {
      rows = encodeRows(this.#payloads, records);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#group.call(this.#member, { kind: "insert", records, rows });
  }

  updateRelations(changes: readonly RelationChange[]): Promise<void> {
    return changes.length === 0 ? Promise.resolve() : Promise.reject(refused("updateRelations"));
  }

  putCheckpoint(): Promise<boolean> {
    return Promise.reject(refused("putCheckpoint"));
  }

  parkEvent(): Promise<void> {
    return Promise.reject(refused("parkEvent"));
  }

  unparkEvent(): Promise<boolean> {
    return Promise.reject(refused("unparkEvent"));
  }
}
