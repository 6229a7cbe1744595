import assert from "node:assert/strict";
import { type FlagSpecs, parseArgs } from "./_args.ts";
import { UsageError } from "./_errors.ts";

const specs: FlagSpecs = {
  store: { type: "string", short: "s", description: "" },
  limit: { type: "integer", short: "n", description: "" },
  follow: { type: "boolean", short: "f", description: "" },
  type: { type: "list", description: "" },
};

Deno.test("parseArgs reads long, short, inline, boolean and repeated flags", () => {
  const args = parseArgs(
    ["-s", "memory:", "--limit=5", "-f", "--type", "a", "--type=b", "file.ndjson", "--", "--not-a-flag"],
    specs,
    "eventfold x",
  );
  assert.equal(args.string("store"), "memory:");
  assert.equal(args.integer("limit"), 5);
  assert.equal(args.boolean("follow"), true);
  assert.deepEqual(args.list("type"), ["a", "b"]);
  assert.deepEqual(args.positionals, ["file.ndjson", "--not-a-flag"]);
});

Deno.test("parseArgs takes - as a positional and values that start with a digit", () => {
  const args = parseArgs(["-", "--limit", "7"], specs, "eventfold x");
  assert.deepEqual(args.positionals, ["-"]);
  assert.equal(args.integer("limit"), 7);
});

Deno.test("parseArgs rejects unknown flags, missing values, bad integers and repeats", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--nope"], /unknown flag --nope for "eventfold x"/],
    [["-z"], /unknown flag -z/],
    [["--store"], /--store needs a value/],
    [["--store", "--follow"], /--store needs a value/],
    [["--limit", "ten"], /--limit needs a whole number/],
    [["--limit", "-1"], /--limit needs a whole number/],
    [["-s", "a", "-s", "b"], /--store is given twice/],
    [["--follow=yes"], /--follow takes no value/],
  ];
  for (const [argv, message] of cases) {
    await t.step(argv.join(" "), () => {
      assert.throws(
        () => parseArgs(argv, specs, "eventfold x"),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    });
  }
});
