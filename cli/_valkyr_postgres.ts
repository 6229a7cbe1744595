/**
 * Reading a @valkyr/event-store PostgreSQL database: its `events` and `relations` tables
 * in one schema (`?schema=` of the URL, default `public`, as valkyr's adapter defaults).
 * Rows are read in pages by (`created`, `id`), valkyr's own order, so any size streams
 * through bounded memory.
 *
 * @module
 */

import { CliFailure, scrubSecrets } from "./_errors.ts";
import type { StoreUrl } from "./_store_url.ts";
import { EVENT_COLUMNS, type ValkyrRelation, type ValkyrRow, type ValkyrSource } from "./_valkyr_source.ts";

import type postgres from "postgres";

// deno-lint-ignore no-explicit-any
type Sql = postgres.Sql<any>;

interface Column {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  readonly type: string;
}

function reason(error: unknown): string {
  return scrubSecrets(
    (error instanceof Error ? error.message : String(error)).replaceAll(/\s+/g, " ").trim(),
  );
}

function columnsOf(columns: readonly Column[], schema: string, table: string): Map<string, string> {
  return new Map(
    columns.filter((c) => c.schema === schema && c.table === table).map((c) => [c.column, c.type]),
  );
}

function hasEventColumns(columns: ReadonlyMap<string, string>): boolean {
  return EVENT_COLUMNS.every((name) => columns.has(name));
}

async function describeTables(sql: Sql, label: string, schema: string): Promise<{
  readonly json: boolean;
  readonly relations: string | undefined;
}> {
  const columns = await sql<Column[]>`
    SELECT table_schema AS schema, table_name AS table, column_name AS column, data_type AS type
    FROM information_schema.columns
    WHERE table_name IN ('events', 'relations', 'contexts', 'migrations')
      AND table_schema NOT IN ('pg_catalog', 'information_schema')`;
  const events = columnsOf(columns, schema, "events");
  const expected = `a table "events" (${EVENT_COLUMNS.join(", ")}) and a table "relations" (key, stream)`;
  if (events.size > 0 && events.has("revision") && columnsOf(columns, schema, "migrations").size > 0) {
    throw new CliFailure(
      `${label} holds an Eventfold store, not a @valkyr/event-store one; use eventfold copy --from URL --to URL`,
    );
  }
  if (!hasEventColumns(events)) {
    const elsewhere = [...new Set(columns.map((c) => c.schema))]
      .filter((other) => other !== schema && hasEventColumns(columnsOf(columns, other, "events")))
      .map((other) => `?schema=${other}`);
    const found = events.size === 0
      ? `schema "${schema}" has no table "events"`
      : `"${schema}"."events" lacks ${EVENT_COLUMNS.filter((c) => !events.has(c)).join(", ")}`;
    const hint = elsewhere.length > 0 ? `; valkyr's tables are in ${elsewhere.join(", ")}` : "";
    throw new CliFailure(
      `no @valkyr/event-store tables in ${label}: ${found} (expected ${expected})${hint}`,
    );
  }
  const relations = ["relations", "contexts"].find((table) => {
    const found = columnsOf(columns, schema, table);
    return found.has("key") && found.has("stream");
  });
  const type = events.get("data");
  return { json: type === "jsonb" || type === "json", relations };
}

/**
 * Opens a valkyr PostgreSQL database for reading.
 *
 * @param url the `postgres://` URL (`?schema=` names valkyr's schema)
 * @returns the source
 * @throws {CliFailure} when the server cannot be reached or the schema holds no valkyr tables
 */
export async function openValkyrPostgres(url: StoreUrl & { kind: "postgres" }): Promise<ValkyrSource> {
  const { default: connect } = await import("postgres");
  const schema = url.schema ?? "public";
  const label = `${url.label}${url.schema === undefined ? " (schema public)" : ""}`;
  const sql = connect(url.url, { max: 1, connect_timeout: 10, onnotice: () => {} });
  let tables: { json: boolean; relations: string | undefined };
  try {
    tables = await describeTables(sql, label, schema);
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    if (error instanceof CliFailure) throw error;
    throw new CliFailure(`cannot read the valkyr store ${label}: ${reason(error)}`, { cause: error });
  }
  const s = sql(schema);
  return {
    label,
    relationsTable: tables.relations === undefined ? undefined : `"${schema}"."${tables.relations}"`,
    jsonPayloads: tables.json,
    async count() {
      const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::float8 AS n FROM ${s}.events`;
      return n;
    },
    async *rows(pageSize) {
      let after: { created: string; id: string } | undefined;
      while (true) {
        const page: ValkyrRow[] = await sql<ValkyrRow[]>`
          SELECT id, stream, type, data::text AS data, meta::text AS meta, created FROM ${s}.events
          ${after === undefined ? sql`` : sql`WHERE (created, id) > (${after.created}, ${after.id})`}
          ORDER BY created, id LIMIT ${pageSize}`;
        if (page.length > 0) yield page;
        if (page.length < pageSize) return;
        const last = page[page.length - 1];
        after = { created: String(last.created), id: String(last.id) };
      }
    },
    async *relations(pageSize) {
      if (tables.relations === undefined) return;
      const table = sql(tables.relations);
      let after: ValkyrRelation | undefined;
      while (true) {
        const page = await sql<ValkyrRelation[]>`
          SELECT key, stream FROM ${s}.${table}
          ${after === undefined ? sql`` : sql`WHERE (key, stream) > (${after.key}, ${after.stream})`}
          ORDER BY key, stream LIMIT ${pageSize}`;
        if (page.length > 0) yield page;
        if (page.length < pageSize) return;
        after = page[page.length - 1];
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
