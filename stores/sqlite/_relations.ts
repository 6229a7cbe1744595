/**
 * The SQL behind relations on SQLite: which streams a key links to, and linking or
 * unlinking them (inside a transaction, they commit with it).
 *
 * @module
 */

import type { RelationChange } from "../../contract/mod.ts";
import type { _Connection, _Statement } from "./database.ts";

/**
 * Streams linked to any of `keys`, each once: by key in the given order, then in the
 * order they were linked.
 *
 * @param reader the connection
 * @param keys relation keys (at least one)
 * @returns the streams
 */
export function streamsByKeys(reader: _Connection, keys: readonly string[]): string[] {
  const sql = "SELECT r.stream FROM json_each(?) AS k JOIN eventfold_relations AS r ON r.key = k.value " +
    "ORDER BY k.key, r.rowid";
  const rows = reader.statement(sql, true).rows([JSON.stringify(keys)]);
  return [...new Set(rows.map((row) => row[0] as string))];
}

/**
 * Applies relation changes, in order.
 *
 * @param connection the write connection
 * @param changes the changes
 * @throws {TypeError} for a change that is neither an insert nor a remove
 */
export function applyRelations(connection: _Connection, changes: readonly RelationChange[]): void {
  let link: _Statement | undefined;
  let unlink: _Statement | undefined;
  for (const change of changes) {
    if (change.op === "insert") {
      link ??= connection.statement(
        "INSERT INTO eventfold_relations (key, stream) VALUES (?, ?) ON CONFLICT DO NOTHING",
      );
      link.run([change.key, change.stream]);
    } else if (change.op === "remove") {
      unlink ??= connection.statement("DELETE FROM eventfold_relations WHERE key = ? AND stream = ?");
      unlink.run([change.key, change.stream]);
    } else {
      throw new TypeError(
        `Unknown relation change ${JSON.stringify(change.op)}: expected "insert" or "remove"`,
      );
    }
  }
}
