/**
 * Checks of what callers hand to the store, before anything is validated or written.
 * Bad arguments are `TypeError` / `RangeError`; unknown types are `UnknownEventError`.
 *
 * @module
 */

import type { ExpectedRevision } from "../errors.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import type { PendingEvent } from "../events/record.ts";

const STORE_FIELDS = ["revision", "position", "recorded", "outdated"] as const;

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

/**
 * Checks one event handed to `pushManyEvents` or `import` and returns it as a pending event.
 *
 * @param events the definitions
 * @param value what the caller passed
 * @param index its place in the call, for messages
 * @param imported whether the event comes from elsewhere (store fields are then ignored, and
 *   `id` and `created` are required)
 */
export function checkEvent(
  events: AnyEventFactory,
  value: unknown,
  index: number,
  imported: boolean,
): PendingEvent {
  const where = `event #${index}`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where} must be an event object, got ${describe(value)}`);
  }
  const e = value as Record<string, unknown>;
  if (typeof e.type !== "string" || e.type.length === 0) {
    throw new TypeError(`${where} needs a non-empty string "type", got ${describe(e.type)}`);
  }
  events.get(e.type); // throws UnknownEventError
  const label = `${where} ("${e.type}")`;
  if (typeof e.stream !== "string" || e.stream.length === 0) {
    throw new TypeError(`${label} needs a non-empty string "stream", got ${describe(e.stream)}`);
  }
  if (typeof e.id !== "string" || e.id.length === 0) {
    throw new TypeError(`${label} needs a non-empty string "id", got ${describe(e.id)}`);
  }
  if (typeof e.created !== "string" || e.created.length === 0) {
    throw new TypeError(`${label} needs a non-empty string "created", got ${describe(e.created)}`);
  }
  if (!imported) {
    for (const field of STORE_FIELDS) {
      if (e[field] !== undefined) {
        throw new TypeError(
          `${label} carries "${field}", which the store assigns; pass events from store.event() or use import() for stored records`,
        );
      }
    }
  }
  return {
    id: e.id,
    stream: e.stream,
    type: e.type,
    data: e.data ?? null,
    meta: e.meta ?? null,
    created: e.created,
  };
}

/**
 * Checks one expected revision.
 *
 * @param expected the value given
 * @param stream the stream it is for, for messages
 */
export function checkExpected(expected: unknown, stream: string): ExpectedRevision {
  if (expected === "any" || expected === "exists") return expected;
  if (typeof expected === "number") {
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw new RangeError(
        `Expected revision of stream "${stream}" must be a whole number >= 0, "any" or "exists", got ${expected}`,
      );
    }
    return expected;
  }
  throw new TypeError(
    `Expected revision of stream "${stream}" must be a whole number >= 0, "any" or "exists", got ${
      JSON.stringify(expected)
    }`,
  );
}

/**
 * Resolves the `expectedRevision` option into one expectation per stream of the call.
 *
 * @param option one value for every stream, or a record by stream
 * @param streams the streams of the call
 */
export function expectations(
  option: ExpectedRevision | Readonly<Record<string, ExpectedRevision>> | undefined,
  streams: Iterable<string>,
): Map<string, ExpectedRevision> {
  const out = new Map<string, ExpectedRevision>();
  if (option === undefined) return out;
  if (typeof option === "object" && option !== null) {
    for (const [stream, expected] of Object.entries(option)) out.set(stream, checkExpected(expected, stream));
    return out;
  }
  for (const stream of streams) out.set(stream, checkExpected(option, stream));
  return out;
}
