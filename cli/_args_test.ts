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

Deno.test("parseArgs says what was wrong in the tool's words", () => {
  const message = (argv: string[]): string => {
    try {
      parseArgs(argv, specs, "eventfold x");
    } catch (error) {
      if (error instanceof UsageError) return error.message;
      throw error;
    }
    throw new Error("no UsageError");
  };
  assert.equal(message(["--nope=1"]), 'unknown flag --nope for "eventfold x" (see eventfold x --help)');
  assert.equal(message(["--limit", "-1"]), '--limit needs a whole number >= 0, got "-1"');
  assert.equal(message(["--type"]), "--type needs a value");
  assert.equal(message(["--store", "--"]), "--store needs a value");
  assert.equal(message(["--follow=1"]), '--follow takes no value (or =true / =false), got "1"');
});

Deno.test("parseArgs takes =true / =false on booleans, -s=value, and values that start with -digit", () => {
  const args = parseArgs(
    ["--follow=true", "--follow=false", "-s=memory:", "--type", "-1", "--type=--x"],
    specs,
    "eventfold x",
  );
  assert.equal(args.boolean("follow"), false);
  assert.equal(args.has("follow"), false);
  assert.equal(args.string("store"), "memory:");
  assert.deepEqual(args.list("type"), ["-1", "--x"]);
  assert.equal(parseArgs(["--follow=true"], specs, "eventfold x").boolean("follow"), true);
  assert.deepEqual(parseArgs(["-fs", "a"], specs, "eventfold x").string("store"), "a");
});
