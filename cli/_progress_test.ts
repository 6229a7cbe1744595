import assert from "node:assert/strict";
import { progressLine } from "./_progress.ts";

Deno.test("progressLine fits every width, one column short of it", () => {
  const frame = { label: "verify", done: 12_345, total: 100_000, perSecond: 45_678, etaMs: 2_000 };
  for (let columns = 1; columns <= 120; columns++) {
    const line = progressLine(frame, columns);
    assert(line.length <= Math.max(1, columns - 1), `${columns} columns: ${JSON.stringify(line)}`);
  }
  assert.equal(progressLine(frame, 50), "verify [#--------]  12%  12,345/100,000 ETA 2.0 s");
  assert.match(
    progressLine(frame, 100),
    /^verify \[#{2}-{22}\] {2}12% {2}12,345\/100,000 45,678\/s ETA 2\.0 s$/,
  );
});

Deno.test("progressLine shows a full bar and 100% only when all is done", () => {
  const almost = progressLine({ label: "copy", done: 999, total: 1000 }, 80);
  assert.match(almost, /\[#{23}-\] {2}99% /);
  assert.match(progressLine({ label: "copy", done: 1000, total: 1000 }, 80), /\[#{24}\] 100% /);
});

Deno.test("progressLine leaves the ETA and rate out until they are known", () => {
  const line = progressLine({ label: "export", done: 10, total: 1000 }, 80);
  assert.doesNotMatch(line, /ETA|\/s/);
  assert.equal(progressLine({ label: "import: checking", done: 1234 }, 80), "import: checking  1,234");
});
