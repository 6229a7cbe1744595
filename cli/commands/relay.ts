/**
 * `eventfold relay`: publishes a store's log, in log order, to a NATS JetStream stream
 * and follows it until Ctrl-C (see `relay` of `./nats`). Only this command loads the NATS
 * client.
 *
 * @module
 */

import type { ParsedArgs } from "../_args.ts";
import {
  type Command,
  type Io,
  JSON_FLAG,
  noExtraArgs,
  STORE_FLAG,
  storeUrl,
  withStore,
} from "../_command.ts";
import { CliFailure, EXIT, UsageError } from "../_errors.ts";
import { plural } from "../_format.ts";
import { say } from "../_output.ts";

const STATUS_EVERY = 1000;

function natsServers(args: ParsedArgs): string[] {
  const text = args.string("nats") ?? Deno.env.get("EVENTFOLD_NATS") ?? "nats://127.0.0.1:4222";
  return text.split(",").map((server) => server.trim()).filter((server) => server.length > 0);
}

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "relay");
  const url = storeUrl(args);
  const subject = args.string("subject");
  if (subject === undefined) {
    throw new UsageError(
      "--subject TEMPLATE is required, such as 'events.{type}' or 'events.{stream}.{type}'",
    );
  }
  const types = args.list("types").flatMap((list) => list.split(",")).map((type) => type.trim())
    .filter((type) => type.length > 0);
  if (args.has("types") && types.length === 0) throw new UsageError("--types needs event types: --types a,b");
  const codec = args.string("codec") ?? "cbor";
  if (codec !== "cbor" && codec !== "json") {
    throw new UsageError(`--codec must be cbor or json, got ${JSON.stringify(codec)}`);
  }
  const leaseTtl = args.integer("lease-ttl");
  const { relay, isRelayError } = await import("../../nats/mod.ts");
  const { relaySettings } = await import("../../nats/_relay_settings.ts");
  const options = {
    servers: natsServers(args),
    stream: args.string("stream") ?? "EVENTS",
    subject,
    types: types.length > 0 ? types : undefined,
    name: args.string("name"),
    codec,
    ...(leaseTtl === undefined ? {} : { leaseTtl, leaseInterval: Math.max(1, Math.floor(leaseTtl / 4)) }),
  } as const;
  // Bad options (a template naming an unknown field, a malformed NATS URL) are usage errors,
  // found before the store is opened or anything is published.
  try {
    relaySettings(options);
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new UsageError(error.message.replace(/^(subject|servers|stream)\b/, "--$1"));
    }
    throw error;
  }
  return await withStore(url, { create: false }, async ({ store }) => {
    const line = async (text: string, facts: Record<string, unknown>) => {
      await io.out.line(io.json ? JSON.stringify(facts) : text);
      await io.out.flush();
    };
    const running = relay(store, {
      ...options,
      signal: io.signal,
      onError: (error, context) => {
        const next = context.action === "retry"
          ? ` (retrying in ${context.delay} ms, attempt ${context.attempt})`
          : "";
        say(`eventfold: ${error instanceof Error ? error.message : String(error)}${next}`);
      },
    });
    await line(
      `relaying ${url.label} to JetStream stream ${running.info().stream} on ${options.servers.join(", ")} ` +
        `(subject ${subject}${options.types === undefined ? "" : `, types ${options.types.join(", ")}`}, ` +
        `checkpoint ${running.checkpoint}); Ctrl-C stops`,
      {
        event: "started",
        name: running.name,
        stream: options.stream,
        subject,
        checkpoint: running.checkpoint,
      },
    );
    let shown = "";
    const status = async () => {
      const info = running.info();
      const key = `${info.state} ${info.position} ${info.relayed}`;
      if (key === shown) return;
      shown = key;
      await line(
        `${info.state}: ${plural(info.relayed, "event")} relayed, at position ${info.position ?? "none"} ` +
          `(JetStream sequence ${info.sequence})`,
        { event: "status", ...info },
      );
    };
    const timer = setInterval(() => void status().catch(() => {}), STATUS_EVERY);
    try {
      await running.done;
    } catch (error) {
      if (isRelayError(error)) throw new CliFailure(error.message, { cause: error });
      throw error;
    } finally {
      clearInterval(timer);
      await running.stop();
    }
    await status();
    return EXIT.ok;
  });
}

/** `eventfold relay`. */
export const relayCommand: Command = {
  name: "relay",
  summary: "publish the log, in order, to a NATS JetStream stream, and follow it",
  usage: [
    "relay --store URL --subject TEMPLATE [--nats URL[,URL...]] [--stream NAME] [--types A,B] [--name N]",
    "      [--codec cbor|json] [--lease-ttl MS] [--json]",
  ],
  description:
    "Publishes every event of the store, in log order, to the JetStream stream NAME (created when\n" +
    "missing, taking the template's subjects; default EVENTS), then follows the log until Ctrl-C.\n" +
    "TEMPLATE names the subject of each event with {type} and {stream} (each value percent-encoded\n" +
    "into one token: events.{type}). The event id is the Nats-Msg-Id; headers carry the stream, type,\n" +
    "revision, position and times; the body is the whole record (CBOR, or JSON with --codec json).\n" +
    "The checkpoint $relay:N (N: --name, default the stream's name) moves only after JetStream\n" +
    "acknowledged, and a restarted relay goes on after the stream's last message: nothing is lost or\n" +
    "published twice. One relay per name runs; another waits and takes over when it dies (SQLite:\n" +
    "after --lease-ttl, default 5000 ms). NATS down: reported on stderr and retried with backoff.\n" +
    "Status lines go to stdout (one JSON object each with --json).",
  flags: {
    ...STORE_FLAG,
    nats: {
      type: "string",
      value: "URL",
      description: "the NATS servers, comma-separated (default $EVENTFOLD_NATS or nats://127.0.0.1:4222)",
    },
    subject: { type: "string", value: "TEMPLATE", description: "the subject of each event: events.{type}" },
    stream: { type: "string", value: "NAME", description: "the JetStream stream (default EVENTS)" },
    types: { type: "list", value: "A,B", description: "only these event types, comma-separated" },
    name: {
      type: "string",
      value: "N",
      description: "the relay's name: checkpoint $relay:N (default the stream)",
    },
    codec: { type: "string", value: "CODEC", description: "the body's codec: cbor (default) or json" },
    "lease-ttl": {
      type: "integer",
      value: "MS",
      description: "how long a dead relay's lease holds on SQLite (default 5000)",
    },
    ...JSON_FLAG,
  },
  examples: [
    [
      "Every event, one subject per type",
      "eventfold relay --store sqlite:./events.db --nats nats://127.0.0.1:4222 --subject 'events.{type}'",
    ],
    [
      "Orders only, to their own stream",
      "eventfold relay -s postgres://app@db/app --subject 'orders.{stream}.{type}' --stream ORDERS --types order:placed,order:paid",
    ],
  ],
  run,
};
