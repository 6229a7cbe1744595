/**
 * Reading a @valkyr/event-store SQLite file: its events table (`valkyr_events`, or
 * `events` as its browser and PostgreSQL stores name it) and its relations table
 * (`valkyr_relations`, `valkyr_contexts` in older versions, or `relations`). The file is
 * opened read-only; rows come in pages by (`created`, `id`), valkyr's own order.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { CliFailure } from "./_errors.ts";
import { EVENT_COLUMNS, type ValkyrRelation, type ValkyrRow, type ValkyrSource } from "./_valkyr_source.ts";

const EVENT_TABLES = ["valkyr_events", "events"];
const RELATION_TABLES = ["valkyr_relations", "valkyr_contexts", "relations", "contexts"];

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replaceAll(/\s+/g, " ").trim();
}

function columns(db: DatabaseSync, table: string): Set<string> {
  const rows = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  return new Set(rows.map((row) => row.name));
}

function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function open(path: string, label: string): Promise<DatabaseSync> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new CliFailure(`${label} is not a file`);
  } catch (error) {
    if (error instanceof CliFailure) throw error;
    if (error instanceof Deno.errors.NotFound) {
      throw new CliFailure(`no valkyr store at ${label}: no such file`);
    }
    throw new CliFailure(`cannot read ${label}: ${message(error)}`, { cause: error });
  }
  const { DatabaseSync } = await import("node:sqlite");
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      db.prepare("SELECT count(*) FROM sqlite_master").get();
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  } catch (error) {
    throw new CliFailure(`${label} is not a SQLite database (${message(error)})`, { cause: error });
  }
}

function eventsTable(db: DatabaseSync, label: string): string {
  if (columns(db, "eventfold_meta").size > 0) {
    throw new CliFailure(
      `${label} is an Eventfold store, not a @valkyr/event-store one; use eventfold copy --from URL --to URL`,
    );
  }
  const table = EVENT_TABLES.find((name) => EVENT_COLUMNS.every((column) => columns(db, name).has(column)));
  if (table === undefined) {
    throw new CliFailure(
      `no @valkyr/event-store tables in ${label}: expected a table "valkyr_events" (or "events") with ` +
        `${
          EVENT_COLUMNS.join(", ")
        }, and "valkyr_relations" (or "valkyr_contexts", "relations") with key, stream`,
    );
  }
  return table;
}

/**
 * Opens a valkyr SQLite file for reading.
 *
 * @param path the file
 * @returns the source
 * @throws {CliFailure} when the file is missing, not a database, or holds no valkyr tables
 */
export async function openValkyrSqlite(path: string): Promise<ValkyrSource> {
  const label = `sqlite:${path}`;
  const db = await open(path, label);
  let events: string;
  let relations: string | undefined;
  try {
    events = quoted(eventsTable(db, label));
    relations = RELATION_TABLES.find((name) => {
      const found = columns(db, name);
      return found.has("key") && found.has("stream");
    });
  } catch (error) {
    db.close();
    throw error;
  }
  return {
    label,
    relationsTable: relations,
    jsonPayloads: false,
    count() {
      const row = db.prepare(`SELECT count(*) AS n FROM ${events}`).get() as { n: number };
      return Promise.resolve(Number(row.n));
    },
    async *rows(pageSize) {
      const columns = "id, stream, type, data, meta, created";
      const first = db.prepare(`SELECT ${columns} FROM ${events} ORDER BY created, id LIMIT ?`);
      const next = db.prepare(
        `SELECT ${columns} FROM ${events} WHERE (created, id) > (?, ?) ORDER BY created, id LIMIT ?`,
      );
      let after: ValkyrRow | undefined;
      while (true) {
        const page = (after === undefined
          ? first.all(pageSize)
          : next.all(after.created as string, after.id as string, pageSize)) as unknown as ValkyrRow[];
        if (page.length > 0) {
          yield page;
        }
        if (page.length < pageSize) {
          return;
        }
        after = page[page.length - 1];
      }
    },
    async *relations(pageSize) {
      if (relations === undefined) return;
      const table = quoted(relations);
      const first = db.prepare(`SELECT key, stream FROM ${table} ORDER BY key, stream LIMIT ?`);
      const next = db.prepare(
        `SELECT key, stream FROM ${table} WHERE (key, stream) > (?, ?) ORDER BY key, stream LIMIT ?`,
      );
      let after: ValkyrRelation | undefined;
      while (true) {
        const page = (after === undefined
          ? first.all(pageSize)
          : next.all(after.key, after.stream, pageSize)) as unknown as ValkyrRelation[];
        if (page.length > 0) {
          yield page;
        }
        if (page.length < pageSize) {
          return;
        }
        after = page[page.length - 1];
      }
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}
