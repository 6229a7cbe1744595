/**
 * Shared pieces of the PostgreSQL adapter's tests: a test that is skipped without a
 * server, an adapter on a fresh schema, and event rows to insert.
 *
 * @module
 */

import { dropSchema, freshSchema, PG_URL, pgAvailable } from "../../tests/_postgres_env.ts";
import type { EventRecord } from "../../events/record.ts";
import type { InsertableRecord } from "../../contract/mod.ts";
import { PostgresAdapter, type PostgresAdapterOptions } from "./mod.ts";

const ignore = !(await pgAvailable());

/** A test that needs the server, skipped when it is not reachable. */
export function test(name: string, fn: () => Promise<void> | void): void {
  Deno.test({ name, ignore, fn });
}

/** Runs `fn` with an adapter on a fresh schema, then closes it and drops the schema. */
export async function withAdapter(
  fn: (adapter: PostgresAdapter, schema: string) => Promise<void>,
  options: PostgresAdapterOptions = {},
): Promise<void> {
  const schema = options.schema ?? freshSchema();
  const adapter = new PostgresAdapter(PG_URL, { ...options, schema });
  try {
    await fn(adapter, schema);
  } finally {
    await adapter.close();
    await dropSchema(schema);
  }
}

let counter = 0;

/** An event row of `stream` at `revision`, with a unique id. */
export function row(
  stream: string,
  revision: number,
  extra: Partial<InsertableRecord> = {},
): InsertableRecord {
  return {
    id: `e${++counter}-${crypto.randomUUID()}`,
    stream,
    type: "t",
    data: { n: counter },
    meta: null,
    revision,
    created: new Date().toISOString(),
    outdated: false,
    ...extra,
  };
}

/** Inserts `records` in one transaction, as the store appends. */
export async function append(adapter: PostgresAdapter, records: InsertableRecord[]): Promise<EventRecord[]> {
  return await adapter.transaction(async (tx) => {
    await tx.revisions(records.map((record) => record.stream));
    return await tx.insert(records);
  });
}
