/**
 * The error tree of Eventfold: one base class, {@linkcode EventStoreError}, and a named
 * subclass for each way a store call can fail. Every error carries a `name` and, where a
 * lower layer failed, a `cause`. The `is…` guards check a brand that survives duplicated
 * copies of the package, where `instanceof` would not.
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for("eventfold.error") as never;

/**
 * Base class of every error Eventfold throws on purpose.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventStoreError, isEventStoreError } from "@eventfold/eventfold";
 * const error = new EventStoreError("boom");
 * assert(isEventStoreError(error));
 * ```
 */
export class EventStoreError extends Error {
  /** Brand read by the guards, so they work across copies of the package. */
  readonly [BRAND]: string;

  /**
   * Creates it.
   *
   * @param message what went wrong and what was expected
   * @param options the lower-level `cause`, when there is one
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this[BRAND] = new.target.name;
  }
}

/** One problem a schema found in an event's `data` or `meta`. */
export interface ValidationIssue {
  /** Where the problem is, for example `data.email`. */
  readonly path: string;
  /** What the schema said. */
  readonly message: string;
}

/**
 * An event's `data` or `meta` failed its schema. Nothing of the call that carried it was
 * written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventValidationError } from "@eventfold/eventfold";
 * const error = new EventValidationError("user:created", [{ path: "data.email", message: "Invalid email" }]);
 * assert(error.message.includes("data.email"));
 * ```
 */
export class EventValidationError extends EventStoreError {
  /** The event type whose payload was invalid. */
  readonly type: string;
  /** Every problem the schema reported. */
  readonly issues: readonly ValidationIssue[];
  /** Where the record was stored, when a stored record failed on read (`validateOnRead`). */
  readonly position?: string;
  /** The version the record was stored at, when a stored record failed on read. */
  readonly storedVersion?: number;
  /** The version it was upcast to (the definition's current one), when read. */
  readonly version?: number;

  /**
   * Creates it.
   *
   * @param type the event type
   * @param issues the problems found, each with its path
   * @param read for a stored record that failed on read: its position and versions
   */
  constructor(type: string, issues: readonly ValidationIssue[], read?: StoredRecordAt) {
    const listed = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
    const upcast = read === undefined || read.storedVersion === read.version
      ? ""
      : ` (stored at version ${read.storedVersion}, upcast to version ${read.version})`;
    const at = read === undefined ? "" : ` at position ${read.position}${upcast}`;
    super(`Invalid event "${type}"${at}: ${listed}`);
    this.type = type;
    this.issues = issues;
    if (read !== undefined) {
      this.position = read.position;
      this.storedVersion = read.storedVersion;
      this.version = read.version;
    }
  }
}

/** Where a stored record that failed validation on read is, and at which versions. */
export interface StoredRecordAt {
  /** Its global position. */
  readonly position: string;
  /** The version it was stored at. */
  readonly storedVersion: number;
  /** The version it was read at. */
  readonly version: number;
}

/**
 * An event's type is not among the definitions the store was given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnknownEventError } from "@eventfold/eventfold";
 * assert(new UnknownEventError("user:deleted", ["user:created"]).type === "user:deleted");
 * ```
 */
export class UnknownEventError extends EventStoreError {
  /** The type that has no definition. */
  readonly type: string;
  /** Where a stored record of that type was read, when one was. */
  readonly position?: string;

  /**
   * Creates it.
   *
   * @param type the unknown type
   * @param known the types the store does know, listed in the message
   * @param position the position of the stored record of that type, when one was read
   */
  constructor(type: string, known: readonly string[] = [], position?: string) {
    const hint = known.length > 0 ? ` (known types: ${known.join(", ")})` : "";
    const at = position === undefined
      ? ""
      : ` at position ${position} (read it with unknownEvents: "skip" or "pass", or add its definition)`;
    super(`Unknown event type "${type}"${at}${hint}`);
    this.type = type;
    if (position !== undefined) this.position = position;
  }
}

/**
 * A stream did not hold the revision the writer expected. Nothing of the call was written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConcurrencyError, isConcurrencyError } from "@eventfold/eventfold";
 * const error = new ConcurrencyError("u1", 3, 4);
 * assert(isConcurrencyError(error) && error.actual === 4);
 * ```
 */
export class ConcurrencyError extends EventStoreError {
  /** The stream whose revision did not match. */
  readonly stream: string;
  /** The revision the writer expected. */
  readonly expected: number | "any" | "exists";
  /** The revision the stream had (`NaN` when it kept moving under every attempt). */
  readonly actual: number;

  /**
   * Creates it.
   *
   * @param stream the stream
   * @param expected what the writer expected
   * @param actual what the stream held
   * @param options extra detail, such as how many attempts were made
   */
  constructor(
    stream: string,
    expected: number | "any" | "exists",
    actual: number,
    options?: ErrorOptions & { attempts?: number },
  ) {
    const wanted = expected === "exists"
      ? "an existing stream"
      : expected === "any"
      ? "to append"
      : expected === 0
      ? "no stream yet"
      : `revision ${expected}`;
    // NaN: the revision moved under every attempt, so no single value describes it.
    const found = Number.isNaN(actual)
      ? "other writers appending at the same time"
      : actual === 0
      ? "no events"
      : `revision ${actual}`;
    const tries = options?.attempts ? ` after ${options.attempts} attempts` : "";
    super(`Stream "${stream}": expected ${wanted}, found ${found}${tries}`, options);
    this.stream = stream;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The storage failed to write events (a driver or constraint error). Nothing of the call
 * was written; `cause` holds the driver's error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventInsertionError } from "@eventfold/eventfold";
 * const error = new EventInsertionError("disk full", { cause: new Error("SQLITE_FULL") });
 * assert(error.cause instanceof Error);
 * ```
 */
export class EventInsertionError extends EventStoreError {}

/**
 * An append (or a delete) reached a stream that was deleted with a tombstone
 * (`store.deleteStream(stream, { tombstone: true })`). Nothing of the call was stored,
 * whatever other streams it also wrote to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStreamDeletedError, StreamDeletedError } from "@eventfold/eventfold";
 * const error = new StreamDeletedError("user-7");
 * assert(isStreamDeletedError(error) && error.stream === "user-7");
 * ```
 */
export class StreamDeletedError extends EventStoreError {
  /** The tombstoned stream. */
  readonly stream: string;

  /**
   * Creates it.
   *
   * @param stream the tombstoned stream
   * @param options the adapter's signal as `cause`
   */
  constructor(stream: string, options?: ErrorOptions) {
    super(
      `Stream "${stream}" was deleted with a tombstone and takes no more events; nothing of this call was stored`,
      options,
    );
    this.stream = stream;
  }
}

/**
 * A fold needed events that truncation removed: it starts at a revision below the
 * stream's `truncatedBefore` and no snapshot at or past `truncatedBefore - 1` exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TruncatedStreamError } from "@eventfold/eventfold";
 * assert(new TruncatedStreamError("s", "balance", 100).message.includes("balance"));
 * ```
 */
export class TruncatedStreamError extends EventStoreError {
  /** The stream. */
  readonly stream: string;
  /** The reducer's (or aggregate's) snapshot name. */
  readonly snapshot: string;
  /** The first revision the stream still shows. */
  readonly truncatedBefore: number;
  /** True when the stream's retention rules (`maxAge`, `maxCount`) hide the older events, not a truncation. */
  readonly retained: boolean;

  /**
   * Creates it.
   *
   * @param stream the stream
   * @param snapshot the snapshot name the fold looked for
   * @param truncatedBefore the first revision still shown
   * @param retained whether the stream's retention rules hide the events before it
   */
  constructor(stream: string, snapshot: string, truncatedBefore: number, retained = false) {
    super(
      (retained
        ? `Stream "${stream}" shows only revisions from ${truncatedBefore} on (its retention rules hide the older ones)`
        : `Stream "${stream}" was truncated before revision ${truncatedBefore}`) +
        `, and no snapshot "${snapshot}" at revision ${truncatedBefore - 1} or later exists to fold from ` +
        `(save one before ${retained ? "the events expire" : "truncating"})`,
    );
    this.stream = stream;
    this.snapshot = snapshot;
    this.truncatedBefore = truncatedBefore;
    this.retained = retained;
  }
}

/**
 * The connection to the database was lost (killed by an administrator or an idle-session
 * killer, a server restart, a failover, a network cut) while a call was using it. The call
 * settled instead of hanging; later calls reconnect. `mayHaveCommitted` says whether a
 * write may have been applied: it is `true` only when the commit was sent and its reply
 * never came. Appending again with the same event ids is safe either way (an id that
 * exists is skipped). `cause` holds the driver's error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionLostError, isConnectionLostError } from "@eventfold/eventfold";
 * const error = new ConnectionLostError("append", { mayHaveCommitted: true, cause: new Error("ECONNRESET") });
 * assert(isConnectionLostError(error) && error.message.includes("may have committed"));
 * ```
 */
export class ConnectionLostError extends EventStoreError {
  /** What was running when the connection was lost, for example `"append"` or `"readLog"`. */
  readonly operation: string;
  /** True when a commit was sent but its reply never came: the write may have been applied. */
  readonly mayHaveCommitted: boolean;

  /**
   * Creates it.
   *
   * @param operation what was running
   * @param options the driver's error as `cause`; `mayHaveCommitted` when a commit was in
   *   flight; `store` names the store (never with a password)
   */
  constructor(
    operation: string,
    options?: ErrorOptions & { mayHaveCommitted?: boolean; store?: string },
  ) {
    const where = options?.store ? ` to ${options.store}` : "";
    const committed = options?.mayHaveCommitted === true;
    const outcome = committed
      ? "the connection was lost after COMMIT was sent: the append may have committed; " +
        "retrying with the same event ids is safe"
      : operation === "append" || operation === "transaction"
      ? "the connection was lost before COMMIT was sent: nothing was written; retrying is safe"
      : "the connection was lost; the call can be retried once the server is back";
    super(`Connection${where} lost during ${operation}: ${outcome}`, options);
    this.operation = operation;
    this.mayHaveCommitted = committed;
  }
}

/**
 * A stored payload could not be decoded. Names the position so the event can be found;
 * other events stay readable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecodeError } from "@eventfold/eventfold";
 * assert(new DecodeError("0000000000000007", "data").position === "0000000000000007");
 * ```
 */
export class DecodeError extends EventStoreError {
  /** Global position of the event that failed to decode. */
  readonly position: string;
  /** Which payload failed: `data`, `meta` or a snapshot/state blob. */
  readonly field: string;

  /**
   * Creates it.
   *
   * @param position global position of the event
   * @param field the payload that failed
   * @param options the codec's error as `cause`, and where the store lives (`location`;
   *   `source` is its deprecated spelling)
   */
  constructor(
    position: string,
    field: string,
    options?: ErrorOptions & { location?: string; source?: string },
  ) {
    const location = options?.location ?? options?.source;
    const where = location ? ` in ${location}` : "";
    super(`Cannot decode ${field} of the event at position ${position}${where}`, options);
    this.position = position;
    this.field = field;
  }
}

/**
 * The store was closed; no further calls are possible.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreClosedError } from "@eventfold/eventfold";
 * assert(new StoreClosedError().name === "StoreClosedError");
 * ```
 */
export class StoreClosedError extends EventStoreError {
  /**
   * Creates it.
   *
   * @param what what was closed
   */
  constructor(what = "event store") {
    super(`The ${what} is closed`);
  }
}

/**
 * A store could not be opened: a missing directory, a file that is not a database, a
 * schema newer than this version understands, a refused connection or a wrong password.
 * The message names the store (never a password).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreOpenError } from "@eventfold/eventfold";
 * assert(new StoreOpenError("sqlite:./x.db", "not a database").message.includes("./x.db"));
 * ```
 */
export class StoreOpenError extends EventStoreError {
  /** The store, as a path or URL with any password removed. */
  readonly store: string;

  /**
   * Creates it.
   *
   * @param store the path or URL (without password)
   * @param reason why it could not be opened
   * @param options the driver's error as `cause`
   */
  constructor(store: string, reason: string, options?: ErrorOptions) {
    super(`Cannot open ${store}: ${reason}`, options);
    this.store = store;
  }
}

/**
 * A wait (for example for a subscription to reach a position) ran out of time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimeoutError } from "@eventfold/eventfold";
 * assert(new TimeoutError("waiting", 100).ms === 100);
 * ```
 */
export class TimeoutError extends EventStoreError {
  /** How long the wait lasted, in milliseconds. */
  readonly ms: number;

  /**
   * Creates it.
   *
   * @param what what was waited for
   * @param ms how long, in milliseconds
   */
  constructor(what: string, ms: number) {
    super(`Timed out after ${ms} ms ${what}`);
    this.ms = ms;
  }
}

/**
 * A subscription stopped, or failed on an event it could not handle, while a caller was
 * waiting on it (`waitFor`, `rebuild`, `replayParked`). When it failed, `cause` is the
 * handler's error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubscriptionStoppedError } from "@eventfold/eventfold";
 * const error = new SubscriptionStoppedError("read-model", "failed", { cause: new Error("boom") });
 * assert(error.subscription === "read-model" && error.message.includes("failed"));
 * ```
 */
export class SubscriptionStoppedError extends EventStoreError {
  /** The subscription name. */
  readonly subscription: string;
  /** `"stopped"` (by `stop()` or the store closing) or `"failed"` (a handler failed for good). */
  readonly state: "stopped" | "failed";

  /**
   * Creates it.
   *
   * @param subscription the subscription name
   * @param state how it ended
   * @param options the handler's error as `cause`, when it failed
   */
  constructor(subscription: string, state: "stopped" | "failed", options?: ErrorOptions) {
    const why = state === "failed"
      ? `failed: ${(options?.cause as Error)?.message ?? String(options?.cause)}`
      : "was stopped";
    super(`Subscription "${subscription}" ${why}; start it again to go on`, options);
    this.subscription = subscription;
    this.state = state;
  }
}

/**
 * A subscription name has checkpoints for another number of partitions than asked (or
 * for none, or some): its read model was built with that cut of the log. Rebuilding it
 * (`rebuild()`) is the way to change the number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartitionsChangedError } from "@eventfold/eventfold";
 * const error = new PartitionsChangedError("orders", 8, [4]);
 * assert(error.message.includes("checkpoints for 4 partitions, not 8"));
 * ```
 */
export class PartitionsChangedError extends EventStoreError {
  /** The subscription name. */
  readonly subscription: string;
  /** The number of partitions asked for (1: not partitioned). */
  readonly asked: number;
  /** The numbers its checkpoints were saved with (1: not partitioned). */
  readonly found: readonly number[];

  /**
   * Creates it.
   *
   * @param subscription the subscription name
   * @param asked the number of partitions asked for (1: not partitioned)
   * @param found the numbers its checkpoints were saved with (1: not partitioned)
   */
  constructor(subscription: string, asked: number, found: readonly number[]) {
    const count = (n: number) => n === 1 ? "no partitions" : `${n} partitions`;
    super(
      `Subscription "${subscription}" has checkpoints for ${found.map(count).join(" and ")}, not ${
        asked === 1 ? "unpartitioned" : asked
      }: call rebuild() to rebuild it with ${count(asked)} (its read model starts over)`,
    );
    this.subscription = subscription;
    this.asked = asked;
    this.found = found;
  }
}

function branded(error: unknown, name?: string): boolean {
  if (typeof error !== "object" || error === null) return false;
  const brand = (error as { [BRAND]?: unknown })[BRAND];
  return typeof brand === "string" && (name === undefined || brand === name);
}

/**
 * Whether `error` is any Eventfold error, even from another copy of the package.
 *
 * @param error anything caught
 * @returns true for an {@linkcode EventStoreError}
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isEventStoreError } from "@eventfold/eventfold";
 * assert(!isEventStoreError(new Error("x")));
 * ```
 */
export function isEventStoreError(error: unknown): error is EventStoreError {
  return branded(error);
}

/**
 * Whether `error` is a {@linkcode ConcurrencyError}, even from another copy of the package.
 *
 * @param error anything caught
 * @returns true for a concurrency conflict
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConcurrencyError, isConcurrencyError } from "@eventfold/eventfold";
 * assert(isConcurrencyError(new ConcurrencyError("s", 0, 1)));
 * ```
 */
export function isConcurrencyError(error: unknown): error is ConcurrencyError {
  return branded(error, "ConcurrencyError");
}

/**
 * Whether `error` is an {@linkcode EventValidationError}, even from another copy of the package.
 *
 * @param error anything caught
 * @returns true for a schema failure
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventValidationError, isEventValidationError } from "@eventfold/eventfold";
 * assert(isEventValidationError(new EventValidationError("t", [])));
 * ```
 */
export function isEventValidationError(error: unknown): error is EventValidationError {
  return branded(error, "EventValidationError");
}

/**
 * Whether `error` is a {@linkcode DecodeError}, even from another copy of the package.
 *
 * @param error anything caught
 * @returns true for an undecodable payload
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecodeError, isDecodeError } from "@eventfold/eventfold";
 * assert(isDecodeError(new DecodeError("1", "data")));
 * ```
 */
export function isDecodeError(error: unknown): error is DecodeError {
  return branded(error, "DecodeError");
}

/**
 * Whether `error` is a {@linkcode ConnectionLostError}, even from another copy of the package.
 *
 * @param error anything caught
 * @returns true when the call failed because its database connection was lost
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionLostError, isConnectionLostError } from "@eventfold/eventfold";
 * assert(isConnectionLostError(new ConnectionLostError("readLog")));
 * ```
 */
export function isConnectionLostError(error: unknown): error is ConnectionLostError {
  return branded(error, "ConnectionLostError");
}

/**
 * Whether `error` is a {@linkcode StoreClosedError}, even from another copy of the package.
 *
 * @param error anything caught
 * @returns true when the call failed because the store or adapter was closed
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStoreClosedError, StoreClosedError } from "@eventfold/eventfold";
 * assert(isStoreClosedError(new StoreClosedError()));
 * ```
 */
export function isStoreClosedError(error: unknown): error is StoreClosedError {
  return branded(error, "StoreClosedError");
}

/**
 * Whether `error` is a {@linkcode StreamDeletedError}, even from another copy of the package.
 *
 * @param error anything caught
 * @returns true when the call reached a tombstoned stream
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStreamDeletedError } from "@eventfold/eventfold";
 * assert(!isStreamDeletedError(new Error("x")));
 * ```
 */
export function isStreamDeletedError(error: unknown): error is StreamDeletedError {
  return branded(error, "StreamDeletedError");
}
