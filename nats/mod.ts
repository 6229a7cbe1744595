/**
 * The JetStream relay: {@linkcode relay} publishes a store's log, in log order, to a NATS
 * JetStream stream, for services that do not share the store's database; the event id
 * is the `Nats-Msg-Id`, the checkpoint (`$relay:<name>`, in the store) moves only after
 * the acks, so a killed relay resumes with nothing lost and nothing repeated.
 * {@linkcode consume} feeds a `Projector` from a durable consumer of that stream. Only
 * this export loads the NATS client (`@nats-io/jetstream`, `@nats-io/transport-node`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { relay, subjectTemplate } from "@eventfold/eventfold/nats";
 *
 * const events = new EventFactory([event.type("order:placed")]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * assert.equal(subjectTemplate("orders.{type}").render({ stream: "o1", type: "order:placed" }), "orders.order:placed");
 * // A template naming an unknown field is refused at the call, before anything is published.
 * assert.throws(() => relay(store, { servers: "nats://127.0.0.1:4222", stream: "ORDERS", subject: "orders.{kind}" }), TypeError);
 *
 * async function run(): Promise<void> {
 *   await using running = relay(store, { servers: "nats://127.0.0.1:4222", stream: "ORDERS", subject: "orders.{type}" });
 *   const record = await store.pushEvent(store.event({ type: "order:placed", stream: "o1" }));
 *   await running.waitFor(record.position); // in JetStream, checkpointed
 * }
 * ```
 *
 * @module
 */

export { Relay, relay } from "./relay.ts";
export type {
  NatsConnectOptions,
  RelayErrorContext,
  RelayInfo,
  RelayOptions,
  RelaySource,
  RelayState,
} from "./relay_options.ts";
export { consume, type ConsumeOptions, type ConsumerInfo, RelayConsumer } from "./consume.ts";
export { isRelayError, RelayError } from "./errors.ts";
export { headerValue, RELAY_HEADERS } from "./headers.ts";
export {
  SUBJECT_FIELDS,
  type SubjectField,
  type SubjectTemplate,
  subjectTemplate,
  subjectToken,
} from "./subject.ts";
// The core's types these refer to, for the documentation (the values come from the main export).
export type * from "../mod.ts";
