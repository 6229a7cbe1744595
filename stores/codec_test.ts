import assert from "node:assert/strict";
import { cborCodec, jsonCodec } from "./codec.ts";

Deno.test("cborCodec gives back -0 and own __proto__ keys exactly, wherever they are", () => {
  const value = {
    n: -0,
    list: [1, -0, { z: -0 }],
    map: new Map<unknown, unknown>([[-0, JSON.parse('{"__proto__": {"x": -0}}')]]),
    set: new Set([-0]),
    own: JSON.parse('{"__proto__": 1, "__proto_": 2, "b": [-0]}'),
  };
  const back = cborCodec.decode(cborCodec.encode(value)) as typeof value;
  assert.deepStrictEqual(back, value);
  assert.equal(Object.getPrototypeOf(back.own), Object.prototype, "the key did not become the prototype");
  assert.deepEqual(Object.keys(back.own), ["__proto__", "__proto_", "b"]);
  assert.ok(Object.is(cborCodec.decode(cborCodec.encode(-0)), -0));
});

Deno.test("jsonCodec keeps an own __proto__ key as a key", () => {
  const back = jsonCodec.decode(jsonCodec.encode(JSON.parse('{"__proto__": {"x": 1}}'))) as object;
  assert.deepStrictEqual(Object.keys(back), ["__proto__"]);
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
});
