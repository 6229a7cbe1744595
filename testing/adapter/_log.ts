/**
 * What the adapter cases share: records ready to insert, inserting them under either
 * transaction model, and an adapter the case closes however it ends.
 *
 * @module
 */

import { type Adapter, type InsertableRecord, isCommitChecked } from "../../contract/mod.ts";
import { uuidv7 } from "../../events/id.ts";
import type { EventRecord } from "../../events/record.ts";
import { at, type CaseContext } from "../_fixture.ts";

/** Fields of a test record that a case may choose. */
export interface RowOptions {
  /** Event type (default `"tick"`). */
  readonly type?: string;
  /** Payload (default `{ n: revision }`). */
  readonly data?: unknown;
  /** Metadata (default `null`). */
  readonly meta?: unknown;
  /** Seconds after 2024-01-01 for `created` (default: the revision). */
  readonly seconds?: number;
  /** The id (default: a fresh UUIDv7). */
  readonly id?: string;
  /** Whether it came in through an import. */
  readonly imported?: boolean;
}

/**
 * A record as the store hands it to `insert`.
 *
 * @param stream the stream
 * @param revision its revision there
 * @param options the other fields
 */
export function row(stream: string, revision: number, options: RowOptions = {}): InsertableRecord {
  const record: InsertableRecord = {
    id: options.id ?? uuidv7(),
    stream,
    type: options.type ?? "tick",
    data: "data" in options ? options.data : { n: revision },
    meta: options.meta ?? null,
    revision,
    created: at(options.seconds ?? revision),
    outdated: false,
  };
  return options.imported === undefined ? record : { ...record, imported: options.imported };
}

/**
 * Records for `stream`, revisions `from` to `from + count - 1`.
 *
 * @param stream the stream
 * @param from the first revision
 * @param count how many
 * @param options the other fields of each
 */
export function rows(
  stream: string,
  from: number,
  count: number,
  options: RowOptions = {},
): InsertableRecord[] {
  return Array.from({ length: count }, (_, i) => row(stream, from + i, { ...options, id: undefined }));
}

/**
 * Inserts `records` in one transaction and returns them stored, the way the store does
 * under the adapter's model: an interactive adapter's insert is awaited inside the work;
 * a commit-checked adapter's insert settles after the commit, so it is awaited after
 * `transaction()` returns. Then it reads one settling log page, so that what the
 * transaction committed is readable (a PostgreSQL reader may lag a commit until older
 * transactions end) before the case reads it without `settle`.
 *
 * @param adapter the adapter
 * @param records the records
 */
export async function insert(adapter: Adapter, records: readonly InsertableRecord[]): Promise<EventRecord[]> {
  const stored = await committed(adapter, records);
  await adapter.readLog({ direction: "backward", limit: 1, settle: true });
  return stored;
}

async function committed(adapter: Adapter, records: readonly InsertableRecord[]): Promise<EventRecord[]> {
  if (!isCommitChecked(adapter)) return await adapter.transaction((tx) => tx.insert(records));
  let staged: Promise<EventRecord[]> | undefined;
  await adapter.transaction((tx) => {
    staged = tx.insert(records);
    // Its rejection is the commit's, which transaction() reports; read it below.
    staged.catch(() => {});
    return Promise.resolve();
  });
  if (staged === undefined) throw new Error("the transaction's work did not run");
  return await staged;
}

/**
 * Runs `work` on a fresh adapter and closes it afterwards, whether `work` failed or not.
 *
 * @param ctx the case context
 * @param work what the case does with the adapter
 */
export async function withAdapter(
  ctx: CaseContext,
  work: (adapter: Adapter) => Promise<void>,
): Promise<void> {
  const adapter = await ctx.adapter();
  try {
    await work(adapter);
  } finally {
    await adapter.close();
  }
}

/** The ids of `records`, in order. */
export function idsOf(records: readonly { id: string }[]): string[] {
  return records.map((record) => record.id);
}

/**
 * Runs `work` on a second adapter over the storage of `adapter` (from the suite's
 * `reopen`), and closes that one afterwards.
 *
 * @param ctx the case context
 * @param adapter the first adapter
 * @param work what the case does with the second
 * @throws {TypeError} when the suite has no `reopen`
 */
export async function withSecond(
  ctx: CaseContext,
  adapter: Adapter,
  work: (other: Adapter) => Promise<void>,
): Promise<void> {
  if (ctx.reopen === undefined) throw new TypeError("this case needs the suite's reopen option");
  const other = await ctx.reopen(adapter);
  try {
    await work(other);
  } finally {
    await other.close();
  }
}
