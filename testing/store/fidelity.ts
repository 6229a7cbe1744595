/**
 * Conformance cases about fidelity: what goes in comes out exactly, or the append is
 * refused with `EventValidationError` naming the path, and nothing is stored. One table
 * of values, each with its outcome under the two kinds of codec (`"structured"`: CBOR and
 * the memory store; `"json"`), and the record an append returns equal to what a later
 * read returns.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EventValidationError } from "../../errors.ts";
import { event } from "../../events/event.ts";
import { EventFactory } from "../../events/factory.ts";
import type { StandardSchemaV1 } from "../../events/standard_schema.ts";
import type { Adapter } from "../../contract/mod.ts";
import type { Codec } from "../../stores/codec.ts";
import { EventStore } from "../../stores/event_store.ts";
import { type Case, type CaseContext, collect, fail } from "../_fixture.ts";

/** Accepts anything unchanged, so the store's own rule is what decides. */
const anything: StandardSchemaV1<unknown, unknown> = {
  "~standard": { version: 1, vendor: "eventfold-conformance", validate: (value) => ({ value }) },
};

/** `Deno.inspect` where there is one; the suite also runs bundled in a browser page. */
function inspect(value: unknown): string {
  if (typeof Deno !== "undefined") return Deno.inspect(value);
  try {
    return JSON.stringify(value, (_, v) => typeof v === "bigint" ? `${v}n` : v) ?? String(value);
  } catch {
    return String(value);
  }
}

const payloads = new EventFactory([event.type("payload").data(anything).meta(anything)]);

type Rule = "structured" | "json" | "any";

/** The outcome under one rule: `true` kept exactly, or the path of the refusal. */
type Outcome = true | string;

interface Row {
  readonly name: string;
  readonly value: () => unknown;
  readonly structured: Outcome;
  readonly json: Outcome;
  /** Put the value in `meta` rather than `data`. */
  readonly meta?: boolean;
}

function nested(levels: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

function circular(): unknown {
  const value: { items: unknown[] } = { items: [] };
  value.items.push({ name: "x", parent: value });
  return value;
}

function holed(): unknown[] {
  const list = [1, 2, 3];
  delete list[1];
  return list;
}

class Money {
  constructor(readonly cents: number) {}
}

const ITEMS = (name: unknown) => ({ items: [{}, {}, {}, { name }] });

/** The fidelity table; the README's "What goes in comes out" says the same. */
const TABLE: readonly Row[] = [
  {
    name: "nested objects, arrays, unicode",
    value: () => ({ a: [1, "é", "😀", { b: null, c: true }], e: "" }),
    structured: true,
    json: true,
  },
  {
    name: "numbers JSON holds",
    value: () => ({ n: [0, 1.5, -7, 1e300, 5e-324, Number.MAX_SAFE_INTEGER] }),
    structured: true,
    json: true,
  },
  {
    name: "an own __proto__ key",
    value: () => JSON.parse('{"__proto__": {"x": 1}, "__proto_": 2}'),
    structured: true,
    json: true,
  },
  {
    name: "an own __proto__ key in meta",
    value: () => JSON.parse('{"__proto__": "m"}'),
    structured: true,
    json: true,
    meta: true,
  },
  { name: "-0", value: () => ({ n: [1, -0] }), structured: true, json: "data.n[1]" },
  { name: "-0 as the whole payload", value: () => -0, structured: true, json: "data" },
  { name: "NaN", value: () => ({ n: NaN }), structured: true, json: "data.n" },
  { name: "Infinity", value: () => ({ n: [Infinity, -Infinity] }), structured: true, json: "data.n[0]" },
  { name: "U+0000 in a string", value: () => ({ s: "a\u0000b" }), structured: true, json: "data.s" },
  {
    name: "a Date",
    value: () => ITEMS(new Date(1_700_000_000_123)),
    structured: true,
    json: "data.items[3].name",
  },
  { name: "an invalid Date", value: () => ({ at: new Date(NaN) }), structured: true, json: "data.at" },
  { name: "bigint", value: () => ({ n: 10n, big: -(2n ** 100n) }), structured: true, json: "data.n" },
  {
    name: "a Map",
    value: () => ({ m: new Map<unknown, unknown>([[1, "a"], ["k", { x: [1] }]]) }),
    structured: true,
    json: "data.m",
  },
  { name: "a Set", value: () => ({ s: new Set([1, "a"]) }), structured: true, json: "data.s" },
  {
    name: "typed arrays",
    value: () => ({ b: new Uint8Array([1, 2]), f: new Float64Array([-0, NaN]), i: new BigInt64Array([-1n]) }),
    structured: true,
    json: "data.b",
  },
  {
    name: "undefined in an object and an array",
    value: () => ({ u: undefined, a: [undefined] }),
    structured: true,
    json: "data.u",
  },
  { name: "nesting at the limit (256)", value: () => nested(256), structured: true, json: true },
  {
    name: "a lone surrogate in a string",
    value: () => ITEMS("a\uD800b"),
    structured: "data.items[3].name",
    json: "data.items[3].name",
  },
  {
    name: "a lone surrogate in a key",
    value: () => ({ ["k\uDC00"]: 1 }),
    structured: 'data["k\\udc00"]',
    json: 'data["k\\udc00"]',
  },
  {
    name: "a lone surrogate in meta",
    value: () => ({ by: "\uD800" }),
    structured: "meta.by",
    json: "meta.by",
    meta: true,
  },
  { name: "a hole in an array", value: () => ({ a: holed() }), structured: "data.a[1]", json: "data.a[1]" },
  { name: "a function", value: () => ({ f: () => 1 }), structured: "data.f", json: "data.f" },
  { name: "a symbol", value: () => ({ s: Symbol("s") }), structured: "data.s", json: "data.s" },
  { name: "a symbol key", value: () => ({ [Symbol("k")]: 1 }), structured: "data", json: "data" },
  {
    name: "a class instance",
    value: () => ({ price: new Money(5) }),
    structured: "data.price",
    json: "data.price",
  },
  {
    name: "an object without a prototype",
    value: () => ({ o: Object.create(null) }),
    structured: "data.o",
    json: "data.o",
  },
  {
    name: "a circular object",
    value: circular,
    structured: "data.items[0].parent",
    json: "data.items[0].parent",
  },
  {
    name: "nesting past the limit (257)",
    value: () => nested(257),
    structured: "data" + "[0]".repeat(256),
    json: "data" + "[0]".repeat(256),
  },
  {
    name: "nesting 10,000 deep",
    value: () => nested(10_000),
    structured: "data" + "[0]".repeat(256),
    json: "data" + "[0]".repeat(256),
  },
];

/** The rule of the adapter's codec, asked the way the store asks it. */
async function ruleOf(adapter: Adapter): Promise<Rule> {
  const member = (adapter as { codec?: Codec | (() => Promise<Codec>) }).codec;
  const codec = typeof member === "function" ? await member.call(adapter) : member;
  if (codec === undefined) return "structured";
  return codec.fidelity ?? "any";
}

function expected(row: Row, rule: Rule): Outcome | undefined {
  if (rule !== "any") return row[rule];
  // A codec that says nothing: only what both kinds agree on is certain.
  return row.structured === row.json ? row.structured : undefined;
}

async function fidelityTable(ctx: CaseContext): Promise<void> {
  const adapter = await ctx.adapter();
  await using store = new EventStore({ adapter, events: payloads });
  const rule = await ruleOf(adapter);
  const kept: { name: string; id: string; value: unknown; record: unknown }[] = [];
  const wrong: string[] = [];
  for (const row of TABLE) {
    const outcome = expected(row, rule);
    if (outcome === undefined) continue;
    const value = row.value();
    const input = row.meta
      ? { type: "payload" as const, stream: "fidelity", data: 1, meta: value }
      : { type: "payload" as const, stream: "fidelity", data: value, meta: null };
    try {
      const record = await store.pushEvent(input);
      if (outcome !== true) {
        wrong.push(`${row.name}: expected a refusal at ${outcome}, but it was stored`);
        continue;
      }
      const back = row.meta ? record.meta : record.data;
      try {
        assert.deepStrictEqual(back, value);
      } catch {
        wrong.push(
          `${row.name}: the returned record holds ${inspect(back)}, not ${inspect(value)}`,
        );
      }
      kept.push({ name: row.name, id: record.id, value, record });
    } catch (error) {
      if (outcome === true) {
        wrong.push(
          `${row.name}: expected it kept, got ${(error as Error).name}: ${(error as Error).message}`,
        );
      } else if (!(error instanceof EventValidationError)) {
        wrong.push(
          `${row.name}: expected EventValidationError, got ${(error as Error).name}: ${
            (error as Error).message
          }`,
        );
      } else if (error.type !== "payload" || error.issues.map((issue) => issue.path).join() !== outcome) {
        wrong.push(
          `${row.name}: expected the path ${outcome}, got ${error.issues.map((i) => i.path).join()}`,
        );
      }
    }
  }
  // What a later read returns equals what the append returned, field by field.
  const read = await collect(store.readStream("fidelity"));
  assert.equal(read.length, kept.length, "exactly the kept values are stored");
  for (let i = 0; i < kept.length; i++) {
    try {
      assert.deepStrictEqual(read[i], kept[i].record);
    } catch {
      wrong.push(
        `${kept[i].name}: a read returns ${inspect(read[i])}, the append returned ${inspect(kept[i].record)}`,
      );
    }
  }
  const log = await store.getEvents();
  for (let i = 0; i < kept.length; i++) {
    try {
      assert.deepStrictEqual(log[i], read[i]);
    } catch {
      wrong.push(`${kept[i].name}: the log read differs from the stream read`);
    }
  }
  if (wrong.length > 0) fail(`Fidelity (${rule} rule):\n  ${wrong.join("\n  ")}`);
}

/** Cases about payload fidelity. */
export const fidelityCases: readonly Case[] = [
  {
    name:
      "payloads come back exactly or are refused with EventValidationError naming the path (fidelity table)",
    run: fidelityTable,
  },
  {
    name:
      "one unencodable payload in a call stores nothing of the call and opens no transaction, on pushManyEvents and import",
    async run(ctx) {
      const adapter = await ctx.adapter();
      let transactions = 0;
      const counting = new Proxy(adapter, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          if (typeof value !== "function") return value;
          if (property !== "transaction") return value.bind(target);
          return (...args: unknown[]) => {
            transactions++;
            return value.apply(target, args);
          };
        },
      }) as Adapter;
      await using store = new EventStore({ adapter: counting, events: payloads });
      await store.pushEvent({ type: "payload", stream: "a", data: { ok: 1 }, meta: null });
      const opened = transactions;
      const before = await store.getEvents();
      const good = () => store.event({ type: "payload", stream: "a", data: { ok: 2 }, meta: null });
      for (const bad of [() => 1, Symbol("x"), circular(), nested(10_000)]) {
        for (const call of ["push", "import"] as const) {
          const events = [
            good(),
            store.event({ type: "payload", stream: "b", data: { bad }, meta: null }),
            good(),
          ];
          const attempt = call === "push" ? store.pushManyEvents(events) : store.import(events);
          await assert.rejects(attempt, (error: Error) => {
            assert.ok(error instanceof EventValidationError, `${call}: got ${error.name}: ${error.message}`);
            assert.equal(error.type, "payload");
            assert.ok(error.issues[0].path.startsWith("data.bad"), error.issues[0].path);
            return true;
          });
        }
      }
      assert.equal(transactions, opened, "refused before any transaction was opened");
      assert.deepStrictEqual(await store.getEvents(), before, "nothing was stored");
    },
  },
];
