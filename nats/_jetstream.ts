/**
 * The relay's and the consumer's dealings with NATS: connecting (with a clear error when
 * the server is down), making sure the JetStream stream takes the relay's subjects, and
 * reading where the relay left off from the stream's last message.
 *
 * @module
 */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { NatsConnectOptions } from "./relay_options.ts";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { errorText, RelayError } from "./errors.ts";
import { readHeader } from "./_message.ts";
import { RELAY_HEADERS } from "./headers.ts";
import { covers } from "./subject.ts";

/** A list of servers as text, for messages. */
export function serverList(servers: readonly string[]): string {
  return servers.join(", ");
}

/**
 * Checks the servers option: `nats://host:port` (or `tls://`, `ws://`, `wss://`, or a bare `host:port`).
 *
 * @throws {TypeError} for anything else
 */
export function checkServers(servers: unknown): string[] {
  const list = typeof servers === "string" ? [servers] : servers;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(
      `servers must be a NATS URL such as "nats://127.0.0.1:4222" or a list of them, got ${
        JSON.stringify(servers)
      }`,
    );
  }
  for (const server of list) {
    if (typeof server !== "string" || server.length === 0) {
      throw new TypeError(`servers must be NATS URLs (strings), got ${JSON.stringify(server)}`);
    }
    const withScheme = /^[a-z]+:\/\//i.test(server) ? server : `nats://${server}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new TypeError(`${JSON.stringify(server)} is not a NATS URL (expected nats://host:port)`);
    }
    if (!["nats:", "tls:"].includes(url.protocol) || url.hostname === "") {
      throw new TypeError(
        `${JSON.stringify(server)} is not a NATS URL (expected nats://host:port or tls://host:port)`,
      );
    }
  }
  return list as string[];
}

/**
 * Checks a JetStream stream or consumer name: no whitespace, `.`, `*`, `>`, `/` or `\`.
 *
 * @throws {TypeError} for a bad name
 */
export function checkStreamName(name: unknown, what: string): string {
  if (typeof name !== "string" || name.length === 0 || /[\s.*>/\\]/.test(name)) {
    throw new TypeError(
      `${what} must be a JetStream name (letters, digits, - and _; no spaces, ".", "*", ">", "/" or "\\"), got ${
        JSON.stringify(name)
      }`,
    );
  }
  return name;
}

/**
 * Connects to NATS without the client's own reconnecting: the caller retries, so an
 * outage is reported and nothing waits on a buffer.
 *
 * @throws {RelayError} (not fatal) when no server answers
 */
export async function openNats(
  relay: string,
  servers: readonly string[],
  timeout: number,
  options: NatsConnectOptions | undefined,
): Promise<NatsConnection> {
  try {
    return await connect({
      name: `eventfold:${relay}`,
      ...options,
      servers: [...servers],
      reconnect: false,
      timeout,
    });
  } catch (error) {
    throw new RelayError(relay, `cannot reach NATS at ${serverList(servers)}: ${errorText(error)}`, {
      fatal: false,
      cause: error,
    });
  }
}

/**
 * The JetStream manager of a connection.
 *
 * @throws {RelayError} (not fatal) when the server has no JetStream
 */
export async function manager(relay: string, nc: NatsConnection): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc);
  } catch (error) {
    throw new RelayError(
      relay,
      `NATS at ${nc.getServer()} does not answer JetStream requests (start nats-server with -js): ${
        errorText(error)
      }`,
      { fatal: false, cause: error },
    );
  }
}

function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

/** The HTTP-like status of a JetStream API error (400, 404, 500, 503), or 0. */
function apiStatus(error: unknown): number {
  const status = (error as { status?: unknown })?.status;
  return typeof status === "number" ? status : 0;
}

/** Whether a JetStream error says the stream does not exist. */
export function isStreamNotFound(error: unknown): boolean {
  return apiCode(error) === 10059;
}

/** Whether a JetStream error says the consumer does not exist. */
export function isConsumerNotFound(error: unknown): boolean {
  return apiCode(error) === 10014;
}

/**
 * Creates the stream when it is missing (subjects: the filter), or checks that the
 * existing one takes the filter's subjects.
 *
 * @returns whether it was created
 * @throws {RelayError} (fatal) when the existing stream takes other subjects, or the server
 *   refuses the stream's configuration; (not fatal) when the server fails to create it, or
 *   does not answer
 */
export async function ensureStream(
  relay: string,
  jsm: JetStreamManager,
  stream: string,
  filter: string,
): Promise<boolean> {
  let subjects: readonly string[];
  try {
    subjects = (await jsm.streams.info(stream)).config.subjects ?? [];
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    try {
      await jsm.streams.add({ name: stream, subjects: [filter] });
      return true;
    } catch (adding) {
      // Another relay (or an operator) made it in between: check it as found.
      if (apiCode(adding) !== 10058) {
        // A refused configuration (a 4xx) is the operator's to change. A failure at the
        // server (a 5xx: its storage, its cluster) or on the way (no answer) may pass.
        const status = apiStatus(adding);
        const refused = status >= 400 && status < 500;
        throw new RelayError(
          relay,
          `cannot create JetStream stream "${stream}": ${errorText(adding)}${
            status >= 500 ? " (a failure at the server; its log has the cause)" : ""
          }`,
          { fatal: refused, cause: adding },
        );
      }
      subjects = (await jsm.streams.info(stream)).config.subjects ?? [];
    }
  }
  if (!subjects.some((subject) => covers(subject, filter))) {
    throw new RelayError(
      relay,
      `JetStream stream "${stream}" does not take the subjects ${filter} (it takes ${
        subjects.length === 0 ? "none" : subjects.join(", ")
      }): add ${filter} to its subjects, or relay to another stream`,
      { fatal: true },
    );
  }
  return false;
}

/** Where the relay left off in the JetStream stream. */
export interface Relayed {
  /** The stream's last sequence (0: empty). */
  readonly sequence: number;
  /** The store position of the last message, `null` when the stream is empty or the last message is gone. */
  readonly position: string | null;
}

/**
 * Reads the stream's last message: its store position tells how far the log reached
 * JetStream, checkpointed or not.
 *
 * @throws {RelayError} (fatal) when the last message was not published by this relay
 */
export async function lastRelayed(
  relay: string,
  jsm: JetStreamManager,
  stream: string,
): Promise<Relayed> {
  const sequence = (await jsm.streams.info(stream)).state.last_seq;
  if (sequence === 0) return { sequence, position: null };
  const message = await jsm.streams.getMessage(stream, { seq: sequence });
  if (message === null) return { sequence, position: null };
  const by = readHeader(message.header, RELAY_HEADERS.relay);
  const position = readHeader(message.header, RELAY_HEADERS.position);
  if (by !== relay || position === undefined) {
    throw new RelayError(
      relay,
      `JetStream stream "${stream}" holds a message this relay did not publish (sequence ${sequence}, subject ${message.subject}${
        by === undefined ? "" : `, published by relay "${by}"`
      }): a relay must be the only publisher of its stream`,
      { fatal: true },
    );
  }
  return { sequence, position };
}

/** Closes a connection, ignoring a failure to close one that is broken. */
export async function closeNats(nc: NatsConnection | undefined): Promise<void> {
  if (nc === undefined) return;
  try {
    await nc.close();
  } catch {
    // Closed or broken already.
  }
}
