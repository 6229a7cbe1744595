/**
 * Correlation and causation: every record a workflow or a command caused carries, in its
 * `meta`, `$correlation` (the id of the flow it belongs to: inherited from its cause, or
 * the cause's own id when the cause starts a flow) and `$causation` (the id of the record
 * that caused it). `eventfold events --correlation ID` lists a whole flow in log order.
 *
 * @module
 */

/** What caused an append: a record (its `id`, and its `meta` to inherit the correlation from). */
export interface Cause {
  /** The causing record's id. */
  readonly id: string;
  /** The causing record's meta: its `$correlation`, when it has one, is inherited. */
  readonly meta?: unknown;
}

/** The two keys an effect's `meta` carries. */
export interface CausationMeta {
  /** The flow: the first cause's id, inherited along the flow. */
  readonly $correlation: string;
  /** The record that caused this one. */
  readonly $causation: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * The correlation a record carries, if any.
 *
 * @param meta the record's meta
 * @returns its `$correlation`, or `undefined`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { correlationOf } from "@eventfold/eventfold";
 * assert.equal(correlationOf({ $correlation: "c-1", by: "ada" }), "c-1");
 * assert.equal(correlationOf(null), undefined);
 * ```
 */
export function correlationOf(meta: unknown): string | undefined {
  return isPlainObject(meta) && typeof meta.$correlation === "string" ? meta.$correlation : undefined;
}

/**
 * The record that caused a record, if any.
 *
 * @param meta the record's meta
 * @returns its `$causation`, or `undefined`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { causationOf } from "@eventfold/eventfold";
 * assert.equal(causationOf({ $correlation: "c-1", $causation: "e-7" }), "e-7");
 * ```
 */
export function causationOf(meta: unknown): string | undefined {
  return isPlainObject(meta) && typeof meta.$causation === "string" ? meta.$causation : undefined;
}

/**
 * Checks a `causedBy` option.
 *
 * @param cause what was given
 * @returns it, checked
 * @throws {TypeError} for something without a string `id`
 */
export function checkCause(cause: unknown): Cause {
  if (!isPlainObject(cause) && (typeof cause !== "object" || cause === null)) {
    throw new TypeError(`causedBy must be a record (an object with an id), got ${JSON.stringify(cause)}`);
  }
  const id = (cause as { id?: unknown }).id;
  if (typeof id !== "string" || id === "") {
    throw new TypeError(`causedBy must be a record with a string id, got id ${JSON.stringify(id)}`);
  }
  return cause as Cause;
}

/**
 * The meta of an effect of `cause`: `meta` with `$correlation` and `$causation` added.
 *
 * @param meta the effect's own meta (`null`, or a plain object)
 * @param cause what caused it
 * @param what the effect, for the error
 * @returns the new meta
 * @throws {TypeError} when `meta` is neither `null` nor a plain object (it cannot carry the keys)
 */
export function causedMeta(meta: unknown, cause: Cause, what: string): unknown {
  const keys: CausationMeta = { $correlation: correlationOf(cause.meta) ?? cause.id, $causation: cause.id };
  if (meta === null || meta === undefined) return keys;
  if (!isPlainObject(meta)) {
    throw new TypeError(
      `${what} has a meta that is not an object, so it cannot carry $correlation and $causation`,
    );
  }
  return { ...meta, ...keys };
}
