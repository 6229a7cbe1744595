/**
 * The SQL behind key storage on PostgreSQL: the data key of each subject, one row in
 * `keys`. Keys travel as hex text, so no client type parser or transform touches them.
 * After a delete commits, the table is vacuumed so the dead row's space is reclaimed.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Query } from "./_rows.ts";
import { textList } from "./_rows.ts";

/** Stored hex as a fresh `Uint8Array` (not a `Buffer` sharing a pool). */
function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}

function toHex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
}

/**
 * The keys of the subjects that have one.
 *
 * @param q the pool
 * @param schema the schema name
 * @param subjects the subjects
 * @returns subject to key, subjects without a key left out
 */
export async function readKeys(
  q: Query,
  schema: string,
  subjects: readonly string[],
): Promise<Map<string, Uint8Array>> {
  const rows = await q<{ subject: string; key: string }[]>`
    SELECT subject, encode(key, 'hex') AS key FROM ${q(schema)}.keys
    WHERE subject IN ${textList(q, subjects)}`;
  return new Map(rows.map((row) => [row.subject, fromHex(row.key)]));
}

/**
 * Stores `key` for `subject` unless it has one, and returns the one it has now. Two
 * statements, each its own transaction: the insert waits for a racing insert of the same
 * subject and then does nothing, and only a later statement's snapshot sees that row.
 *
 * @param q the pool
 * @param schema the schema name
 * @param subject the subject
 * @param key the key
 * @returns the stored key: `key`, or the one stored before
 */
export async function insertKey(
  q: Query,
  schema: string,
  subject: string,
  key: Uint8Array,
): Promise<Uint8Array> {
  const s = q(schema);
  const hex = toHex(key);
  for (;;) {
    const inserted = await q<{ key: string }[]>`
      INSERT INTO ${s}.keys (subject, key) VALUES (${subject}, decode(${hex}::text, 'hex'))
      ON CONFLICT (subject) DO NOTHING
      RETURNING encode(key, 'hex') AS key`;
    if (inserted.length === 1) return fromHex(inserted[0].key);
    const [stored] = await q<{ key: string }[]>`
      SELECT encode(key, 'hex') AS key FROM ${s}.keys WHERE subject = ${subject}`;
    // Absent: it was deleted in between; try again.
    if (stored !== undefined) return fromHex(stored.key);
  }
}

/**
 * Deletes the key of `subject`, then (when one was deleted) vacuums the table outside a
 * transaction, so the dead row's space is reclaimed. The vacuum is best effort: its
 * failure (no privilege, a lost connection) is ignored, a later vacuum does the same.
 *
 * @param q the pool
 * @param schema the schema name
 * @param subject the subject
 * @returns whether a key was deleted
 */
export async function removeKey(q: Query, schema: string, subject: string): Promise<boolean> {
  const s = q(schema);
  const rows = await q`DELETE FROM ${s}.keys WHERE subject = ${subject} RETURNING 1 AS done`;
  if (rows.length === 0) return false;
  try {
    await q`VACUUM ${s}.keys`;
  } catch {
    // Best effort: autovacuum or the next delete reclaims the space.
  }
  return true;
}
