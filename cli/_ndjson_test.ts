import assert from "node:assert/strict";
import { BadLineError, type Line, parseLine, readLines, recordLine } from "./_ndjson.ts";

function streamOf(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const utf8 = new TextEncoder();
  return ReadableStream.from(chunks.map((chunk) => typeof chunk === "string" ? utf8.encode(chunk) : chunk));
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<(Line | BadLineError)[]> {
  const out: (Line | BadLineError)[] = [];
  for await (const line of readLines(stream)) out.push(line);
  return out;
}

Deno.test("readLines splits across chunks, strips CR and numbers every line", async () => {
  const lines = await collect(streamOf("ab", "c\r\nd", "", "e\n\nlast \u2603"));
  assert.deepEqual(lines, [
    { text: "abc", number: 1 },
    { text: "de", number: 2 },
    { text: "", number: 3 },
    { text: "last \u2603", number: 4 },
  ]);
});

Deno.test("readLines reports invalid UTF-8 as a bad line and goes on", async () => {
  const lines = await collect(streamOf(new Uint8Array([0x7b, 0xff, 0x7d, 10]), "ok\n"));
  assert(lines[0] instanceof BadLineError && lines[0].line === 1);
  assert.deepEqual(lines[1], { text: "ok", number: 2 });
});

Deno.test("parseLine reads what recordLine writes", () => {
  const record = {
    id: "e1",
    stream: "s1",
    type: "t",
    data: { at: new Date(0), n: 5n },
    meta: null,
    revision: 3,
    position: "0000000000000009",
    created: "2026-01-01T00:00:00.000Z",
    recorded: "2026-01-01T00:00:01.000Z",
    outdated: true,
    version: 3,
    storedVersion: 2,
  };
  const line = recordLine(record, false);
  assert.equal(
    line,
    '{"id":"e1","stream":"s1","type":"t","version":3,"revision":3,"created":"2026-01-01T00:00:00.000Z","outdated":true,' +
      '"data":{"at":{"$date":"1970-01-01T00:00:00.000Z"},"n":{"$bigint":"5"}},"meta":null}',
  );
  assert.deepEqual(parseLine(line, 1), {
    id: "e1",
    stream: "s1",
    type: "t",
    created: "2026-01-01T00:00:00.000Z",
    version: 3,
    data: { at: new Date(0), n: 5n },
    meta: null,
  });
  assert.equal(
    parseLine('{"id":"a","stream":"s","type":"t","created":"c"}', 1).version,
    1,
    "no version is 1",
  );
  assert.match(
    recordLine(record, true),
    /"version":3,"storedVersion":2,.*"position":"0000000000000009","created":.*"recorded":/,
  );
});

Deno.test("parseLine names the line and the problem", async (t) => {
  const cases: [string, RegExp][] = [
    ["{nope", /^line 7: invalid JSON/],
    ["[1]", /^line 7: expected a JSON object/],
    ['{"id":"a","stream":"s","type":"t"}', /^line 7: "created" must be a non-empty string/],
    ['{"id":"","stream":"s","type":"t","created":"c"}', /^line 7: "id" must be a non-empty string/],
    ['{"id":"a","stream":"s","type":"t","created":"c","dat":1}', /^line 7: unknown field "dat"/],
    [
      '{"id":"a","stream":"s","type":"t","created":"c","version":0}',
      /^line 7: "version" must be a whole number from 1, got 0/,
    ],
    [
      '{"id":"a","stream":"s","type":"t","created":"c","version":"2"}',
      /^line 7: "version" must be a whole number/,
    ],
    [
      '{"id":"a","stream":"s","type":"t","created":"c","version":1.5}',
      /^line 7: "version" must be a whole number/,
    ],
    [
      '{"id":"a","stream":"s","type":"t","created":"c","data":{"x":{"$wat":1}}}',
      /^line 7: data\.x\.\$wat: unknown tag/,
    ],
  ];
  for (const [text, message] of cases) {
    await t.step(text, () => {
      assert.throws(
        () => parseLine(text, 7),
        (e: unknown) => e instanceof BadLineError && message.test(e.message),
      );
    });
  }
});

Deno.test("readLines makes a line over the size limit a bad line, keeps none of it, and goes on", async () => {
  const long = "x".repeat(40);
  const lines: (Line | BadLineError)[] = [];
  for await (
    const line of readLines(streamOf("ok\n", long.slice(0, 15), long.slice(15), "\nfine\r\n", long), 20)
  ) {
    lines.push(line);
  }
  assert.deepEqual(lines[0], { text: "ok", number: 1 });
  assert(lines[1] instanceof BadLineError && lines[1].line === 2);
  assert.match(
    lines[1].message,
    /line 2: the line is 40 bytes, over the 20 bytes limit \(raise it with --max-line-mib\)/,
  );
  assert.deepEqual(lines[2], { text: "fine", number: 3 });
  assert(lines[3] instanceof BadLineError && lines[3].line === 4, "the last line, without a newline, too");
  assert.equal(lines.length, 4);
  const exact: (Line | BadLineError)[] = [];
  for await (const line of readLines(streamOf("y".repeat(20), "\r\n"), 20)) exact.push(line);
  assert.deepEqual(
    exact,
    [{ text: "y".repeat(20), number: 1 }],
    "a line of exactly the limit (and its CR) is fine",
  );
});
