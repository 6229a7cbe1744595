/**
 * Where the NATS tests find their JetStream server, and the one decision about a server
 * that cannot be reached: the tests are skipped with the reason printed, unless `CI` is
 * `"true"`, where they fail (CI must run them for real). Also the helpers the tests share:
 * unique stream names, reading a whole stream back, deleting it.
 *
 * @module
 */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

/** The server the tests use: `EVENTFOLD_NATS_URL`, or the local one. */
export const NATS_URL: string = Deno.env.get("EVENTFOLD_NATS_URL") ?? "nats://127.0.0.1:4222";

let checked: Promise<boolean> | undefined;

async function probe(): Promise<boolean> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: NATS_URL, reconnect: false, timeout: 3000 });
    await (await jetstreamManager(nc)).getAccountInfo();
    return true;
  } catch (error) {
    const reason = `NATS JetStream at ${NATS_URL} is unreachable: ${(error as Error).message}`;
    if (Deno.env.get("CI") === "true") throw new Error(`${reason} (CI=true: the NATS tests must run)`);
    console.warn(`skipping NATS tests: ${reason} (set EVENTFOLD_NATS_URL to run them)`);
    return false;
  } finally {
    await nc?.close();
  }
}

/**
 * Whether the server answers. Checked once per process.
 *
 * @returns true when the tests can run
 * @throws {Error} when it does not answer and `CI` is `"true"`
 */
export function natsAvailable(): Promise<boolean> {
  checked ??= probe();
  return checked;
}

/** A port of 127.0.0.1 where nothing listens (it was free a moment ago): a NATS that is down. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A JetStream stream name no other test uses. */
export function freshStream(prefix = "T"): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/**
 * Runs `work` with a connection and deletes `streams` afterwards, whatever happens.
 *
 * @param streams the JetStream streams the test makes
 * @param work the test
 */
export async function withStreams<T>(
  streams: readonly string[],
  work: (nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const nc = await connect({ servers: NATS_URL, reconnect: false });
  try {
    return await work(nc);
  } finally {
    const jsm = await jetstreamManager(nc);
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  }
}

/** One message as read back: its subject, headers and body. */
export interface ReadMessage {
  readonly seq: number;
  readonly subject: string;
  readonly header: { get(name: string): string };
  readonly data: Uint8Array;
}

/**
 * Every message of a stream, in sequence order, through an ordered consumer.
 *
 * @param nc a connection
 * @param stream the stream
 * @returns the stored messages
 */
export async function readStream(nc: NatsConnection, stream: string): Promise<ReadMessage[]> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(stream)).state.last_seq;
  const out: ReadMessage[] = [];
  if (last === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  while (out.length === 0 || out.at(-1)!.seq < last) {
    const messages = await consumer.fetch({ max_messages: 10_000, expires: 2000 });
    let got = 0;
    for await (const message of messages) {
      got++;
      out.push({ seq: message.seq, subject: message.subject, header: message.headers!, data: message.data });
      if (message.seq >= last) break;
    }
    if (got === 0) throw new Error(`stream ${stream} ended at ${out.at(-1)?.seq ?? 0} of ${last} messages`);
  }
  await consumer.delete().catch(() => {});
  return out;
}
