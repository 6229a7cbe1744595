/**
 * Checks a relay's options and fills in the defaults, before anything is published.
 *
 * @module
 */

import { leaseSettings } from "../projectors/_subscription_lease.ts";
import { checkServers, checkStreamName } from "./_jetstream.ts";
import type { BodyCodec } from "./_message.ts";
import type { RelayErrorContext, RelayOptions } from "./relay_options.ts";
import { type SubjectTemplate, subjectTemplate } from "./subject.ts";

/** A relay's options, checked. */
export interface RelaySettings {
  readonly servers: readonly string[];
  readonly stream: string;
  readonly subject: SubjectTemplate;
  readonly types: readonly string[] | undefined;
  readonly name: string;
  readonly codec: BodyCodec;
  readonly maxInFlight: number;
  readonly ackTimeout: number;
  readonly connectTimeout: number;
  readonly pollInterval: number;
  readonly backoff: number;
  readonly maxBackoff: number;
  readonly leaseInterval: number;
  readonly leaseTtl: number;
  readonly owner: string;
  readonly onError: ((error: unknown, context: RelayErrorContext) => void) | undefined;
  readonly connection: RelayOptions["connection"];
}

/**
 * A whole number option.
 *
 * @throws {RangeError} when it is not a whole number >= `min`
 */
export function whole(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks `types`: absent, or a non-empty array of non-empty strings.
 *
 * @throws {TypeError} otherwise
 */
export function checkTypes(types: unknown): readonly string[] | undefined {
  if (types === undefined) return undefined;
  if (
    !Array.isArray(types) || types.length === 0 ||
    types.some((type) => typeof type !== "string" || type.length === 0)
  ) {
    throw new TypeError(`types must be a non-empty array of event type names, got ${JSON.stringify(types)}`);
  }
  return [...types];
}

/**
 * Checks `options` and fills in the defaults.
 *
 * @throws {TypeError} for a missing or malformed option (a template naming an unknown field)
 * @throws {RangeError} for a number out of range
 */
export function relaySettings(options: RelayOptions): RelaySettings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("relay needs options: { servers, stream, subject }");
  }
  const subject = subjectTemplate(options.subject);
  const stream = checkStreamName(options.stream, "stream (the JetStream stream)");
  const name = options.name ?? stream;
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(`name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  const codec = options.codec ?? "cbor";
  if (codec !== "cbor" && codec !== "json") {
    throw new TypeError(`codec must be "cbor" or "json", got ${JSON.stringify(codec)}`);
  }
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError(`onError must be a function, got ${typeof options.onError}`);
  }
  const { owner, leaseInterval, leaseTtl } = leaseSettings(options, "relay");
  const backoff = whole("backoff", options.backoff, 100, 1);
  return {
    servers: checkServers(options.servers),
    stream,
    subject,
    types: checkTypes(options.types),
    name,
    codec,
    maxInFlight: whole("maxInFlight", options.maxInFlight, 512, 1),
    ackTimeout: whole("ackTimeout", options.ackTimeout, 5000, 1),
    connectTimeout: whole("connectTimeout", options.connectTimeout, 5000, 1),
    pollInterval: whole("pollInterval", options.pollInterval, 1000, 1),
    backoff,
    maxBackoff: whole("maxBackoff", options.maxBackoff, Math.max(30_000, backoff), backoff),
    leaseInterval,
    leaseTtl,
    owner,
    onError: options.onError,
    connection: options.connection,
  };
}
