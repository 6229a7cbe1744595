/**
 * `relay(store, options)`: publishes a store's log, in log order, to a NATS JetStream
 * stream, for services that do not share the store's database.
 *
 * @module
 */

import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { bounded, delay, jitteredDelay, Signal } from "../async.ts";
import { isStoreClosedError, TimeoutError } from "../errors.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import { keepLease, type LeaseLostError, takeLease } from "../projectors/_subscription_lease.ts";
import { errorText, isRelayError, RelayError } from "./errors.ts";
import { closeNats, ensureStream, manager, openNats } from "./_jetstream.ts";
import { publishLog, type RelayProgress } from "./_relay_publish.ts";
import { type RelaySettings, relaySettings } from "./_relay_settings.ts";
import type { RelayErrorContext, RelayInfo, RelayOptions, RelaySource } from "./relay_options.ts";

/**
 * A running relay, made by {@linkcode relay}. Stop it (or abort its `signal`) to release
 * its lease and its NATS connection; `await using` does that.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { relay } from "@eventfold/eventfold/nats";
 * const store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([event.type("tick")]) });
 * // Stopped from the start (an aborted signal), so it runs without a server here.
 * const running = relay(store, { servers: "nats://127.0.0.1:4222", stream: "EVENTS", subject: "events.{type}", signal: AbortSignal.abort() });
 * await running.done;
 * assert.equal(running.info().state, "stopped");
 * ```
 */
export class Relay implements AsyncDisposable {
  /** The relay's name (its checkpoint is `$relay:<name>`). */
  readonly name: string;
  /** This instance's id as the lease's owner. */
  readonly owner: string;
  /** The checkpoint's name in the store: `$relay:<name>`. */
  readonly checkpoint: string;
  readonly #settings: RelaySettings;
  readonly #source: RelaySource;
  readonly #stop = new AbortController();
  readonly #wake = new Signal();
  readonly #waiters = new Set<{ position: string; resolve(): void; reject(error: unknown): void }>();
  readonly #progress: RelayProgress;
  readonly #run: Promise<void>;
  #failure: RelayError | undefined;
  #lastError: { message: string; time: string; attempt: number } | undefined;
  #done: Promise<void> | undefined;

  /**
   * Starts a relay; {@linkcode relay} is the usual way.
   *
   * @param source the store
   * @param options servers, stream, subject template, types, name...
   * @throws {TypeError} for a missing or malformed option (a subject template naming an unknown field)
   * @throws {RangeError} for a number out of range
   */
  constructor(source: RelaySource, options: RelayOptions) {
    if (typeof source?.readAllPages !== "function" || typeof source?.adapter?.acquireLease !== "function") {
      throw new TypeError("relay needs a store: relay(store, { servers, stream, subject })");
    }
    this.#settings = relaySettings(options);
    this.#source = source;
    this.name = this.#settings.name;
    this.owner = this.#settings.owner;
    this.checkpoint = `$relay:${this.name}`;
    this.#progress = {
      state: "waiting-for-lease",
      position: null,
      sequence: 0,
      relayed: 0,
      moved: () => this.#advance(),
    };
    const outer = options.signal;
    if (outer?.aborted) this.#stop.abort();
    const abort = () => this.#stop.abort();
    outer?.addEventListener("abort", abort, { once: true });
    this.#stop.signal.addEventListener("abort", () => this.#wake.notify(), { once: true });
    this.#run = this.#main().finally(() => outer?.removeEventListener("abort", abort));
  }

  /**
   * Where it is.
   *
   * @returns its state, position, JetStream sequence, events relayed and last error
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * import { relay } from "@eventfold/eventfold/nats";
   * const store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([event.type("tick")]) });
   * // Stopped from the start (an aborted signal), so it runs without a server here.
   * const running = relay(store, { servers: "nats://127.0.0.1:4222", stream: "EVENTS", subject: "events.{type}", signal: AbortSignal.abort() });
   * await running.stop();
   * const { state, position, relayed } = running.info();
   * assert(state === "stopped" && position === null && relayed === 0);
   * ```
   */
  info(): RelayInfo {
    const { state, position, sequence, relayed } = this.#progress;
    return {
      name: this.name,
      owner: this.owner,
      stream: this.#settings.stream,
      subject: this.#settings.subject.template,
      state,
      position,
      sequence,
      relayed,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /**
   * Resolves when the relay stopped: after `stop()` or an aborted `signal`; rejects with
   * the {@linkcode RelayError} when it stopped for good on a setup mistake.
   *
   * @returns once stopped
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * import { relay } from "@eventfold/eventfold/nats";
   * const store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([event.type("tick")]) });
   * // Stopped from the start (an aborted signal), so it runs without a server here.
   * const running = relay(store, { servers: "nats://127.0.0.1:4222", stream: "EVENTS", subject: "events.{type}", signal: AbortSignal.abort() });
   * await running.done; // resolves once stopped
   * ```
   */
  get done(): Promise<void> {
    this.#done ??= this.#run.then(() => {
      if (this.#failure !== undefined) throw this.#failure;
    });
    return this.#done;
  }

  /**
   * Waits until `position` (and everything before it) is in JetStream and checkpointed:
   * `const record = await store.pushEvent(...); await running.waitFor(record.position)`.
   *
   * @param position a position of the store
   * @param options `timeout` in ms (default 5000)
   * @returns once relayed
   * @throws {TimeoutError} when the timeout passes first
   * @throws {RelayError} when the relay stops first
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * import { relay } from "@eventfold/eventfold/nats";
   * const store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([event.type("tick")]) });
   * // Stopped from the start (an aborted signal), so it runs without a server here.
   * const running = relay(store, { servers: "nats://127.0.0.1:4222", stream: "EVENTS", subject: "events.{type}", signal: AbortSignal.abort() });
   * const record = await store.pushEvent(store.event({ type: "tick" }));
   * await assert.rejects(running.waitFor(record.position, { timeout: 100 }), /stopped/);
   * ```
   */
  waitFor(position: string, options: { readonly timeout?: number } = {}): Promise<void> {
    if (typeof position !== "string" || position.length === 0) {
      return Promise.reject(new TypeError(`waitFor needs a position, got ${JSON.stringify(position)}`));
    }
    const timeout = options.timeout ?? 5000;
    const at = this.#progress.position;
    if (at !== null && position <= at) return Promise.resolve();
    if (this.#stop.signal.aborted || this.#failure !== undefined) return Promise.reject(this.#ending());
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      this.#waiters.delete(waiter);
      reject(
        new TimeoutError(
          `waiting for relay "${this.name}" to publish position ${position} (it is at ${this.#progress.position})`,
          timeout,
        ),
      );
    }, timeout);
    const waiter = {
      position,
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
      reject: (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    };
    this.#waiters.add(waiter);
    return promise;
  }

  /**
   * Stops it: the window in flight is acknowledged (or fails), the checkpoint saved, the
   * lease released and the connection closed. Idempotent; never rejects.
   *
   * @returns once stopped
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * import { relay } from "@eventfold/eventfold/nats";
   * const store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([event.type("tick")]) });
   * // Stopped from the start (an aborted signal), so it runs without a server here.
   * const running = relay(store, { servers: "nats://127.0.0.1:4222", stream: "EVENTS", subject: "events.{type}", signal: AbortSignal.abort() });
   * await running.stop();
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

  #advance(): void {
    const at = this.#progress.position;
    if (at === null) return;
    for (const waiter of [...this.#waiters]) {
      if (waiter.position <= at) {
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  #ending(): RelayError {
    return this.#failure ?? new RelayError(this.name, "it was stopped", { fatal: false });
  }

  async #main(): Promise<void> {
    const stop = this.#stop.signal;
    const { leaseTtl, leaseInterval, backoff, maxBackoff } = this.#settings;
    const terms = { name: this.checkpoint, owner: this.owner, ttl: leaseTtl, interval: leaseInterval };
    const timeout = leaseTtl - leaseInterval;
    const inserted = this.#source.onEventsInserted(() => this.#wake.notify());
    let unwatch: (() => void) | undefined;
    let attempt = 0;
    try {
      unwatch = this.#source.adapter.watch?.(() => this.#wake.notify());
      while (!stop.aborted) {
        let nc: NatsConnection | undefined;
        const before = this.#progress.relayed;
        try {
          this.#progress.state = "waiting-for-lease";
          const lease = await takeLease(this.#source.adapter, terms, stop, () => {});
          if (lease === undefined) break;
          const hold = new AbortController();
          let lost: LeaseLostError | undefined;
          const keep = keepLease(
            lease,
            { name: this.checkpoint, interval: leaseInterval, timeout },
            (error) => {
              lost = error;
              hold.abort();
              this.#wake.notify();
            },
          );
          try {
            this.#progress.state = "connecting";
            nc = await openNats(
              this.name,
              this.#settings.servers,
              this.#settings.connectTimeout,
              this.#settings.connection,
            );
            const connection = nc;
            const closed = new AbortController();
            connection.closed().then(() => {
              closed.abort();
              this.#wake.notify();
            });
            const jsm = await manager(this.name, connection);
            await ensureStream(this.name, jsm, this.#settings.stream, this.#settings.subject.filter);
            const running = AbortSignal.any([stop, hold.signal, closed.signal]);
            await publishLog({
              settings: this.#settings,
              source: this.#source,
              checkpoint: this.checkpoint,
              progress: this.#progress,
              wake: this.#wake,
              nc: connection,
              js: jetstream(connection, { timeout: this.#settings.ackTimeout }),
              jsm,
            }, running);
            if (closed.signal.aborted && !stop.aborted) {
              const why = await connection.closed();
              throw new RelayError(
                this.name,
                `the connection to NATS at ${connection.getServer()} closed${
                  why instanceof Error ? `: ${why.message}` : ""
                }`,
                { fatal: false, cause: why },
              );
            }
          } finally {
            await keep();
            await bounded(lease.release(), timeout).catch(() => {});
          }
          if (lost !== undefined && !stop.aborted) {
            const why = lost.cause === undefined
              ? "it was not renewed in time, or its connection was reset"
              : `renewing it failed: ${errorText(lost.cause)}`;
            throw new RelayError(this.name, `lost its lease "${this.checkpoint}" (${why}); taking it again`, {
              fatal: false,
              cause: lost,
            });
          }
        } catch (error) {
          if (stop.aborted || isStoreClosedError(error)) break;
          if (isRelayError(error) && error.fatal) {
            this.#failure = error;
            this.#lastError = {
              message: error.message,
              time: new Date().toISOString(),
              attempt: attempt + 1,
            };
            this.#report(error, { action: "stop", attempt: attempt + 1 });
            break;
          }
          // The backoff grows only while nothing is relayed between failures (one outage).
          if (this.#progress.relayed > before) attempt = 0;
          attempt++;
          const wait = jitteredDelay(attempt, backoff, maxBackoff, Math.random());
          const reported = isRelayError(error)
            ? error
            : new RelayError(this.name, errorText(error), { fatal: false, cause: error });
          this.#lastError = { message: reported.message, time: new Date().toISOString(), attempt };
          this.#progress.state = "retrying";
          this.#report(reported, { action: "retry", attempt, delay: wait });
          await delay(wait, stop);
        } finally {
          await closeNats(nc);
        }
      }
    } finally {
      inserted.unsubscribe();
      unwatch?.();
      this.#progress.state = this.#failure === undefined ? "stopped" : "failed";
      const ending = this.#ending();
      for (const waiter of this.#waiters) waiter.reject(ending);
      this.#waiters.clear();
    }
  }

  #report(error: RelayError, context: Omit<RelayErrorContext, "relay">): void {
    const onError = this.#settings.onError;
    if (onError === undefined) {
      if (context.action === "stop" || context.attempt === 1) {
        console.error(`eventfold: ${error.message} (next: ${context.action})`);
      }
      return;
    }
    try {
      onError(error, { relay: this.name, ...context });
    } catch (inner) {
      console.error(`eventfold: the onError listener of relay "${this.name}" failed:`, inner);
    }
  }
}

/**
 * Publishes the store's log, in log order, to the NATS JetStream stream `stream`, one
 * message per event on the subject `subject` renders for it, and follows the log live.
 *
 * - **Messages.** `Nats-Msg-Id` is the event id (JetStream drops a message it saw within
 *   its duplicate window); headers carry stream, type, revision, position, created,
 *   recorded, outdated, hydrated and version ({@linkcode RELAY_HEADERS}); the body is the
 *   whole record, CBOR by default (`codec: "json"` for consumers in other languages).
 * - **Order and exactly once.** Each message expects the stream's last sequence
 *   (`Nats-Expected-Last-Sequence`), so a lost publish makes every later one fail and the
 *   stream holds the log in order. The checkpoint `$relay:<name>` (in the store) moves
 *   only after the acks; on start the relay reads the stream's last message and goes on
 *   after it, so a killed relay neither loses nor repeats an event. Hence the relay must
 *   be the only publisher of its stream (it stops with a fatal {@linkcode RelayError}
 *   when it finds another's message there).
 * - **The stream.** Created when missing, taking `subject` with each field as `*`; an
 *   existing one must take those subjects (it is never changed).
 * - **Failures.** NATS down, an ack that does not come, the server failing to create the
 *   stream (a 5xx), the store not answering, a lost lease: reported to `onError`
 *   (`action: "retry"`) and tried again after a backoff with jitter, for as long as it
 *   takes; nothing is lost. A setup mistake (see above, a configuration the server refuses,
 *   or an event larger than the server's `max_payload`) stops it (`action: "stop"`, `done`
 *   rejects).
 * - **One relay per name** across processes, by a lease in the store.
 * - **Telemetry.** Each window of publishes runs in an `eventfold.relay.publish` span of
 *   the store's `telemetry` (see `publishSpan`).
 *
 * @param store the store (an `EventStore`)
 * @param options `servers`, `stream`, `subject`, and `types`, `name`, `signal`, `onError`, `codec`...
 * @returns the running relay
 * @throws {TypeError} for a missing or malformed option, among them a subject template
 *   naming an unknown field (before anything is published)
 * @throws {RangeError} for a number out of range
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { relay } from "@eventfold/eventfold/nats";
 * const events = new EventFactory([event.type("order:placed")]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * // Refused at the call, before anything is published:
 * assert.throws(() => relay(store, { servers: "nats://127.0.0.1:4222", stream: "EVENTS", subject: "events.{kind}" }), TypeError);
 * async function run(): Promise<void> {
 *   await using running = relay(store, {
 *     servers: "nats://127.0.0.1:4222",
 *     stream: "EVENTS",
 *     subject: "events.{stream}.{type}",
 *     onError: (error, { action, delay }) => console.warn(`${error} (${action} in ${delay} ms)`),
 *   });
 *   const record = await store.pushEvent(store.event({ type: "order:placed", stream: "o1" }));
 *   await running.waitFor(record.position);
 * }
 * ```
 */
export function relay<TEvents extends AnyEventFactory>(
  store: RelaySource<TEvents>,
  options: RelayOptions,
): Relay {
  return new Relay(store as unknown as RelaySource, options);
}
