/**
 * `consume(projector, options)`: feeds a {@linkcode Projector} from a JetStream durable
 * consumer over a stream a relay fills, acking each message after its handlers succeeded.
 *
 * @module
 */

import { AckPolicy, DeliverPolicy, jetstream, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { delay, jitteredDelay } from "../async.ts";
import { TimeoutError } from "../errors.ts";
import type { AnyEventFactory, EventRecordOf } from "../events/factory.ts";
import type { Projector } from "../projectors/projector.ts";
import { errorText, isRelayError, RelayError } from "./errors.ts";
import {
  checkServers,
  checkStreamName,
  closeNats,
  isConsumerNotFound,
  manager,
  openNats,
} from "./_jetstream.ts";
import { incoming } from "./_message.ts";
import { whole } from "./_relay_settings.ts";
import type { NatsConnectOptions, RelayErrorContext } from "./relay_options.ts";

/**
 * Options of {@linkcode consume}.
 *
 * @example
 * ```ts
 * import type { ConsumeOptions } from "@eventfold/eventfold/nats";
 * const options: ConsumeOptions = { servers: "nats://127.0.0.1:4222", stream: "EVENTS", consumer: "billing" };
 * ```
 */
export interface ConsumeOptions {
  /** The NATS servers: `nats://host:port`, or a list of them. */
  readonly servers: string | readonly string[];
  /** The JetStream stream a relay publishes to. */
  readonly stream: string;
  /** The durable consumer's name: created when missing (from the stream's start), resumed otherwise. */
  readonly consumer: string;
  /** A subject filter for a consumer it creates (`"events.order:*"`); default: every subject. */
  readonly filter?: string;
  /**
   * How messages already in the stream when it starts are delivered: `"hydrated"`
   * (default, as a subscription's history: `once` handlers stay silent) or `"fresh"`
   * (when the durable consumer existed already, its backlog is fresh). A message whose
   * relay marked it hydrated (an imported event) is hydrated either way.
   */
  readonly resumeAs?: "hydrated" | "fresh";
  /** Tries of a message's handlers before it gives up on it (default 3), with `backoff` between. */
  readonly attempts?: number;
  /**
   * After the last try: `"stop"` (default: the message stays unacknowledged, redelivered
   * when started again, nothing after it is handled) or `"skip"` (terminate it: JetStream
   * never redelivers it; reported).
   */
  readonly onFailure?: "stop" | "skip";
  /** Stops it when aborted, as `stop()` does. */
  readonly signal?: AbortSignal;
  /** Told about each failure (NATS down: `"retry"`; a handler failing for good: `"stop"` or `"retry"` after skipping). */
  readonly onError?: (error: unknown, context: RelayErrorContext) => void;
  /** Messages fetched at a time (default 256). */
  readonly batch?: number;
  /** How long a fetch waits for messages, in ms (default 1000). */
  readonly pollInterval?: number;
  /** First retry delay in ms (default 100), doubling up to 30 s, with jitter. */
  readonly backoff?: number;
  /** How long to wait for a connection to NATS, in ms (default 5000). */
  readonly connectTimeout?: number;
  /** Further NATS connection options (credentials, TLS). */
  readonly connection?: NatsConnectOptions;
}

/** What `info()` reports of a consumer. */
export interface ConsumerInfo {
  /** The durable consumer's name. */
  readonly name: string;
  /** What it is doing. */
  readonly state: "connecting" | "consuming" | "retrying" | "stopped" | "failed";
  /** How many messages were handled and acknowledged since it started. */
  readonly handled: number;
  /** The store position of the last message handled (`null`: none yet). */
  readonly position: string | null;
  /** The last failure's message, if any. */
  readonly lastError?: string;
}

interface Settings {
  readonly servers: readonly string[];
  readonly stream: string;
  readonly consumer: string;
  readonly filter: string | undefined;
  readonly resumeFresh: boolean;
  readonly attempts: number;
  readonly skip: boolean;
  readonly batch: number;
  readonly pollInterval: number;
  readonly backoff: number;
  readonly connectTimeout: number;
  readonly onError: ConsumeOptions["onError"];
  readonly connection: ConsumeOptions["connection"];
}

function settle(options: ConsumeOptions): Settings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("consume needs options: { servers, stream, consumer }");
  }
  const resumeAs = options.resumeAs ?? "hydrated";
  if (resumeAs !== "hydrated" && resumeAs !== "fresh") {
    throw new TypeError(`resumeAs must be "hydrated" or "fresh", got ${JSON.stringify(resumeAs)}`);
  }
  const onFailure = options.onFailure ?? "stop";
  if (onFailure !== "stop" && onFailure !== "skip") {
    throw new TypeError(`onFailure must be "stop" or "skip", got ${JSON.stringify(onFailure)}`);
  }
  if (options.filter !== undefined && (typeof options.filter !== "string" || options.filter.length === 0)) {
    throw new TypeError(`filter must be a subject such as "events.*", got ${JSON.stringify(options.filter)}`);
  }
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError(`onError must be a function, got ${typeof options.onError}`);
  }
  return {
    servers: checkServers(options.servers),
    stream: checkStreamName(options.stream, "stream (the JetStream stream)"),
    consumer: checkStreamName(options.consumer, "consumer (the durable consumer's name)"),
    filter: options.filter,
    resumeFresh: resumeAs === "fresh",
    attempts: whole("attempts", options.attempts, 3, 1),
    skip: onFailure === "skip",
    batch: whole("batch", options.batch, 256, 1),
    pollInterval: whole("pollInterval", options.pollInterval, 1000, 1),
    backoff: whole("backoff", options.backoff, 100, 1),
    connectTimeout: whole("connectTimeout", options.connectTimeout, 5000, 1),
    onError: options.onError,
    connection: options.connection,
  };
}

/**
 * A running consumer, made by {@linkcode consume}. Stop it to close its connection;
 * `await using` does that.
 *
 * @typeParam TEvents the event factory
 */
export class RelayConsumer<TEvents extends AnyEventFactory = AnyEventFactory> implements AsyncDisposable {
  /** The durable consumer's name. */
  readonly name: string;
  readonly #projector: Projector<TEvents>;
  readonly #settings: Settings;
  readonly #stop = new AbortController();
  readonly #run: Promise<void>;
  #state: ConsumerInfo["state"] = "connecting";
  #handled = 0;
  #position: string | null = null;
  #lastError: string | undefined;
  #failure: RelayError | undefined;
  #done: Promise<void> | undefined;
  #close: (() => void) | undefined;

  /**
   * Starts it; {@linkcode consume} is the usual way.
   *
   * @param projector the handlers
   * @param options servers, stream, consumer...
   * @throws {TypeError} for a missing projector or a malformed option
   * @throws {RangeError} for a number out of range
   */
  constructor(projector: Projector<TEvents>, options: ConsumeOptions) {
    if (typeof projector?.push !== "function") {
      throw new TypeError(
        "consume needs a Projector: consume(new Projector(), { servers, stream, consumer })",
      );
    }
    this.#projector = projector;
    this.#settings = settle(options);
    this.name = this.#settings.consumer;
    const outer = options.signal;
    if (outer?.aborted) this.#stop.abort();
    const abort = () => this.#stop.abort();
    outer?.addEventListener("abort", abort, { once: true });
    this.#stop.signal.addEventListener("abort", () => this.#close?.(), { once: true });
    this.#run = this.#main().finally(() => outer?.removeEventListener("abort", abort));
  }

  /**
   * What it did so far.
   *
   * @returns its state, how many messages it handled, the last position
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Projector } from "@eventfold/eventfold";
   * import { consume } from "@eventfold/eventfold/nats";
   * const consumer = consume(new Projector(), {
   *   servers: "nats://127.0.0.1:4222", stream: "EVENTS", consumer: "billing", signal: AbortSignal.abort(),
   * });
   * await consumer.stop();
   * assert.equal(consumer.info().state, "stopped");
   * ```
   */
  info(): ConsumerInfo {
    return {
      name: this.name,
      state: this.#state,
      handled: this.#handled,
      position: this.#position,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /**
   * Resolves when it stopped; rejects with the {@linkcode RelayError} when a message's
   * handlers failed for good (`onFailure: "stop"`).
   *
   * @returns once stopped
   * @example
   * ```ts
   * import { Projector } from "@eventfold/eventfold";
   * import { consume } from "@eventfold/eventfold/nats";
   * const consumer = consume(new Projector(), {
   *   servers: "nats://127.0.0.1:4222", stream: "EVENTS", consumer: "billing", signal: AbortSignal.abort(),
   * });
   * await consumer.done;
   * ```
   */
  get done(): Promise<void> {
    this.#done ??= this.#run.then(() => {
      if (this.#failure !== undefined) throw this.#failure;
    });
    return this.#done;
  }

  /**
   * Waits until a message whose record is at `position` or later was handled.
   *
   * @param position a store position
   * @param options `timeout` in ms (default 5000)
   * @returns once handled
   * @throws {TimeoutError} when the timeout passes first
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Projector, TimeoutError } from "@eventfold/eventfold";
   * import { consume } from "@eventfold/eventfold/nats";
   * const consumer = consume(new Projector(), {
   *   servers: "nats://127.0.0.1:4222", stream: "EVENTS", consumer: "billing", signal: AbortSignal.abort(),
   * });
   * await assert.rejects(consumer.waitFor("1", { timeout: 10 }), TimeoutError);
   * ```
   */
  async waitFor(position: string, options: { readonly timeout?: number } = {}): Promise<void> {
    const timeout = options.timeout ?? 5000;
    const end = Date.now() + timeout;
    while (this.#position === null || this.#position < position) {
      if (Date.now() >= end) {
        throw new TimeoutError(
          `waiting for consumer "${this.name}" to handle position ${position} (it is at ${this.#position})`,
          timeout,
        );
      }
      await delay(Math.min(10, Math.max(1, end - Date.now())));
    }
  }

  /**
   * Stops it after the message in hand, and closes the connection. Idempotent; never rejects.
   *
   * @returns once stopped
   * @example
   * ```ts
   * import { Projector } from "@eventfold/eventfold";
   * import { consume } from "@eventfold/eventfold/nats";
   * const consumer = consume(new Projector(), { servers: "nats://127.0.0.1:4222", stream: "EVENTS", consumer: "billing", signal: AbortSignal.abort() });
   * await consumer.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#run;
  }

  /** Stops it, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #main(): Promise<void> {
    const stop = this.#stop.signal;
    let attempt = 0;
    while (!stop.aborted) {
      let nc: NatsConnection | undefined;
      const before = this.#handled;
      try {
        this.#state = "connecting";
        nc = await openNats(
          this.name,
          this.#settings.servers,
          this.#settings.connectTimeout,
          this.#settings.connection,
        );
        const jsm = await manager(this.name, nc);
        const history = await this.#prepare(jsm);
        this.#state = "consuming";
        await this.#consume(nc, history, stop);
        if (!stop.aborted) {
          const why = await nc.closed();
          throw new RelayError(
            this.name,
            `the connection to NATS closed${why instanceof Error ? `: ${why.message}` : ""}`,
            {
              fatal: false,
              cause: why,
            },
          );
        }
      } catch (error) {
        if (stop.aborted) break;
        const reported = isRelayError(error)
          ? error
          : new RelayError(this.name, errorText(error), { fatal: false, cause: error });
        this.#lastError = reported.message;
        if (reported.fatal) {
          this.#failure = reported;
          this.#report(reported, { action: "stop", attempt: attempt + 1 });
          break;
        }
        if (this.#handled > before) attempt = 0;
        attempt++;
        const wait = jitteredDelay(attempt, this.#settings.backoff, 30_000, Math.random());
        this.#state = "retrying";
        this.#report(reported, { action: "retry", attempt, delay: wait });
        await delay(wait, stop);
      } finally {
        this.#close = undefined;
        await closeNats(nc);
      }
    }
    this.#state = this.#failure === undefined ? "stopped" : "failed";
  }

  /** Makes the durable consumer when missing; returns the last stream sequence that is history. */
  async #prepare(jsm: JetStreamManager): Promise<number> {
    const { stream, consumer, filter, resumeFresh } = this.#settings;
    const last = (await jsm.streams.info(stream)).state.last_seq;
    try {
      const info = await jsm.consumers.info(stream, consumer);
      return resumeFresh && info.ack_floor.stream_seq > 0 ? 0 : last;
    } catch (error) {
      if (!isConsumerNotFound(error)) throw error;
    }
    await jsm.consumers.add(stream, {
      durable_name: consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...(filter === undefined ? {} : { filter_subject: filter }),
    });
    return last;
  }

  async #consume(nc: NatsConnection, history: number, stop: AbortSignal): Promise<void> {
    const js = jetstream(nc);
    const consumer = await js.consumers.get(this.#settings.stream, this.#settings.consumer);
    let closed = false;
    nc.closed().then(() => {
      closed = true;
      this.#close?.();
    });
    while (!stop.aborted && !closed) {
      const messages = await consumer.fetch({
        max_messages: this.#settings.batch,
        expires: Math.max(1000, this.#settings.pollInterval),
      });
      this.#close = () => void messages.close().catch(() => {});
      for await (const message of messages) {
        await this.#handle(message, history);
        if (stop.aborted) break;
      }
      this.#close = undefined;
      if (stop.aborted) await messages.close().catch(() => {});
    }
  }

  async #handle(message: JsMsg, history: number): Promise<void> {
    const { record, hydrated, outdated } = incoming(message.headers, message.data, message.subject);
    const status = { hydrated: hydrated || message.seq <= history, outdated };
    let failure: unknown;
    for (let tried = 1; tried <= this.#settings.attempts; tried++) {
      try {
        await this.#projector.push(record as EventRecordOf<TEvents>, status);
        message.ack();
        this.#handled++;
        this.#position = record.position;
        return;
      } catch (error) {
        failure = error;
        if (tried < this.#settings.attempts) {
          // Tells JetStream the message is in hand, so its ack wait does not redeliver it meanwhile.
          message.working();
          await delay(jitteredDelay(tried, this.#settings.backoff, 30_000));
        }
      }
    }
    const why =
      `the handlers failed ${this.#settings.attempts} times on event ${record.id} (${record.type}, ` +
      `position ${record.position}, stream sequence ${message.seq}): ${errorText(failure)}`;
    if (this.#settings.skip) {
      message.term(why.slice(0, 200));
      this.#position = record.position;
      this.#report(new RelayError(this.name, `${why}; skipped it`, { fatal: false, cause: failure }), {
        action: "retry",
        attempt: this.#settings.attempts,
      });
      return;
    }
    message.nak();
    throw new RelayError(this.name, `${why}; stopped before it (it is redelivered when started again)`, {
      fatal: true,
      cause: failure,
    });
  }

  #report(error: RelayError, context: Omit<RelayErrorContext, "relay">): void {
    const onError = this.#settings.onError;
    if (onError === undefined) {
      if (context.action === "stop" || context.attempt === 1) console.error(`eventfold: ${error.message}`);
      return;
    }
    try {
      onError(error, { relay: this.name, ...context });
    } catch (inner) {
      console.error(`eventfold: the onError listener of consumer "${this.name}" failed:`, inner);
    }
  }
}

/**
 * Feeds `projector` from the JetStream durable consumer `consumer` of `stream` (which a
 * {@linkcode relay} fills), in the stream's order, one message at a time: each message's
 * record is pushed with `hydrated` and `outdated` from its headers (and history, see
 * `resumeAs`), and acknowledged after its handlers succeeded. A message whose handlers
 * fail is tried `attempts` times, then stops the consumer (or is skipped). NATS down:
 * reported to `onError`, tried again after a backoff. Delivery is at least once (an ack
 * lost with the connection brings the message again): handlers should be idempotent.
 *
 * @param projector the handlers
 * @param options `servers`, `stream`, `consumer`, and `filter`, `resumeAs`, `attempts`, `onFailure`, `signal`, `onError`...
 * @returns the running consumer
 * @throws {TypeError} for a missing projector or a malformed option
 * @throws {RangeError} for a number out of range
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, Projector } from "@eventfold/eventfold";
 * import { consume } from "@eventfold/eventfold/nats";
 * const events = new EventFactory([event.type("order:placed")]);
 * const projector = new Projector<typeof events>();
 * projector.on("order:placed", (record) => console.log("placed", record.stream));
 * // A consumer's name is a JetStream name: refused at the call when it is not one.
 * assert.throws(() => consume(projector, { servers: "nats://127.0.0.1:4222", stream: "EVENTS", consumer: "a.b" }), TypeError);
 * async function run(): Promise<void> {
 *   await using billing = consume(projector, { servers: "nats://127.0.0.1:4222", stream: "EVENTS", consumer: "billing" });
 *   await billing.done;
 * }
 * ```
 */
export function consume<TEvents extends AnyEventFactory>(
  projector: Projector<TEvents>,
  options: ConsumeOptions,
): RelayConsumer<TEvents> {
  return new RelayConsumer(projector, options);
}
