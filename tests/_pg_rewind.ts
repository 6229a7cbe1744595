/**
 * Takes a PostgreSQL schema made by the current code back to what an older schema
 * version made, so a test can check the migrations from there: each step undoes one
 * migration, newest first, and the migrations table is cut back to match.
 *
 * @module
 */

import type postgres from "postgres";

/** What each migration added, undone. */
const UNDO: Readonly<Record<number, (sql: postgres.Sql, schema: string) => Promise<unknown>>> = {
  2: (sql, schema) => sql`DROP TABLE ${sql(schema)}.parked`,
  3: (sql, schema) => sql`ALTER TABLE ${sql(schema)}.events DROP COLUMN imported`,
  4: (sql, schema) => sql`ALTER TABLE ${sql(schema)}.events DROP COLUMN version`,
  5: (sql, schema) =>
    sql`
      ALTER TABLE ${sql(schema)}.streams
        DROP COLUMN floor, DROP COLUMN deleted_at, DROP COLUMN tombstoned, DROP COLUMN truncated_before`,
  6: (sql, schema) => sql`DROP TABLE ${sql(schema)}.keys`,
  7: async (sql, schema) => {
    await sql`DROP INDEX ${sql(schema)}.streams_with_metadata`;
    await sql`ALTER TABLE ${sql(schema)}.streams DROP COLUMN max_age, DROP COLUMN max_count`;
  },
};

/**
 * Rewinds `schema` to `version`.
 *
 * @param sql a connection
 * @param schema the schema, made by the current code
 * @param version the version to go back to
 */
export async function rewindSchema(sql: postgres.Sql, schema: string, version: number): Promise<void> {
  const [{ current }] = await sql<{ current: number }[]>`
    SELECT max(version) AS current FROM ${sql(schema)}.migrations`;
  for (let step = current; step > version; step--) {
    const undo = UNDO[step];
    if (undo === undefined) throw new Error(`rewindSchema knows no way to undo migration ${step}`);
    await undo(sql, schema);
  }
  await sql`DELETE FROM ${sql(schema)}.migrations WHERE version > ${version}`;
}
