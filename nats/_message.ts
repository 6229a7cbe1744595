/**
 * One relayed message: a record turned into headers and a body, and back.
 *
 * @module
 */

import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import type { EventRecord } from "../events/record.ts";
import { cborCodec, type Codec, jsonCodec } from "../stores/codec.ts";
import { headerValue, RELAY_HEADERS as H } from "./headers.ts";

/** The codecs a relay may write bodies with. */
export type BodyCodec = "cbor" | "json";

/** The codec object of a body codec name. */
export function bodyCodec(name: string): Codec | undefined {
  return name === "cbor" ? cborCodec : name === "json" ? jsonCodec : undefined;
}

/** The body: the whole record, so a consumer needs nothing else. */
function body(record: EventRecord): Record<string, unknown> {
  return {
    id: record.id,
    stream: record.stream,
    type: record.type,
    data: record.data,
    meta: record.meta,
    revision: record.revision,
    position: record.position,
    created: record.created,
    recorded: record.recorded,
    outdated: record.outdated,
    ...(record.imported === true ? { imported: true } : {}),
    ...(record.version === undefined ? {} : { version: record.version }),
  };
}

/** What is published for one record. */
export interface OutgoingMessage {
  readonly headers: MsgHdrs;
  readonly data: Uint8Array;
}

/**
 * The headers and body of `record`, published by relay `relay`.
 *
 * @throws what the codec throws for a value it cannot hold
 */
export function outgoing(record: EventRecord, relay: string, codec: BodyCodec): OutgoingMessage {
  const h = natsHeaders();
  h.set(H.stream, headerValue(record.stream));
  h.set(H.type, headerValue(record.type));
  h.set(H.revision, String(record.revision));
  h.set(H.position, headerValue(record.position));
  h.set(H.created, headerValue(record.created));
  h.set(H.recorded, headerValue(record.recorded));
  h.set(H.outdated, String(record.outdated === true));
  h.set(H.hydrated, String(record.imported === true));
  h.set(H.version, String(record.version ?? 1));
  h.set(H.relay, headerValue(relay));
  h.set(H.codec, codec);
  h.set(H.contentType, codec === "cbor" ? "application/cbor" : "application/json");
  return { headers: h, data: bodyCodec(codec)!.encode(body(record)) };
}

/** A header value as the relay wrote it, decoded (`undefined` when absent). */
export function readHeader(headers: MsgHdrs | undefined, name: string): string | undefined {
  if (headers === undefined || !headers.has(name)) return undefined;
  const value = headers.get(name);
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** What a relayed message says of itself. */
export interface IncomingMessage {
  readonly record: EventRecord;
  readonly hydrated: boolean;
  readonly outdated: boolean;
}

/**
 * The record a relayed message carries.
 *
 * @throws {TypeError} when the message is not one a relay published (no codec header, a body that does not decode)
 */
export function incoming(headers: MsgHdrs | undefined, data: Uint8Array, subject: string): IncomingMessage {
  const name = readHeader(headers, H.codec);
  const codec = name === undefined ? undefined : bodyCodec(name);
  if (codec === undefined) {
    throw new TypeError(
      `the message on ${subject} was not published by an Eventfold relay ` +
        `(its ${H.codec} header is ${JSON.stringify(name ?? null)}, expected "cbor" or "json")`,
    );
  }
  let value: unknown;
  try {
    value = codec.decode(data);
  } catch (error) {
    throw new TypeError(`the body of the message on ${subject} does not decode as ${name}`, { cause: error });
  }
  const record = value as EventRecord;
  if (
    typeof record !== "object" || record === null || typeof record.stream !== "string" ||
    typeof record.type !== "string" || typeof record.position !== "string"
  ) {
    throw new TypeError(`the body of the message on ${subject} is not an event record`);
  }
  return {
    record,
    hydrated: readHeader(headers, H.hydrated) === "true" || record.imported === true,
    outdated: readHeader(headers, H.outdated) === "true" || record.outdated === true,
  };
}
