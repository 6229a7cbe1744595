/**
 * `eventfold forget`: destroys a subject's data key (crypto-shredding). Afterwards the
 * subject's personal fields read as `null`, with `forgotten: true`, in every read of the
 * store, and no export, copy or backup can recover them. Like `store.forget`, it appends a
 * `"$subject:forgotten"` record, which sync takes to the other stores.
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
import { summary } from "../_summary.ts";

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "forget", 1);
  const subject = args.positionals[0];
  if (subject === undefined || subject === "") {
    throw new UsageError("give the subject to forget: eventfold forget --store URL SUBJECT");
  }
  const url = storeUrl(args);
  const destroyed = await withStore(url, { create: false }, async ({ adapter, store }) => {
    if (typeof adapter.deleteKey !== "function") {
      throw new CliFailure(`${url.label} holds no keys (the ${adapter.kind} adapter has no key storage)`);
    }
    return await store.forget(subject);
  });
  await summary(
    io,
    destroyed
      ? `forgot ${
        JSON.stringify(subject)
      } in ${url.label}: its key is destroyed, its personal fields read as null`
      : `${
        JSON.stringify(subject)
      } has no key in ${url.label} (forgotten already, or never given personal data)`,
    { subject, destroyed },
  );
  return EXIT.ok;
}

/** `eventfold forget`. */
export const forget: Command = {
  name: "forget",
  summary: "destroy a subject's key: its personal fields read as null from then on",
  usage: ["forget --store URL SUBJECT [--json]"],
  description:
    "Destroys the data key of SUBJECT, the key the personal fields of its events (definitions with\n" +
    ".personal({ subject, fields })) were encrypted with. Every later read returns those fields as\n" +
    "null with forgotten: true; the rest of each record stays readable and verify still passes.\n" +
    "Idempotent: forgetting a subject twice, or one without a key, destroys nothing (exit code 0).\n" +
    "Each call appends a $subject:forgotten record to the $streams stream, for projectors, and for\n" +
    "sync, which forgets the subject in every store the subject's events went to.",
  flags: { ...STORE_FLAG, ...JSON_FLAG },
  examples: [["Erase a person's personal data", "eventfold forget --store sqlite:./events.db user-42"]],
  run,
};
