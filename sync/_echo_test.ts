import assert from "node:assert/strict";
import { echoes, MAX_ECHOES } from "./_echo.ts";

Deno.test("echo memory: noted before the import, kept once stored, dropped when the peer's cursor passes", () => {
  const store = {};
  const echo = echoes(store, "peer");
  echo.expect(["a", "b", "c"]);
  assert(echo.has("a") && echo.has("b") && echo.has("c"), "known while the import runs");
  echo.settle([{ id: "a", position: "01" }, { id: "b", position: "02" }], ["c"]);
  assert(!echo.has("c"), "an id the store held before is not an echo of this peer");
  echo.passed("01");
  assert(!echo.has("a") && echo.has("b"));
  echo.expect(["d"]);
  echo.forget(["d"]);
  assert(!echo.has("d"), "a failed import forgets its ids");
  assert(!echoes(store, "other").has("b"), "per peer");
  assert(!echoes({}, "peer").has("b"), "per store");
});

Deno.test("echo memory keeps at most MAX_ECHOES ids per peer, forgetting the oldest", () => {
  const echo = echoes({}, "peer");
  const ids = Array.from({ length: MAX_ECHOES + 10 }, (_, i) => `id-${i}`);
  echo.expect(ids);
  assert(!echo.has("id-0") && !echo.has("id-9") && echo.has("id-10") && echo.has(`id-${MAX_ECHOES + 9}`));
});
