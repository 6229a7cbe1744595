import assert from "node:assert/strict";
import { forgottenField } from "../events/personal.ts";
import { getAt, sealedFields, setAt } from "./_data_paths.ts";
import { cleared, forgottenData } from "./_forgotten.ts";

Deno.test("setAt copies the objects and arrays along a path and changes nothing of the caller's", () => {
  const data = { items: [{ email: "a" }, { email: "b" }], name: "x" };
  const out = setAt(data, ["items", "1", "email"], null) as typeof data;
  assert.deepEqual(out, { items: [{ email: "a" }, { email: null }], name: "x" });
  assert.ok(Array.isArray(out.items), "an array stays an array");
  assert.equal(data.items[1].email, "b", "the caller's data is untouched");
  assert.equal(getAt(out, ["items", "1", "email"]), null);
  assert.equal(getAt(out, ["items", "7", "email"]), undefined);
  assert.equal(getAt(out, ["name", "length"]), undefined, "no step into a string");
});

Deno.test("sealed fields in arrays are found, forgotten and cleared where they are", () => {
  const sealed = { $sealed: "AAAA", $subject: "s", $key: "k1" };
  const data = { list: [sealed, { deep: sealed }], keep: 1 };
  const paths: string[] = [];
  sealedFields(data, (_, path) => void paths.push(path.join(".")));
  assert.deepEqual(paths, ["list.0", "list.1.deep"]);
  assert.deepEqual(forgottenData(data), {
    list: [forgottenField("s"), { deep: forgottenField("s") }],
    keep: 1,
  });
  assert.deepEqual(cleared(data), { list: [null, { deep: null }], keep: 1 });
});
