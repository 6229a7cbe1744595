/**
 * The SQLite store's tables, their version and the migrations between versions. The
 * version and the codec live in `eventfold_meta`, so a newer file is refused rather than
 * misread, an older one is brought up to date in one transaction, and a reader never
 * guesses how payloads were encoded.
 *
 * @module
 */

import { StoreOpenError } from "../../errors.ts";
import { type Codec, resolveCodec } from "../codec.ts";
import type { _Connection } from "./database.ts";

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = 7;

/** One step of the schema: the SQL that brings a file from `version - 1` to `version`. */
export interface Migration {
  /** The version this step produces. */
  readonly version: number;
  /** The statements, run inside the migration's transaction. */
  readonly sql: string;
}

/**
 * Version 1. Positions are the rowid, so insert order is position order; positions are
 * never reused once committed (a transaction that removes the last events of the log
 * makes its next insert continue after them, see `SqliteTransaction`). `(stream, revision)` is unique,
 * which serves both stream reads and the revision lookup (`max(revision)` reads one index
 * entry); the partial index on first revisions counts and lists streams without a scan.
 */
const V1 = `
CREATE TABLE eventfold_events (
  position INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  stream TEXT NOT NULL,
  type TEXT NOT NULL,
  revision INTEGER NOT NULL,
  data BLOB,
  meta BLOB,
  created TEXT NOT NULL,
  recorded TEXT NOT NULL,
  outdated INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX eventfold_events_id ON eventfold_events (id);
CREATE UNIQUE INDEX eventfold_events_stream ON eventfold_events (stream, revision);
CREATE INDEX eventfold_events_streams ON eventfold_events (stream) WHERE revision = 1;
CREATE TABLE eventfold_relations (
  key TEXT NOT NULL,
  stream TEXT NOT NULL,
  UNIQUE (key, stream)
);
CREATE TABLE eventfold_snapshots (
  name TEXT NOT NULL,
  stream TEXT NOT NULL,
  state BLOB,
  revision INTEGER,
  position TEXT,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, stream)
);
CREATE TABLE eventfold_checkpoints (
  name TEXT PRIMARY KEY NOT NULL,
  position TEXT,
  updated TEXT NOT NULL,
  state BLOB,
  version INTEGER
);
`;

/**
 * Version 2: subscriptions. Events a subscription parked after its retries, and the lease
 * rows that keep one instance per subscription name active across processes (a lease is
 * taken over once `expires`, a time in ms since the epoch, has passed unrenewed).
 */
const V2 = `
CREATE TABLE eventfold_parked (
  name TEXT NOT NULL,
  id TEXT NOT NULL,
  position TEXT NOT NULL,
  stream TEXT NOT NULL,
  type TEXT NOT NULL,
  hydrated INTEGER NOT NULL,
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  parked TEXT NOT NULL,
  PRIMARY KEY (name, id)
);
CREATE TABLE eventfold_leases (
  name TEXT PRIMARY KEY NOT NULL,
  owner TEXT NOT NULL,
  expires INTEGER NOT NULL
);
`;

/**
 * Version 3: whether an event came in through `import()`, so later readers (subscriptions,
 * replays) see it hydrated as the live run did.
 */
const V3 = `
ALTER TABLE eventfold_events ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
`;

/**
 * Version 4: the version of its definition each event was written at, so a reader can
 * upcast it. Rows written before versions existed read as version 1.
 */
const V4 = `
ALTER TABLE eventfold_events ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
`;

/**
 * Version 5: what is known of a stream beyond its events, kept only for streams that were
 * deleted or truncated (appends never write here): the highest revision it ever had (its
 * floor, so revisions are never reused), the revision it was deleted at, whether it was
 * tombstoned, and the first revision truncation kept.
 */
const V5 = `
CREATE TABLE eventfold_streams (
  stream TEXT PRIMARY KEY NOT NULL,
  revision INTEGER NOT NULL,
  deleted_at INTEGER NOT NULL DEFAULT 0,
  tombstoned INTEGER NOT NULL DEFAULT 0,
  truncated_before INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
`;

/**
 * Version 6: the data key of each subject, for crypto-shredding. Deleting a row destroys
 * the key (see `_keys.ts` for how its bytes are overwritten).
 */
const V6 = `
CREATE TABLE eventfold_keys (
  subject TEXT PRIMARY KEY NOT NULL,
  key BLOB NOT NULL
) WITHOUT ROWID;
`;

/**
 * Version 7: the retention rules of a stream (its metadata), on its row in
 * `eventfold_streams`; `NULL` where a rule is not set. A stream given metadata has a row
 * even when it was never deleted or truncated.
 */
const V7 = `
ALTER TABLE eventfold_streams ADD COLUMN max_age INTEGER;
ALTER TABLE eventfold_streams ADD COLUMN max_count INTEGER;
`;

/** Every step, in order. A new schema version appends one here and bumps {@linkcode SCHEMA_VERSION}. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, sql: V1 },
  { version: 2, sql: V2 },
  { version: 3, sql: V3 },
  { version: 4, sql: V4 },
  { version: 5, sql: V5 },
  { version: 6, sql: V6 },
  { version: 7, sql: V7 },
];

/** The events table's DDL (for the benchmark's raw baseline, which must use the same table). */
export const EVENTS_TABLE_SQL: string = V1.slice(0, V1.indexOf("CREATE TABLE eventfold_relations")) + V3 +
  V4;

const META = "CREATE TABLE IF NOT EXISTS eventfold_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)";

interface Recorded {
  version: number;
  codec: string | undefined;
}

function readMeta(connection: _Connection): Recorded | undefined {
  const table = connection.statement(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'eventfold_meta'",
    true,
  ).row([]);
  if (table === undefined) return undefined;
  const rows = connection.statement("SELECT key, value FROM eventfold_meta", true).rows([]);
  const meta = new Map(rows.map((row) => [row[0] as string, row[1] as string]));
  const version = meta.get("schema_version");
  if (version === undefined) return undefined;
  return { version: Number(version), codec: meta.get("codec") };
}

/** Options of {@linkcode prepareSchema}. */
export interface PrepareSchemaOptions {
  /** Where the database lives, for error messages. */
  readonly source: string;
  /** The codec the caller asked for; `undefined` takes the recorded one (CBOR for a new file). */
  readonly codec: "cbor" | "json" | Codec | undefined;
  /** The steps to apply (tests add a future one). */
  readonly migrations?: readonly Migration[];
}

/**
 * Creates the tables of a new database, migrates an older one and checks the codec.
 * Reads first without a lock, so opening an up-to-date file never waits for writers;
 * creation and migration run in one `BEGIN IMMEDIATE` transaction, rechecked inside it,
 * so two processes opening a new file at once create it once.
 *
 * @param connection the write connection
 * @param options source, requested codec and migrations
 * @returns the codec to use: the requested one, or the one recorded in the file
 * @throws {StoreOpenError} for a newer schema version, a codec other than the recorded one, or a custom codec that was not given
 */
export function prepareSchema(connection: _Connection, options: PrepareSchemaOptions): Codec {
  const migrations = options.migrations ?? MIGRATIONS;
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  let recorded = readMeta(connection);
  if (recorded === undefined || recorded.version < latest) {
    connection.exec("BEGIN IMMEDIATE");
    try {
      recorded = readMeta(connection);
      const from = recorded?.version ?? 0;
      if (from < latest) {
        const codec = recorded?.codec ?? resolveCodec(options.codec).name;
        connection.exec(META);
        for (const migration of migrations) {
          if (migration.version > from) connection.exec(migration.sql);
        }
        const put = connection.statement(
          "INSERT INTO eventfold_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        );
        put.run(["schema_version", String(latest)]);
        put.run(["codec", codec]);
        recorded = { version: latest, codec };
      }
      connection.exec("COMMIT");
    } catch (error) {
      connection.exec("ROLLBACK");
      throw error;
    }
  }
  if (recorded === undefined) throw new StoreOpenError(options.source, "no schema migrations were given");
  if (recorded.version > latest) {
    throw new StoreOpenError(
      options.source,
      `its schema version ${recorded.version} is newer than this version of Eventfold understands ` +
        `(${latest}); upgrade Eventfold to open it`,
    );
  }
  return chooseCodec(options, recorded.codec ?? "cbor");
}

function chooseCodec(options: PrepareSchemaOptions, recorded: string): Codec {
  const { codec: requested, source } = options;
  if (requested === undefined) {
    if (recorded === "cbor" || recorded === "json") return resolveCodec(recorded);
    throw new StoreOpenError(
      source,
      `its payloads are encoded with the custom codec "${recorded}"; pass that codec as the codec option`,
    );
  }
  const codec = resolveCodec(requested);
  if (codec.name !== recorded) {
    throw new StoreOpenError(
      source,
      `its payloads are encoded with the "${recorded}" codec, not "${codec.name}"; ` +
        `open it with codec "${recorded}" or leave the codec option out`,
    );
  }
  return codec;
}
