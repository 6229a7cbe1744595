/**
 * Validation of events against their definitions, before anything is written.
 *
 * @module
 */

import { EventValidationError, type ValidationIssue } from "../errors.ts";
import type { AnyEventFactory } from "./factory.ts";
import type { StandardSchemaV1 } from "./standard_schema.ts";

/** The validated payloads of one event (schema outputs, so transforms apply). */
export interface ValidPayloads {
  /** The validated payload, `null` when the event has none. */
  data: unknown;
  /** The validated metadata, `null` when the event has none. */
  meta: unknown;
}

function pathOf(prefix: string, issue: StandardSchemaV1.Issue): string {
  const keys = (issue.path ?? []).map((step) => String(typeof step === "object" ? step.key : step));
  return [prefix, ...keys].join(".");
}

function outcome(
  field: "data" | "meta",
  result: StandardSchemaV1.Result<unknown>,
): { value: unknown; issues: ValidationIssue[] } {
  if (result.issues === undefined) return { value: result.value, issues: [] };
  return {
    value: undefined,
    issues: result.issues.map((issue) => ({ path: pathOf(field, issue), message: issue.message })),
  };
}

function check(
  type: string,
  field: "data" | "meta",
  schema: StandardSchemaV1 | undefined,
  value: unknown,
): { value: unknown; issues: ValidationIssue[] } | Promise<{ value: unknown; issues: ValidationIssue[] }> {
  if (schema === undefined) {
    if (value === undefined || value === null) return { value: null, issues: [] };
    return { value: undefined, issues: [{ path: field, message: `"${type}" is defined without ${field}` }] };
  }
  const result = schema["~standard"].validate(value ?? undefined);
  return result instanceof Promise ? result.then((r) => outcome(field, r)) : outcome(field, result);
}

function settle(
  type: string,
  data: { value: unknown; issues: ValidationIssue[] },
  meta: { value: unknown; issues: ValidationIssue[] },
): ValidPayloads {
  const issues = [...data.issues, ...meta.issues];
  if (issues.length > 0) throw new EventValidationError(type, issues);
  return { data: data.value ?? null, meta: meta.value ?? null };
}

/**
 * Validates one event's payloads. Returns synchronously when the schemas do (most do),
 * and a promise when a schema is asynchronous.
 *
 * @param events the definitions
 * @param type the event type
 * @param data the payload as given
 * @param meta the metadata as given
 * @returns the schema outputs
 * @throws {UnknownEventError} when the type is not defined
 * @throws {EventValidationError} naming each invalid path
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, validateEvent } from "@eventfold/eventfold";
 * import { z } from "zod";
 * const events = new EventFactory([event.type("n").data(z.number())]);
 * assert((validateEvent(events, "n", 4, undefined) as { data: unknown }).data === 4);
 * ```
 */
export function validateEvent(
  events: AnyEventFactory,
  type: string,
  data: unknown,
  meta: unknown,
): ValidPayloads | Promise<ValidPayloads> {
  const { schemas } = events.get(type);
  const d = check(type, "data", schemas.data, data);
  const m = check(type, "meta", schemas.meta, meta);
  if (d instanceof Promise || m instanceof Promise) {
    return Promise.all([d, m]).then(([dd, mm]) => settle(type, dd, mm));
  }
  return settle(type, d, m);
}
