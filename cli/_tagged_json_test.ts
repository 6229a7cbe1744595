import assert from "node:assert/strict";
import { decode, encode, MAX_BIGINT_DIGITS, MAX_DEPTH, TaggedJsonError } from "./_tagged_json.ts";

function roundTrip(value: unknown): unknown {
  return decode(JSON.parse(JSON.stringify(encode(value))));
}

Deno.test("tagged JSON keeps every CBOR-only value through JSON text", () => {
  const value = {
    date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
    invalidDate: new Date(NaN),
    big: [0n, -(2n ** 80n), 2n ** 64n],
    numbers: [NaN, Infinity, -Infinity, -0, 0, 1.5],
    missing: undefined,
    holes: [1, undefined, 3],
    bytes: new Uint8Array([0, 1, 254, 255]),
    floats: new Float32Array([1.5, -2]),
    ints: new BigInt64Array([-1n, 2n]),
    buffer: new Uint8Array([9, 8]).buffer,
    map: new Map<unknown, unknown>([[1, "one"], ["k", new Map([[new Date(0), 2n]])]]),
    set: new Set([1, "two", 3n]),
    regexp: /a+b/gi,
    text: "nul \u0000 and emoji \u{1F600}",
    __proto__plain: { a: 1 },
  };
  const back = roundTrip(value) as typeof value;
  assert.deepEqual(back, value);
  assert(Object.is((back.numbers as number[])[3], -0));
  assert(back.bytes instanceof Uint8Array && back.floats instanceof Float32Array);
  assert("missing" in back && back.missing === undefined);
});

Deno.test("tagged JSON escapes plain objects that look like tags", () => {
  const value = { $date: "not a date" };
  const text = JSON.stringify(encode(value));
  assert.equal(text, '{"$object":{"$date":"not a date"}}');
  assert.deepEqual(roundTrip(value), value);
  assert.deepEqual(roundTrip({ $a: 1, $b: 2 }), { $a: 1, $b: 2 });
});

Deno.test("tagged JSON leaves plain JSON values as they are", () => {
  const value = { a: [1, "x", null, true, { b: 2 }] };
  assert.equal(JSON.stringify(encode(value)), JSON.stringify(value));
});

Deno.test("tagged JSON keeps a __proto__ key as data, not as a prototype", () => {
  const parsed = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}');
  const back = decode(parsed) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.deepEqual(Object.keys(back), ["__proto__", "x"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("tagged JSON names the path of an unknown tag or a bad tag value", () => {
  assert.throws(
    () => decode({ a: [{ $nope: 1 }] }),
    (error: unknown) => error instanceof TaggedJsonError && error.where("data") === "data.a.0.$nope",
  );
  assert.throws(() => decode({ $bigint: "12x" }), /\$bigint needs/);
  assert.throws(() => decode({ $bytes: "!!" }), /base64/);
  assert.throws(() => decode({ $typed: ["Float64Array", "AQID"] }), /whole Float64Array/);
});

Deno.test("tagged JSON refuses functions and symbols with their path", () => {
  assert.throws(
    () => encode({ handler: [() => 1] }),
    (error: unknown) => error instanceof TaggedJsonError && error.where("meta") === "meta.handler.0",
  );
  assert.throws(() => encode(Symbol("s")), /cannot export a symbol/);
});

Deno.test("tagged JSON bounds depth and bigint size both ways, naming the path", async (t) => {
  const nest = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };
  await t.step(`${MAX_DEPTH} levels pass, one more is refused`, () => {
    assert.deepEqual(roundTrip(nest(MAX_DEPTH)), nest(MAX_DEPTH));
    assert.throws(() => encode(nest(MAX_DEPTH + 1)), /nested deeper than 256 levels/);
    assert.throws(
      () => decode(JSON.parse(JSON.stringify(nest(MAX_DEPTH + 1)))),
      /nested deeper than 256 levels/,
    );
  });
  await t.step("5,000 levels are a TaggedJsonError, not a blown stack", () => {
    const deep = JSON.parse("[".repeat(5000) + "]".repeat(5000));
    assert.throws(
      () => decode(deep),
      (error: unknown) => error instanceof TaggedJsonError && /\(\d+ more\)/.test(error.where("data")),
    );
  });
  await t.step(`a $bigint of ${MAX_BIGINT_DIGITS} digits passes, a longer one is refused at once`, () => {
    const most = "-" + "9".repeat(MAX_BIGINT_DIGITS);
    assert.equal(decode({ $bigint: most }), BigInt(most));
    const started = performance.now();
    assert.throws(() => decode({ $bigint: "7".repeat(1_000_000) }), /at most 10,000 digits/);
    assert(performance.now() - started < 1000, "refused without converting it");
    assert.throws(() => encode(10n ** BigInt(MAX_BIGINT_DIGITS)), /more than 10,000 digits/);
  });
});
