/**
 * One connected run of a relay, while it holds its lease: find where it left off (its
 * checkpoint, or further when JetStream acknowledged more before a crash), then publish
 * the log page by page, each message expecting the stream's last sequence so the
 * JetStream stream holds the log in order whatever fails, and move the checkpoint after
 * the acks. Then follow the log live.
 *
 * @module
 */

import type { JetStreamClient, JetStreamManager, PubAck } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Signal } from "../async.ts";
import type { EventRecord } from "../events/record.ts";
import { publishSpan } from "../contract/telemetry.ts";
import { errorText, RelayError } from "./errors.ts";
import { lastRelayed } from "./_jetstream.ts";
import { outgoing, type OutgoingMessage } from "./_message.ts";
import type { RelaySettings } from "./_relay_settings.ts";
import type { RelaySource, RelayState } from "./relay_options.ts";

/** Where a relay is, shared between its run and its handle. */
export interface RelayProgress {
  state: RelayState;
  position: string | null;
  sequence: number;
  relayed: number;
  /** Called when `position` moved. */
  moved(): void;
}

/** What a run needs. */
export interface RunContext {
  readonly settings: RelaySettings;
  readonly source: RelaySource;
  readonly checkpoint: string;
  readonly progress: RelayProgress;
  readonly wake: Signal;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

/** Headers and body size of a message, near enough to compare with the server's limit. */
function size(message: OutgoingMessage, subject: string): number {
  let total = message.data.length + subject.length + 64;
  for (const [key, values] of message.headers) {
    for (const value of values) total += key.length + value.length + 4;
  }
  return total;
}

/**
 * Publishes and checkpoints until `signal` aborts.
 *
 * @throws {RelayError} when NATS or the store fails (not fatal) or the setup is wrong (fatal)
 */
export async function publishLog(context: RunContext, signal: AbortSignal): Promise<void> {
  const { settings, source, checkpoint, progress, wake } = context;
  const adapter = source.adapter;
  let saved = (await adapter.getCheckpoint(checkpoint))?.position ?? null;
  const reached = await lastRelayed(settings.name, context.jsm, settings.stream);
  progress.sequence = reached.sequence;
  // Acknowledged before the checkpoint could move (a crash in between): go on after it.
  if (reached.position !== null && (saved === null || reached.position > saved)) {
    saved = await move(context, saved, reached.position);
  }
  progress.position = saved;
  progress.moved();
  progress.state = "catching-up";
  while (!signal.aborted) {
    wake.clear();
    // With a type filter, what it skipped moves the checkpoint too, up to the head as it
    // was before the pass, so a restart does not read it again.
    const head = settings.types === undefined ? undefined : await newest(source);
    let complete = true;
    for await (const page of source.readAllPages({ after: saved ?? undefined, types: settings.types })) {
      for (let at = 0; at < page.length && !signal.aborted; at += settings.maxInFlight) {
        saved = await publishWindow(context, saved, page.slice(at, at + settings.maxInFlight));
      }
      if (signal.aborted) {
        complete = false;
        break;
      }
    }
    if (!complete) break;
    if (head !== undefined && head !== null && (saved === null || head > saved)) {
      saved = await move(context, saved, head);
      progress.position = saved;
      progress.moved();
    }
    progress.state = "live";
    await wake.wait(settings.pollInterval);
  }
}

async function newest(source: RelaySource): Promise<string | null> {
  const [last] = await source.adapter.readLog({ direction: "backward", limit: 1 });
  return last?.position ?? null;
}

/** Moves the checkpoint from `expected` to `position`. */
async function move(context: RunContext, expected: string | null, position: string): Promise<string> {
  const set = await context.source.adapter.putCheckpoint(context.checkpoint, expected, { position });
  if (!set) {
    throw new RelayError(
      context.settings.name,
      `its checkpoint "${context.checkpoint}" was moved by someone else (another relay of the same name?); ` +
        "starting over from the checkpoint",
      { fatal: false },
    );
  }
  return position;
}

/** A record ready to go: its subject and message. */
interface Prepared {
  readonly record: EventRecord;
  readonly subject: string;
  readonly message: OutgoingMessage;
}

/**
 * The records of a window up to the first one that cannot be published (a payload the
 * codec cannot hold, a message larger than the server takes), and why that one cannot.
 */
function prepare(
  context: RunContext,
  records: readonly EventRecord[],
): { ready: Prepared[]; refused: RelayError | undefined } {
  const { settings, nc } = context;
  const limit = nc.info?.max_payload ?? Infinity;
  const ready: Prepared[] = [];
  for (const record of records) {
    const subject = settings.subject.render(record);
    let message: OutgoingMessage;
    try {
      message = outgoing(record, settings.name, settings.codec);
    } catch (error) {
      const why = `its payload cannot be encoded as ${settings.codec}: ${errorText(error)}`;
      return { ready, refused: stuck(settings.name, record, why, error) };
    }
    if (size(message, subject) > limit) {
      const why = `it is larger than the server's max_payload (${limit} bytes; about ${
        size(message, subject)
      } needed)`;
      return { ready, refused: stuck(settings.name, record, why) };
    }
    ready.push({ record, subject, message });
  }
  return { ready, refused: undefined };
}

/** The subject every message of a window goes to, when they share one. */
function sharedSubject(ready: readonly Prepared[]): string | undefined {
  const first = ready[0]?.subject;
  return ready.every((item) => item.subject === first) ? first : undefined;
}

/**
 * Publishes `ready` in one `eventfold.relay.publish` span of the store's telemetry, each
 * message expecting the one before it as the stream's last; settles when every ack came
 * or failed. The span fails when the window did not reach JetStream whole.
 *
 * @throws what the telemetry throws before the publishing ran
 */
async function publishAll(
  context: RunContext,
  ready: readonly Prepared[],
): Promise<PromiseSettledResult<PubAck>[]> {
  const { settings, js, progress, source } = context;
  const base = progress.sequence;
  let outcomes: PromiseSettledResult<PubAck>[] | undefined;
  const publishing = {
    relay: settings.name,
    records: ready.map((item) => item.record),
    subject: sharedSubject(ready),
  };
  try {
    await publishSpan(source.telemetry, publishing, async () => {
      // Each expects the one before it as the stream's last message: if one is lost (a
      // reconnect, a timeout), every later one is refused, so the stream never skips.
      outcomes = await Promise.allSettled(
        ready.map(({ record, subject, message }, k) =>
          js.publish(subject, message.data, {
            msgID: record.id,
            headers: message.headers,
            expect: { lastSequence: base + k },
            timeout: settings.ackTimeout,
          })
        ),
      );
      if (outcomes.at(-1)?.status === "rejected") {
        throw outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected")!
          .reason;
      }
    });
  } catch (error) {
    // A failed publish is told by the outcomes; a telemetry that failed before them is not.
    if (outcomes === undefined) throw error;
  }
  if (outcomes === undefined) {
    throw new Error(
      "the store's telemetry did not run the publishing it was given (Telemetry.span must call run)",
    );
  }
  return outcomes;
}

/** Publishes one window of records and moves the checkpoint past what was acknowledged. */
async function publishWindow(
  context: RunContext,
  saved: string | null,
  records: readonly EventRecord[],
): Promise<string | null> {
  const { settings, progress } = context;
  const { ready, refused } = prepare(context, records);
  const outcomes = ready.length === 0 ? [] : await publishAll(context, ready);
  let last = -1;
  let failure: unknown;
  for (let k = 0; k < outcomes.length; k++) {
    const outcome = outcomes[k];
    if (outcome.status === "fulfilled") {
      // An acknowledged message means every earlier one is in the stream (it expected them).
      last = k;
      progress.sequence = outcome.value.seq > progress.sequence ? outcome.value.seq : progress.sequence;
    } else {
      failure ??= outcome.reason;
    }
  }
  if (last >= 0) {
    const position = ready[last].record.position;
    saved = await move(context, saved, position);
    progress.position = position;
    progress.relayed += last + 1;
    progress.moved();
  }
  if (failure !== undefined && last < outcomes.length - 1) {
    const next = ready[last + 1].record;
    throw new RelayError(
      settings.name,
      `publishing to JetStream stream "${settings.stream}" failed at event ${next.id} ` +
        `(position ${next.position}): ${errorText(failure)}`,
      { fatal: false, cause: failure },
    );
  }
  if (refused !== undefined) throw refused;
  return saved;
}

function stuck(relay: string, record: EventRecord, why: string, cause?: unknown): RelayError {
  return new RelayError(
    relay,
    `cannot publish event ${record.id} (${record.type}, position ${record.position}): ${why}; ` +
      "the relay stopped before it, nothing after it was published",
    { fatal: true, cause },
  );
}
