import assert from "node:assert/strict";
import { encodeCbor, MAX_CBOR_DEPTH } from "./_cbor_encode.ts";
import { decodeCbor } from "./_cbor_decode.ts";

const values: [string, unknown][] = [
  ["null", null],
  ["booleans", [true, false]],
  ["undefined", undefined],
  ["small integers", [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, -1, -24, -25, -(2 ** 32)]],
  ["large integers stay numbers", [2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), -(2 ** 32) - 1]],
  ["doubles", [0.1, -1.5, 1e300, Number.MIN_VALUE, Number.EPSILON]],
  ["-0, NaN and the infinities", [-0, NaN, Infinity, -Infinity]],
  ["bigints stay bigints", [
    0n,
    10n,
    -5n,
    2n ** 64n - 1n,
    -(2n ** 64n),
    2n ** 64n,
    -(2n ** 64n) - 1n,
    2n ** 200n,
  ]],
  ["strings", [
    "",
    "a",
    "ascii text of some length that is over sixty-four characters long!",
    "é",
    "€",
    "😀",
    "a😀b".repeat(30),
  ]],
  ["strings of every head size", [
    "x".repeat(23),
    "x".repeat(24),
    "é".repeat(12),
    "€".repeat(21),
    "x".repeat(300),
    "x".repeat(70000),
  ]],
  ["NUL in strings", "a\u0000b"],
  ["objects", { a: 1, nested: { b: [1, { c: "d" }] }, "": "empty key", "ключ": "unicode key" }],
  ["an own __proto__ key", JSON.parse('{"__proto__": {"polluted": true}, "x": 1}')],
  ["dates", [new Date(0), new Date(1700000000123), new Date(-1), new Date(8.64e15), new Date(1234)]],
  ["maps", new Map<unknown, unknown>([[1, "a"], ["k", new Map([[true, null]])], [2n, [1]]])],
  ["sets", new Set<unknown>([1, "a", 2n, null])],
  ["bytes", new Uint8Array([0, 1, 255])],
  ["typed arrays", [
    new Uint16Array([1, 65535]),
    new Uint32Array([7]),
    new Int8Array([-1]),
    new Int16Array([-300]),
    new Int32Array([-1, 5]),
    new Float32Array([1.5]),
    new Float64Array([Math.PI]),
    new BigInt64Array([-1n]),
    new BigUint64Array([2n ** 63n]),
    new Uint8ClampedArray([9]),
  ]],
];

Deno.test("encodeCbor/decodeCbor give every kind of value back exactly", async (t) => {
  for (const [name, value] of values) {
    await t.step(name, () => assert.deepStrictEqual(decodeCbor(encodeCbor(value)), value));
  }
});

// What cbor-x 1.6 (`new Encoder({ useRecords: false, mapsAsObjects: true })`, the codec of
// version 0.1 stores) wrote for the values above of the same name.
const writtenByCborX: Record<string, string> = {
  "null": "f6",
  "booleans": "82f5f4",
  "undefined": "f7",
  "small integers": "8d000117181818ff19010019ffff1a000100001affffffff203738183affffffff",
  "large integers stay numbers": "84fb41f0000000000000fb433ffffffffffffffbc33ffffffffffffffbc1f0000000100000",
  "doubles": "85fb3fb999999999999afbbff8000000000000fb7e37e43c8800759cfb0000000000000001fb3cb0000000000000",
  "bigints stay bigints":
    "881b00000000000000001b000000000000000a3b00000000000000041bffffffffffffffffc348ffffffffffffffffc249010000000000000000c349010000000000000000c2581a0100000000000000000000000000000000000000000000000000",
  "strings":
    "87606161784261736369692074657874206f6620736f6d65206c656e6774682074686174206973206f7665722073697874792d666f75722063686172616374657273206c6f6e672162c3a963e282ac64f09f988078b461f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f98806261f09f988062",
  "NUL in strings": "63610062",
  "objects":
    "b90004616101666e6573746564b9000161628201b90001616361646069656d707479206b657968d0bad0bbd18ed1876b756e69636f6465206b6579",
  "dates": "85c11a00000000c1fb41d954fc4007df3bc1fbbf50624dd2f1a9fcc1fb429f6ea086000000c1fb3ff3be76c8b43958",
  "maps": "d90103a3016161616bd90103a1f5f61b00000000000000028101",
  "sets": "d90102840161611b0000000000000002f6",
  "bytes": "d840430001ff",
  "typed arrays":
    "8ad845440100ffffd8464407000000d84841ffd84d42d4fed84e48ffffffff05000000d855440000c03fd85648182d4454fb210940d84f48ffffffffffffffffd847480000000000000080d8444109",
};

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(hex.match(/../g)!.map((byte) => parseInt(byte, 16)));
}

Deno.test("decodeCbor reads what cbor-x wrote for version 0.1 stores", async (t) => {
  for (const [name, value] of values) {
    const hex = writtenByCborX[name];
    if (hex === undefined) continue;
    await t.step(name, () => assert.deepStrictEqual(decodeCbor(fromHex(hex)), value));
  }
  assert.equal(Object.keys(writtenByCborX).length, values.length - 3);
});

Deno.test("encodeCbor writes the shortest heads", () => {
  assert.deepStrictEqual(encodeCbor(0), new Uint8Array([0x00]));
  assert.deepStrictEqual(encodeCbor(-1), new Uint8Array([0x20]));
  assert.deepStrictEqual(encodeCbor("a"), new Uint8Array([0x61, 0x61]));
  assert.deepStrictEqual(encodeCbor("é".repeat(4)).slice(0, 1), new Uint8Array([0x68]));
  assert.deepStrictEqual(encodeCbor({ a: 1 }), new Uint8Array([0xa1, 0x61, 0x61, 0x01]));
  assert.deepStrictEqual(encodeCbor(-0), new Uint8Array([0xf9, 0x80, 0x00]));
});

Deno.test("encodeCbor refuses what it cannot write exactly, naming the path", () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  let deep: unknown = 1;
  for (let i = 0; i < MAX_CBOR_DEPTH + 1; i++) deep = [deep];
  const cases: [unknown, RegExp][] = [
    [{ f: () => 1 }, /\.f: a function is not data/],
    [{ s: Symbol("x") }, /\.s: a symbol is not data/],
    [{ t: "a\uD800b" }, /\.t: a lone surrogate/],
    [{ t: "x".repeat(100) + "\uDC00" }, /\.t: a lone surrogate/],
    [{ ["k\uD800"]: 1 }, /lone surrogate/],
    [circular, /deeper than|circular/],
    [deep, /deeper than/],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => encodeCbor(value), { name: "TypeError", message });
  }
  // A failed encode leaves the encoder usable.
  assert.deepStrictEqual(decodeCbor(encodeCbor({ ok: true })), { ok: true });
});

Deno.test("encodeCbor writes a class instance as its own fields, as cbor-x did for snapshot state", () => {
  class Money {
    constructor(readonly amount: number, readonly currency: string) {}
  }
  assert.deepStrictEqual(decodeCbor(encodeCbor({ price: new Money(5, "EUR") })), {
    price: { amount: 5, currency: "EUR" },
  });
});

Deno.test("decodeCbor refuses malformed bytes with a RangeError naming the byte", () => {
  const cases: [number[], RegExp][] = [
    [[], /end of data/],
    [[0x62, 0x61], /end of data/],
    [[0x01, 0x02], /1 bytes after the value/],
    [[0x62, 0xff, 0xfe], /not UTF-8/],
    [[0xc6, 0x01], /unknown tag 6/],
    [[0xe0], /simple value 0/],
    [[0x1c], /reserved/],
    [[0xff], /break code/],
    [[0xd9, 0x01, 0x03, 0x01], /tag 259 on a non-map/],
    [[0xd8, 0x45, 0x43, 0, 0, 0], /partial element/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => decodeCbor(new Uint8Array(bytes)), { name: "RangeError", message });
  }
  const deep = new Uint8Array(MAX_CBOR_DEPTH + 2).fill(0x81);
  deep[deep.length - 1] = 0x00;
  assert.throws(() => decodeCbor(deep), { name: "RangeError", message: /deeper than/ });
});

Deno.test("decodeCbor reads indefinite-length arrays and maps, and a view into a larger buffer", () => {
  assert.deepStrictEqual(decodeCbor(new Uint8Array([0x9f, 0x01, 0x02, 0xff])), [1, 2]);
  assert.deepStrictEqual(decodeCbor(new Uint8Array([0xbf, 0x61, 0x61, 0x01, 0xff])), { a: 1 });
  const padded = new Uint8Array([9, 9, ...encodeCbor({ n: 2 ** 40, d: new Date(5) }), 9]);
  assert.deepStrictEqual(decodeCbor(padded.subarray(2, padded.length - 1)), { n: 2 ** 40, d: new Date(5) });
});

Deno.test("encodeCbor called from inside an encode (a getter) leaves both values intact", () => {
  const inner = { deep: [1, "two", { three: 3n }] };
  let innerBytes: Uint8Array | undefined;
  const outer = {
    before: "x".repeat(100),
    get lazy() {
      innerBytes = encodeCbor(inner);
      return "computed";
    },
    after: [1, 2, 3],
  };
  const bytes = encodeCbor(outer);
  assert.deepStrictEqual(decodeCbor(bytes), { before: "x".repeat(100), lazy: "computed", after: [1, 2, 3] });
  assert.deepStrictEqual(decodeCbor(innerBytes!), inner);
});

Deno.test("very large bigints round-trip, and a long chain of tags is refused like deep nesting", () => {
  for (const n of [2n ** 100_000n + 12345n, -(3n ** 50_000n)]) assert.equal(decodeCbor(encodeCbor(n)), n);
  const chain = new Uint8Array(3 * 100_000 + 1);
  for (let i = 0; i < 100_000; i++) chain.set([0xd9, 0xd9, 0xf7], i * 3);
  assert.throws(() => decodeCbor(chain), { name: "RangeError", message: /deeper than/ });
});

Deno.test("encodeCbor names the key that holds a lone surrogate", () => {
  assert.throws(() => encodeCbor({ outer: { ["bad\uD800key"]: 1 } }), {
    name: "TypeError",
    message: /\.outer\.<key "bad/,
  });
});
