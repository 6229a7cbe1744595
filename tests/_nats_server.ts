/**
 * A private NATS server with JetStream for fault tests: started on a free port with its
 * own store directory, so a test can break that directory (a file where a stream's folder
 * goes) without touching the shared one on 4222. Needs the
 * `nats-server` command; when it is missing, {@linkcode natsServerNeed} says so and the test
 * is skipped with it in its name, unless `CI` is `"true"`, where it fails.
 *
 * @example
 * ```ts ignore
 * await using server = await startNatsServer();
 * const unblock = await server.blockStream("S");
 * ```
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { delay } from "../async.ts";
import { commandMissing, type HostNeed, hostNeed } from "./_host_tools.ts";
import { freePort } from "./_nats_env.ts";

/** Whether a private server can be started here. */
export const natsServerNeed: HostNeed = hostNeed(commandMissing("nats-server"));

/** A running private server. */
export interface NatsServer {
  /** Its client URL (127.0.0.1). */
  readonly url: string;
  /**
   * Puts a file where the server makes the folder of `stream` (default account), so that
   * creating the stream fails at the server ("error creating store for stream", status
   * 500) until the returned function removes it.
   */
  blockStream(stream: string): Promise<() => Promise<void>>;
  /** What the server logged so far. */
  log(): Promise<string>;
  /** Stops it and deletes its store. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a server and waits until JetStream answers (at most 10 s).
 *
 * @throws {Error} when it does not answer, with its log
 */
export async function startNatsServer(): Promise<NatsServer> {
  const dir = await Deno.makeTempDir({ prefix: "eventfold-nats-" });
  const port = freePort();
  const url = `nats://127.0.0.1:${port}`;
  const logFile = `${dir}/server.log`;
  const child = new Deno.Command("nats-server", {
    args: ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", `${dir}/store`, "-l", logFile],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const log = () => Deno.readTextFile(logFile).catch(() => "");
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* it has ended */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
      try {
        await (await jetstreamManager(nc)).getAccountInfo();
      } finally {
        await nc.close();
      }
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        const text = await log();
        await stop();
        throw new Error(
          `the private nats-server on ${url} did not answer: ${(error as Error).message}\n${text}`,
        );
      }
      await delay(100);
    }
  }
  return {
    url,
    blockStream: async (stream) => {
      const streams = `${dir}/store/jetstream/$G/streams`;
      await Deno.mkdir(streams, { recursive: true });
      await Deno.writeTextFile(`${streams}/${stream}`, "not a folder");
      return () => Deno.remove(`${streams}/${stream}`);
    },
    log,
    [Symbol.asyncDispose]: stop,
  };
}
