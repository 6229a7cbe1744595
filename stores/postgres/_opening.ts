/**
 * Opening a PostgreSQL store: creating or migrating its schema on first use, and telling
 * a server that is away (retryable, like any lost connection) from one that refuses the
 * store (a missing database, an unknown user, a wrong password: `StoreOpenError`).
 *
 * @module
 */

import { StoreOpenError } from "../../errors.ts";
import type { Codec } from "../codec.ts";
import { type Driver, scrub } from "./_options.ts";
import { Payloads } from "./_rows.ts";
import { ensureSchema } from "./_schema.ts";
import type { Context } from "./_transaction.ts";

interface PgError {
  code?: string;
  message?: string;
}

/** Why the server could not be used, in words (the driver's message when nothing better). */
function openFailure(error: unknown): string {
  const pg = error as PgError;
  switch (pg?.code) {
    case "ECONNREFUSED":
      return "the connection was refused (is PostgreSQL running and listening there?)";
    case "CONNECT_TIMEOUT":
      return "the connection timed out";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name could not be resolved";
    default:
      return pg?.message ?? String(error);
  }
}

/** What opening needs to know of the adapter. */
export interface Opening {
  /** The pool. */
  readonly sql: Driver;
  /** The schema name. */
  readonly schema: string;
  /** The codec asked for, if any. */
  readonly codec: Codec | undefined;
  /** The store's name for messages (no password). */
  readonly location: string;
  /** What must not appear in a message. */
  readonly secrets: readonly string[];
  /** The error to throw for a failure: a lost connection is mapped, anything else returned as it is. */
  readonly lost: (error: unknown, operation: string) => unknown;
}

/**
 * Creates or migrates the schema and reads its codec.
 *
 * @param opening the adapter's pool, schema and names
 * @returns the context of its transactions
 * @throws {ConnectionLostError} when the server cannot be reached
 * @throws {StoreOpenError} when the server refuses the store, or the schema is newer than this version
 */
export async function openContext(opening: Opening): Promise<Context> {
  const { sql, schema, location } = opening;
  try {
    const { codec, payload } = await ensureSchema(sql, schema, opening.codec, location);
    return { schema, payloads: new Payloads(codec, payload, location) };
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    // A server that is away (refused, timed out, restarting) is retryable like any lost
    // connection; a missing database, an unknown user or a wrong password is not.
    const lost = opening.lost(error, "open");
    if (lost !== error) throw lost;
    throw new StoreOpenError(location, scrub(openFailure(error), opening.secrets), { cause: error });
  }
}
