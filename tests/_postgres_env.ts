/**
 * Where the PostgreSQL tests find their server, and the one decision about a server that
 * cannot be reached: the tests are skipped with the reason printed, unless `CI` is
 * `"true"`, where they fail (CI must run them for real).
 *
 * @module
 */

import postgres from "postgres";

/** The server the tests use: `EVENTFOLD_PG_URL`, or the local test database. */
export const PG_URL: string = Deno.env.get("EVENTFOLD_PG_URL") ?? "postgres://root@127.0.0.1:5432/test";

let checked: Promise<boolean> | undefined;

async function probe(): Promise<boolean> {
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch (error) {
    const reason = `PostgreSQL at ${PG_URL.replace(/:[^:@/]*@/, ":***@")} is unreachable: ${
      (error as Error).message
    }`;
    if (Deno.env.get("CI") === "true") throw new Error(`${reason} (CI=true: the PostgreSQL tests must run)`);
    console.warn(`skipping PostgreSQL tests: ${reason} (set EVENTFOLD_PG_URL to run them)`);
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Whether the server answers. Checked once per process.
 *
 * @returns true when the tests can run
 * @throws {Error} when it does not answer and `CI` is `"true"`
 */
export function pgAvailable(): Promise<boolean> {
  checked ??= probe();
  return checked;
}

/** A schema name no other test uses: `t_` and random hex. */
export function freshSchema(prefix = "t_"): string {
  return prefix + crypto.randomUUID().replaceAll("-", "").slice(0, 16);
}

/**
 * Drops a test schema and everything in it.
 *
 * @param schema the schema name
 */
export async function dropSchema(schema: string): Promise<void> {
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}
