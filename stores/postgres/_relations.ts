/**
 * The SQL behind relations on PostgreSQL: which streams a key links to, and linking or
 * unlinking them (in a transaction, so a batch of changes commits together).
 *
 * @module
 */

import type { RelationChange } from "../../contract/mod.ts";
import { type Query, textList } from "./_rows.ts";

/**
 * Final state of each (key, stream) pair after applying changes in order, so they can
 * go to the server as one insert and one delete.
 *
 * @param changes the changes, in order
 * @returns the pairs to insert and to remove
 * @throws {TypeError} for a change that is neither an insert nor a remove
 */
export function netRelations(changes: readonly RelationChange[]): { insert: string[][]; remove: string[][] } {
  const last = new Map<string, RelationChange>();
  for (const change of changes) {
    if (change.op !== "insert" && change.op !== "remove") {
      throw new TypeError(
        `Unknown relation change ${JSON.stringify(change.op)}: expected "insert" or "remove"`,
      );
    }
    last.set(JSON.stringify([change.key, change.stream]), change);
  }
  const insert: string[][] = [];
  const remove: string[][] = [];
  for (const change of last.values()) {
    (change.op === "insert" ? insert : remove).push([change.key, change.stream]);
  }
  return { insert, remove };
}

/**
 * Applies relation changes with `q` (a transaction, so both statements commit together).
 *
 * @param q the transaction
 * @param schema the schema name
 * @param changes the changes, applied as if one by one in order
 */
export async function applyRelations(
  q: Query,
  schema: string,
  changes: readonly RelationChange[],
): Promise<void> {
  const { insert, remove } = netRelations(changes);
  const s = q(schema);
  const work: Promise<unknown>[] = [];
  if (remove.length > 0) {
    work.push(q`
      DELETE FROM ${s}.relations AS r
      USING json_array_elements(${JSON.stringify(remove)}::text::json) AS x(pair)
      WHERE r.key = x.pair->>0 AND r.stream = x.pair->>1`);
  }
  if (insert.length > 0) {
    work.push(q`
      INSERT INTO ${s}.relations (key, stream)
      SELECT x.pair->>0, x.pair->>1 FROM json_array_elements(${JSON.stringify(insert)}::text::json) AS x(pair)
      ON CONFLICT DO NOTHING`);
  }
  await Promise.all(work);
}

/**
 * Streams linked to any of `keys`, each once, sorted by name.
 *
 * @param q the pool
 * @param schema the schema name
 * @param keys relation keys
 * @returns the streams
 */
export async function streamsByKeys(q: Query, schema: string, keys: readonly string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const rows = await q<{ stream: string }[]>`
      SELECT DISTINCT stream FROM ${q(schema)}.relations WHERE key IN ${textList(q, keys)} ORDER BY stream`;
  return rows.map((row) => row.stream);
}
