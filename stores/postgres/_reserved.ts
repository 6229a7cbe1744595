/**
 * A reserved postgres.js connection that fails fast when it dies.
 *
 * postgres.js leaves a reserved connection to its holder: when the socket closes, the
 * statements already sent are rejected, but statements queued behind them never settle,
 * and a statement issued afterwards is handed to the dead connection (it never settles,
 * and a timer inside the driver throws `Cannot read properties of null (reading
 * 'write')`). Releasing a dead connection puts it back among the open ones, where it
 * swallows pool queries too. So this wrapper learns of the close (the driver's
 * per-connection `onclose` slot, reached through `onexecute` on the first statement, as
 * postgres.js's own `begin` does), rejects every statement still pending, refuses later
 * ones before they reach the driver, and never releases a dead connection (the driver
 * reuses it for new connections by itself).
 *
 * @module
 */

import type postgres from "postgres";
import type { Driver, Query } from "./_options.ts";
import { isConnectionFailure } from "./_connection_loss.ts";

/** The part of a postgres.js query object this module drives. */
interface DriverQuery extends Promise<unknown> {
  handler: ((query: DriverQuery) => unknown) & { debug?: unknown };
  reject(error: unknown): void;
}

/** The part of postgres.js's internal connection object this module uses. */
interface DriverConnection {
  onclose: ((error: unknown) => void) | null;
  terminate?: () => void;
}

function isDriverQuery(value: unknown): value is DriverQuery {
  return value instanceof Promise && typeof (value as Partial<DriverQuery>).handler === "function" &&
    typeof (value as Partial<DriverQuery>).reject === "function";
}

/**
 * Reserves connections of one pool, carefully after a loss. A reservation that postgres.js
 * cannot serve because the server is down fails, but stays queued inside the driver and
 * later takes a fresh connection out of the pool for good. So after a lost connection the
 * next reservation first checks the server with a plain pool query (which fails cleanly),
 * and reserves only once it answers.
 */
export class Reservations {
  readonly #sql: Driver;
  #suspect = false;
  /** Whether a connection of the pool was ever lost. */
  lossSeen = false;

  /**
   * Creates it.
   *
   * @param sql the pool
   */
  constructor(sql: Driver) {
    this.#sql = sql;
  }

  /** Notes a lost connection: the next reservation checks the server first. */
  suspect(): void {
    this.#suspect = true;
    this.lossSeen = true;
  }

  /**
   * Reserves a connection, watched for loss.
   *
   * @returns the connection
   * @throws the driver's error when the server cannot be reached
   */
  async reserve(): Promise<ReservedConnection> {
    try {
      if (this.#suspect) {
        await this.#sql`SELECT 1`;
        this.#suspect = false;
      }
      const connection = new ReservedConnection(await this.#sql.reserve());
      connection.onLost(() => this.suspect());
      return connection;
    } catch (error) {
      if (isConnectionFailure(error)) this.suspect();
      throw error;
    }
  }
}

/** One reserved connection, watched for loss. */
export class ReservedConnection {
  readonly #reserved: postgres.ReservedSql<Record<string, unknown>>;
  readonly #release: () => void;
  readonly #pending = new Set<DriverQuery>();
  readonly #commits = new WeakSet<object>();
  #connection: DriverConnection | undefined;
  #lost: unknown;
  #isLost = false;
  #released = false;
  #lostListeners: ((cause: unknown) => void)[] = [];
  /** Statements run here, gated: tagged templates, `unsafe` and `file` as on the driver's handle. */
  readonly sql: Query;
  /** True once a statement marked with {@linkcode ReservedConnection.commit} was handed to the driver. */
  commitSent = false;

  /**
   * Watches `reserved`.
   *
   * @param reserved a connection just reserved, before any statement ran on it
   */
  constructor(reserved: postgres.ReservedSql<Record<string, unknown>>) {
    this.#reserved = reserved;
    this.#release = reserved.release;
    const gate = <T>(value: T): T => {
      if (isDriverQuery(value)) this.#gate(value);
      return value;
    };
    this.sql = new Proxy(reserved as unknown as Query, {
      apply: (target, self, args) => gate(Reflect.apply(target as never, self, args)),
      get: (target, key, receiver) => {
        const value = Reflect.get(target, key, receiver);
        if ((key === "unsafe" || key === "file") && typeof value === "function") {
          return (...args: unknown[]) => gate(Reflect.apply(value, target, args));
        }
        return value;
      },
    });
  }

  /** Whether the connection died. */
  get lost(): boolean {
    return this.#isLost;
  }

  /** The driver's error that ended it, once it died. */
  get cause(): unknown {
    return this.#lost;
  }

  /**
   * Calls `listener` once when the connection dies (at once when it is dead already).
   *
   * @param listener told the driver's error
   */
  onLost(listener: (cause: unknown) => void): void {
    if (this.#isLost) listener(this.#lost);
    else this.#lostListeners.push(listener);
  }

  /**
   * A simple statement that also hooks the connection's close: send it first.
   *
   * @param text the statement, without parameters
   * @returns the statement, executing
   */
  first(text: string): Promise<unknown> {
    const statement = this.sql.unsafe(text, [], {
      onexecute: (connection: DriverConnection) => {
        this.#hook(connection);
        return true;
      },
    } as never);
    return statement.execute() as unknown as Promise<unknown>;
  }

  /**
   * Marks `statement` as the commit: {@linkcode ReservedConnection.commitSent} turns true
   * when it reaches the driver.
   *
   * @param statement a query made with {@linkcode ReservedConnection.sql}
   * @returns the statement
   */
  commit<T extends object>(statement: T): T {
    this.#commits.add(statement);
    return statement;
  }

  /** Gives a live connection back to the pool; a dead one is left to the driver. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#connection !== undefined && this.#connection.onclose === this.#onclose) {
      this.#connection.onclose = null;
    }
    if (!this.#isLost) this.#release.call(this.#reserved);
  }

  readonly #onclose = (error: unknown): void => this.#die(error, false);

  #hook(connection: DriverConnection): void {
    if (this.#connection !== undefined) return;
    this.#connection = connection;
    connection.onclose = this.#onclose;
  }

  #gate(query: DriverQuery): void {
    const run = query.handler;
    const gated = (q: DriverQuery): unknown => {
      if (this.#isLost) return q.reject(this.#lost);
      if (this.#commits.has(q)) this.commitSent = true;
      this.#pending.add(q);
      Promise.prototype.then.call(q, () => this.#pending.delete(q), (error: unknown) => {
        this.#pending.delete(q);
        if (isConnectionFailure(error)) this.#die(error, true);
      });
      return run(q);
    };
    gated.debug = run.debug;
    query.handler = gated;
  }

  #die(cause: unknown, fromStatement: boolean): void {
    if (this.#isLost) return;
    this.#isLost = true;
    this.#lost = cause;
    for (const q of [...this.#pending]) q.reject(cause);
    this.#pending.clear();
    // A statement saw the failure before the driver closed the socket: close it now, so the
    // driver never sends on it again and hands it back through its closed connections.
    if (fromStatement && this.#connection !== undefined && !this.#released) {
      try {
        this.#connection.terminate?.();
      } catch {
        // Already gone.
      }
    }
    const listeners = this.#lostListeners;
    this.#lostListeners = [];
    for (const listener of listeners) {
      try {
        listener(cause);
      } catch {
        // One listener's failure must not keep the others from learning of the loss.
      }
    }
  }
}
