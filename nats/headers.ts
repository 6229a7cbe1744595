/**
 * The headers the relay puts on each JetStream message, for consumers that are not
 * Eventfold (any NATS client reads them) and for filtering and inspecting without
 * decoding the body. The body holds the whole record, encoded with the relay's codec.
 *
 * @module
 */

/**
 * Header names of a relayed message. Values are text; a value holding `%`, a control
 * character or anything outside printable ASCII is percent-encoded (`encodeURIComponent`),
 * so `decodeURIComponent` always gives it back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RELAY_HEADERS } from "@eventfold/eventfold/nats";
 * assert.equal(RELAY_HEADERS.id, "Nats-Msg-Id");
 * ```
 */
export const RELAY_HEADERS: {
  /** The event id: JetStream drops a message whose id it saw within its duplicate window. */
  readonly id: "Nats-Msg-Id";
  /** The event's stream. */
  readonly stream: "Eventfold-Stream";
  /** The event type. */
  readonly type: "Eventfold-Type";
  /** The revision in its stream (1-based). */
  readonly revision: "Eventfold-Revision";
  /** The position in the store's log. */
  readonly position: "Eventfold-Position";
  /** When the producer made it (ISO-8601). */
  readonly created: "Eventfold-Created";
  /** When the store inserted it (ISO-8601). */
  readonly recorded: "Eventfold-Recorded";
  /** `"true"` for an event imported behind a newer one of its type (`outdated`). */
  readonly outdated: "Eventfold-Outdated";
  /** `"true"` for an event that is hydrated wherever it goes (it was imported). */
  readonly hydrated: "Eventfold-Hydrated";
  /** The version of its definition the payload is at. */
  readonly version: "Eventfold-Version";
  /** The relay's name: the relay reads it back to find where it left off. */
  readonly relay: "Eventfold-Relay";
  /** The body's codec: `"cbor"` or `"json"`. */
  readonly codec: "Eventfold-Codec";
  /** `application/cbor` or `application/json`. */
  readonly contentType: "Content-Type";
} = {
  id: "Nats-Msg-Id",
  stream: "Eventfold-Stream",
  type: "Eventfold-Type",
  revision: "Eventfold-Revision",
  position: "Eventfold-Position",
  created: "Eventfold-Created",
  recorded: "Eventfold-Recorded",
  outdated: "Eventfold-Outdated",
  hydrated: "Eventfold-Hydrated",
  version: "Eventfold-Version",
  relay: "Eventfold-Relay",
  codec: "Eventfold-Codec",
  contentType: "Content-Type",
};

/**
 * A header value as the relay writes it: unchanged when it is printable ASCII without
 * `%`, else percent-encoded.
 *
 * @param value the text
 * @returns the header value
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headerValue } from "@eventfold/eventfold/nats";
 * assert.equal(headerValue("user-7"), "user-7");
 * assert.equal(decodeURIComponent(headerValue("line\nbreak")), "line\nbreak");
 * ```
 */
export function headerValue(value: string): string {
  return /^[\x20-\x24\x26-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}
