/**
 * Creating and migrating the store's tables. Runs on first use, in one transaction under
 * an advisory lock keyed by the schema name, so many processes starting together leave
 * one consistent schema. The codec is recorded in the schema when it is created; readers
 * take it from there.
 *
 * @module
 */

import { StoreOpenError } from "../../errors.ts";
import { cborCodec, type Codec, jsonCodec } from "../codec.ts";
import type { Driver, Query } from "./_options.ts";

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = 7;

/** How payloads are kept: CBOR (or another binary codec) in `bytea`, JSON in `jsonb`. */
export type PayloadColumn = "bytea" | "jsonb";

/** What the adapter learns from the schema. */
export interface SchemaInfo {
  /** The codec the schema was created with. */
  readonly codec: Codec;
  /** The column type of `data`, `meta` and saved states. */
  readonly payload: PayloadColumn;
}

// First key of the two-key advisory lock ("EVFD"), so our lock cannot collide with an
// application's single-key locks; the second key is a hash of the schema name.
const LOCK_CLASS = 0x45564644;

type Tx = Query;

interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (tx: Tx, schema: string, payload: PayloadColumn) => Promise<void>;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "events, streams, relations, snapshots, checkpoints",
    async up(tx, schema, payload) {
      const s = tx(schema);
      const blob = payload === "jsonb" ? tx`jsonb` : tx`bytea`;
      // "C" collation: string order is byte order, as the store's contract compares
      // `created` and names, and it is the fastest to index.
      await tx`
        CREATE TABLE ${s}.events (
          seq bigserial NOT NULL,
          transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
          id text COLLATE "C" NOT NULL PRIMARY KEY,
          stream text COLLATE "C" NOT NULL,
          type text COLLATE "C" NOT NULL,
          revision integer NOT NULL CHECK (revision > 0),
          created text COLLATE "C" NOT NULL,
          recorded timestamptz NOT NULL DEFAULT now(),
          outdated boolean NOT NULL DEFAULT false,
          data ${blob},
          meta ${blob},
          CONSTRAINT events_stream_revision UNIQUE (stream, revision)
        )`;
      await tx`CREATE UNIQUE INDEX events_log ON ${s}.events (transaction_id, seq)`;
      // One row per stream, written with its first event (stats count streams here).
      await tx`CREATE TABLE ${s}.streams (stream text COLLATE "C" NOT NULL PRIMARY KEY)`;
      await tx`
        CREATE TABLE ${s}.relations (
          key text COLLATE "C" NOT NULL,
          stream text COLLATE "C" NOT NULL,
          PRIMARY KEY (key, stream)
        )`;
      await tx`CREATE INDEX relations_stream ON ${s}.relations (stream)`;
      await tx`
        CREATE TABLE ${s}.snapshots (
          name text COLLATE "C" NOT NULL,
          stream text COLLATE "C" NOT NULL,
          state ${blob},
          revision integer,
          position text COLLATE "C",
          version integer NOT NULL,
          updated timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (name, stream)
        )`;
      await tx`
        CREATE TABLE ${s}.checkpoints (
          name text COLLATE "C" NOT NULL PRIMARY KEY,
          position text COLLATE "C",
          state ${blob},
          version integer,
          updated timestamptz NOT NULL DEFAULT now()
        )`;
    },
  },
  {
    version: 2,
    description: "parked events of subscriptions",
    async up(tx, schema) {
      // Leases need no table: they are session-level advisory locks.
      await tx`
        CREATE TABLE ${tx(schema)}.parked (
          name text COLLATE "C" NOT NULL,
          id text COLLATE "C" NOT NULL,
          position text COLLATE "C" NOT NULL,
          stream text COLLATE "C" NOT NULL,
          type text COLLATE "C" NOT NULL,
          hydrated boolean NOT NULL,
          error text NOT NULL,
          attempts integer NOT NULL,
          parked timestamptz NOT NULL,
          PRIMARY KEY (name, id)
        )`;
    },
  },
  {
    version: 3,
    description: "events brought in by import() are marked",
    async up(tx, schema) {
      await tx`ALTER TABLE ${tx(schema)}.events ADD COLUMN imported boolean NOT NULL DEFAULT false`;
    },
  },
  {
    version: 4,
    description: "the version of its definition each event was written at",
    async up(tx, schema) {
      // A constant default: PostgreSQL adds the column without rewriting the table.
      await tx`ALTER TABLE ${tx(schema)}.events ADD COLUMN version integer NOT NULL DEFAULT 1`;
    },
  },
  {
    version: 5,
    description: "what is known of a stream beyond its events: floor, deletion, tombstone, truncation",
    async up(tx, schema) {
      // The stream's row stays when its events are removed. `floor` is the highest revision
      // it had when events were last removed (appends do not keep it up to date: the current
      // revision is the greater of it and the highest stored one). Constant defaults:
      // PostgreSQL adds the columns without rewriting the table.
      await tx`
        ALTER TABLE ${tx(schema)}.streams
          ADD COLUMN floor integer NOT NULL DEFAULT 0,
          ADD COLUMN deleted_at integer NOT NULL DEFAULT 0,
          ADD COLUMN tombstoned boolean NOT NULL DEFAULT false,
          ADD COLUMN truncated_before integer NOT NULL DEFAULT 1`;
    },
  },
  {
    version: 6,
    description: "the data key of each subject, for crypto-shredding",
    async up(tx, schema) {
      await tx`
        CREATE TABLE ${tx(schema)}.keys (
          subject text COLLATE "C" PRIMARY KEY,
          key bytea NOT NULL
        )`;
    },
  },
  {
    version: 7,
    description: "the retention rules of a stream (its metadata)",
    async up(tx, schema) {
      // NULL where a rule is not set; the partial index lists the streams scavenge walks.
      await tx`
        ALTER TABLE ${tx(schema)}.streams
          ADD COLUMN max_age bigint,
          ADD COLUMN max_count integer`;
      await tx`
        CREATE INDEX streams_with_metadata ON ${tx(schema)}.streams (stream)
          WHERE max_age IS NOT NULL OR max_count IS NOT NULL`;
    },
  },
];

function chooseCodec(recorded: string | undefined, requested: Codec | undefined, store: string): Codec {
  if (recorded === undefined) return requested ?? cborCodec;
  if (requested !== undefined) {
    if (requested.name !== recorded) {
      throw new StoreOpenError(
        store,
        `its payloads are encoded with the "${recorded}" codec, not "${requested.name}" (omit the codec option to use the recorded one)`,
      );
    }
    return requested;
  }
  if (recorded === cborCodec.name) return cborCodec;
  if (recorded === jsonCodec.name) return jsonCodec;
  throw new StoreOpenError(
    store,
    `it was created with the custom codec "${recorded}": pass that codec as the codec option`,
  );
}

function checkVersion(version: number, store: string): void {
  if (version > SCHEMA_VERSION) {
    throw new StoreOpenError(
      store,
      `schema version ${version} is newer than this version of Eventfold understands (${SCHEMA_VERSION}); upgrade Eventfold`,
    );
  }
}

interface Recorded {
  version: number;
  codec?: string;
  payload?: PayloadColumn;
}

async function readRecorded(sql: Driver | Tx, schema: string): Promise<Recorded> {
  const s = sql(schema);
  const [row] = await sql<{ version: number | null; codec: string | null; payload: string | null }[]>`
    SELECT (SELECT max(version) FROM ${s}.migrations) AS version,
           (SELECT value FROM ${s}.settings WHERE name = 'codec') AS codec,
           (SELECT value FROM ${s}.settings WHERE name = 'payload') AS payload`;
  return {
    version: row.version ?? 0,
    codec: row.codec ?? undefined,
    payload: row.payload === "jsonb" || row.payload === "bytea" ? row.payload : undefined,
  };
}

/** Tables a new Eventfold schema creates: another tool's table of that name is in the way. */
const OWN_TABLES = ["events", "streams", "relations", "snapshots", "checkpoints", "parked", "keys"];

async function refuseForeignTables(tx: Tx, schema: string, store: string): Promise<void> {
  const rows = await tx<{ name: string }[]>`
    SELECT tablename AS name FROM pg_catalog.pg_tables
    WHERE schemaname = ${schema} AND tablename IN ${tx(OWN_TABLES)} ORDER BY tablename`;
  if (rows.length === 0) return;
  const names = rows.map((row) => `"${row.name}"`).join(", ");
  // @valkyr/event-store keeps "events", "relations" and "snapshots" in the schema it is given.
  const valkyr = rows.some((row) => row.name === "events")
    ? " (a @valkyr/event-store schema looks like this)"
    : "";
  throw new StoreOpenError(
    store,
    `schema "${schema}" already holds tables Eventfold did not create: ${names}${valkyr}. ` +
      `Give Eventfold a schema of its own (the default is "eventfold"); ` +
      `eventfold import --from-valkyr copies a valkyr store's events into it`,
  );
}

/**
 * Makes sure the schema exists at {@linkcode SCHEMA_VERSION} and reads its codec.
 *
 * @param sql the client
 * @param schema the schema name (checked)
 * @param requested the codec the user asked for, if any
 * @param store the store's name for messages
 * @returns the codec and payload column type
 * @throws {StoreOpenError} for a newer schema, a codec that differs from the recorded one, or a
 *   new schema that already holds tables of another tool by Eventfold's table names
 */
export async function ensureSchema(
  sql: Driver,
  schema: string,
  requested: Codec | undefined,
  store: string,
): Promise<SchemaInfo> {
  const [{ present }] = await sql<{ present: boolean }[]>`
    SELECT count(*) = 2 AS present FROM pg_catalog.pg_tables
    WHERE schemaname = ${schema} AND tablename IN ('migrations', 'settings')`;
  if (present) {
    // The common case takes no lock: a schema at the current version is only read.
    const recorded = await readRecorded(sql, schema);
    checkVersion(recorded.version, store);
    if (
      recorded.version === SCHEMA_VERSION && recorded.codec !== undefined && recorded.payload !== undefined
    ) {
      return { codec: chooseCodec(recorded.codec, requested, store), payload: recorded.payload };
    }
  }
  return await sql.begin(async (handle) => {
    const tx = handle as unknown as Query;
    await tx`SET LOCAL client_min_messages = warning`;
    await tx`SELECT pg_advisory_xact_lock(${LOCK_CLASS}::integer, hashtext(${schema}))`;
    const [{ exists }] = await tx<{ exists: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ${schema}) AS exists`;
    // Checked first because CREATE SCHEMA IF NOT EXISTS needs a privilege that a user
    // of an existing schema may not have.
    if (!exists) await tx`CREATE SCHEMA ${tx(schema)}`;
    const s = tx(schema);
    await tx`
      CREATE TABLE IF NOT EXISTS ${s}.migrations (
        version integer NOT NULL PRIMARY KEY,
        description text NOT NULL,
        applied timestamptz NOT NULL DEFAULT now()
      )`;
    await tx`
      CREATE TABLE IF NOT EXISTS ${s}.settings (
        name text COLLATE "C" NOT NULL PRIMARY KEY,
        value text NOT NULL
      )`;
    const recorded = await readRecorded(tx, schema);
    checkVersion(recorded.version, store);
    if (recorded.version === 0) await refuseForeignTables(tx, schema, store);
    const codec = chooseCodec(recorded.codec, requested, store);
    const payload: PayloadColumn = recorded.payload ?? (codec.name === jsonCodec.name ? "jsonb" : "bytea");
    if (recorded.codec === undefined) {
      await tx`
        INSERT INTO ${s}.settings (name, value) VALUES ('codec', ${codec.name}), ('payload', ${payload})
        ON CONFLICT (name) DO NOTHING`;
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= recorded.version) continue;
      await migration.up(tx, schema, payload);
      await tx`
        INSERT INTO ${s}.migrations (version, description)
        VALUES (${migration.version}, ${migration.description})`;
    }
    return { codec, payload };
  }) as SchemaInfo;
}
