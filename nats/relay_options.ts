/**
 * The options of {@linkcode relay}, what its `onError` listener is told, and what
 * `info()` reports.
 *
 * @module
 */

import type { AnyEventFactory, EventRecordOf } from "../events/factory.ts";
import type { Adapter } from "../contract/mod.ts";
import type { Telemetry } from "../contract/telemetry.ts";

/**
 * What a relay needs of its store; an `EventStore` is one.
 *
 * @typeParam TEvents the event factory
 * @example
 * ```ts
 * import { EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import type { RelaySource } from "@eventfold/eventfold/nats";
 * const events = new EventFactory([]);
 * const source: RelaySource<typeof events> = new EventStore({ adapter: new MemoryAdapter(), events });
 * ```
 */
export interface RelaySource<TEvents extends AnyEventFactory = AnyEventFactory> {
  /** The store's adapter: the checkpoint, the lease, wake-ups from other processes. */
  readonly adapter: Adapter;
  /** Pages of the log after a position, in position order. */
  readAllPages(
    options: { after?: string; types?: readonly string[] },
  ): AsyncIterable<EventRecordOf<TEvents>[]>;
  /** Calls `listener` after each commit of this store. */
  onEventsInserted(listener: () => void): { unsubscribe(): void };
  /**
   * Where the store reports (its `telemetry` option): the relay runs each window of
   * publishes in an `eventfold.relay.publish` span of it (see `publishSpan`).
   */
  readonly telemetry?: Telemetry;
}

/**
 * What `onError` is told besides the error.
 *
 * @example
 * ```ts
 * import type { RelayErrorContext } from "@eventfold/eventfold/nats";
 * const log = (error: unknown, { relay, action, attempt, delay }: RelayErrorContext) =>
 *   console.warn(relay, action, attempt, delay, error);
 * ```
 */
export interface RelayErrorContext {
  /** The relay's (or consumer's) name. */
  readonly relay: string;
  /**
   * `"retry"`: it tries again after `delay` ms (NATS down, a publish not acknowledged, the
   * store not answering, the lease lost); `"stop"`: it stopped for good (a setup mistake:
   * the JetStream stream takes other subjects, holds another publisher's messages, an event
   * too large for NATS), and `done` rejects with the error.
   */
  readonly action: "retry" | "stop";
  /** How many tries in a row failed in this outage (1 for its first report). */
  readonly attempt: number;
  /** For `"retry"`: how long it waits, in ms. */
  readonly delay?: number;
}

/**
 * Options of {@linkcode relay}.
 *
 * @example
 * ```ts
 * import type { RelayOptions } from "@eventfold/eventfold/nats";
 * const options: RelayOptions = {
 *   servers: "nats://127.0.0.1:4222",
 *   stream: "ORDERS",
 *   subject: "orders.{type}",
 *   types: ["order:placed", "order:paid"],
 * };
 * ```
 */
export interface RelayOptions {
  /** The NATS servers: `nats://host:port`, or a list of them. */
  readonly servers: string | readonly string[];
  /**
   * The JetStream stream. Created when missing, taking the template's subjects
   * (`subject` with each field as `*`); an existing one must take them. Only the relay
   * publishes to it.
   */
  readonly stream: string;
  /** The subject template: `"events.{type}"`, `"events.{stream}.{type}"` (fields: stream, type). */
  readonly subject: string;
  /** Only these event types (all when absent). */
  readonly types?: readonly string[];
  /** The relay's name: its checkpoint is `$relay:<name>`, one relay per name runs (default: `stream`). */
  readonly name?: string;
  /** Stops the relay when aborted, as `stop()` does. */
  readonly signal?: AbortSignal;
  /** Told about each failure; without it, the first failure of each outage and a stop go to the console. */
  readonly onError?: (error: unknown, context: RelayErrorContext) => void;
  /** The body's codec: `"cbor"` (default: every value the store keeps) or `"json"` (what JSON holds). */
  readonly codec?: "cbor" | "json";
  /** At most this many publishes awaiting their ack (default 512); the checkpoint moves after each such window. */
  readonly maxInFlight?: number;
  /** How long to wait for a publish's ack, in ms (default 5000). */
  readonly ackTimeout?: number;
  /** How long to wait for a connection to NATS, in ms (default 5000). */
  readonly connectTimeout?: number;
  /** Look for new events at least this often, in ms (default 1000); commits wake it at once. */
  readonly pollInterval?: number;
  /** First retry delay in ms (default 100), doubling up to `maxBackoff` (default 30000), with jitter. */
  readonly backoff?: number;
  /** The longest retry delay, in ms. */
  readonly maxBackoff?: number;
  /** How often the lease is renewed, in ms (default 1000). */
  readonly leaseInterval?: number;
  /** How long an unrenewed lease holds (SQLite), in ms (default 5000; more than twice `leaseInterval`). */
  readonly leaseTtl?: number;
  /** This instance's id as the lease's owner (default: a random UUID). */
  readonly owner?: string;
  /** Further NATS connection options (credentials, TLS); the relay sets `servers`, `reconnect` and `timeout`. */
  readonly connection?: NatsConnectOptions;
}

/**
 * Credentials and TLS for the NATS connection of a relay or a consumer.
 *
 * @example
 * ```ts
 * import type { NatsConnectOptions } from "@eventfold/eventfold/nats";
 * const connection: NatsConnectOptions = { user: "relay", pass: Deno.env.get("NATS_PASSWORD") };
 * ```
 */
export interface NatsConnectOptions {
  /** User name. */
  readonly user?: string;
  /** Password. */
  readonly pass?: string;
  /** Token. */
  readonly token?: string;
  /** TLS files (PEM), or `null` for none. */
  readonly tls?: {
    /** The certificate authority's certificate. */
    readonly caFile?: string;
    /** The client certificate. */
    readonly certFile?: string;
    /** The client key. */
    readonly keyFile?: string;
  } | null;
}

/** What a relay is doing, as `info().state` says. */
export type RelayState =
  | "waiting-for-lease"
  | "connecting"
  | "catching-up"
  | "live"
  | "retrying"
  | "stopped"
  | "failed";

/**
 * What `info()` reports of a relay.
 *
 * @example
 * ```ts
 * import type { RelayInfo } from "@eventfold/eventfold/nats";
 * const line = (info: RelayInfo) => `${info.name}: ${info.state} at ${info.position} (${info.relayed} relayed)`;
 * ```
 */
export interface RelayInfo {
  /** The relay's name. */
  readonly name: string;
  /** This instance's lease owner id. */
  readonly owner: string;
  /** The JetStream stream. */
  readonly stream: string;
  /** The subject template. */
  readonly subject: string;
  /** What it is doing. */
  readonly state: RelayState;
  /** The store position up to which the log is in JetStream and checkpointed (`null`: none yet). */
  readonly position: string | null;
  /** The JetStream sequence of the last message it saw acknowledged (0: none). */
  readonly sequence: number;
  /** How many events this instance published (acknowledged) since it started. */
  readonly relayed: number;
  /** The last failure, if any: its message, when, and how many tries in a row had failed. */
  readonly lastError?: { readonly message: string; readonly time: string; readonly attempt: number };
}
