import assert from "node:assert/strict";
import { encodeCbor } from "../stores/_cbor_encode.ts";
import { tempDir } from "../tests/_sqlite_helpers.ts";
import { node, serveStore } from "../tests/_sync_helpers.ts";
import { remote, sync, syncHandler, SyncRequestError } from "./mod.ts";

const NDJSON = "application/x-ndjson";
const CBOR = "application/cbor";

function line(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    stream: "s",
    type: "note:edited",
    version: 1,
    created: "2026-01-01T00:00:00.000Z",
    position: "1",
    data: { text: "hi" },
    meta: null,
    ...extra,
  });
}

const end = (count: number, cursor: string | null = "1") => JSON.stringify({ $end: true, cursor, count });

Deno.test("syncHandler refuses bad requests with a 4xx and a reason, storing nothing", async (t) => {
  await using dir = await tempDir();
  await using server = node("server", dir.file("server.db"));
  await server.write(3);
  const before = (await server.store.getEvents()).length;
  await using http = serveStore(server.store, { maxBody: 4096 });
  const cases: [string, string, RequestInit, number, RegExp][] = [
    [
      "malformed NDJSON",
      "?from=c",
      { method: "POST", headers: { "content-type": NDJSON }, body: `${line("e1")}\n{"id": \n${end(2)}\n` },
      400,
      /line 2: invalid JSON/,
    ],
    [
      "NDJSON cut short (no end line)",
      "?from=c",
      { method: "POST", headers: { "content-type": NDJSON }, body: `${line("e1")}\n${line("e2")}\n` },
      400,
      /no end line/,
    ],
    [
      "NDJSON whose end counts other records",
      "?from=c",
      { method: "POST", headers: { "content-type": NDJSON }, body: `${line("e1")}\n${end(2)}\n` },
      400,
      /counts 2 records, 1 came/,
    ],
    [
      "a record with an unknown field",
      "?from=c",
      { method: "POST", headers: { "content-type": NDJSON }, body: `${line("e1", { x: 1 })}\n${end(1)}\n` },
      400,
      /unknown field "x"/,
    ],
    [
      "a record without an id",
      "?from=c",
      { method: "POST", headers: { "content-type": NDJSON }, body: `${line("e1", { id: "" })}\n${end(1)}\n` },
      400,
      /"id" must be a non-empty string/,
    ],
    [
      "a bad tag",
      "?from=c",
      {
        method: "POST",
        headers: { "content-type": NDJSON },
        body: `${line("e1", { data: { $bigint: "x" } })}\n${end(1)}\n`,
      },
      400,
      /line 1/,
    ],
    [
      "malformed CBOR",
      "?from=c",
      { method: "POST", headers: { "content-type": CBOR }, body: new Uint8Array([0xa1, 0x61]) },
      400,
      /invalid CBOR/,
    ],
    [
      "CBOR of another shape",
      "?from=c",
      { method: "POST", headers: { "content-type": CBOR }, body: encodeCbor([1, 2]) as BodyInit },
      400,
      /expected a CBOR map/,
    ],
    [
      "an unknown event type (after a good one)",
      "?from=c",
      {
        method: "POST",
        headers: { "content-type": NDJSON },
        body: `${line("e1")}\n${line("e2", { type: "nope" })}\n${end(2)}\n`,
      },
      422,
      /nope/,
    ],
    [
      "a payload its schema refuses",
      "?from=c",
      {
        method: "POST",
        headers: { "content-type": NDJSON },
        body: `${line("e1", { data: { text: 5 } })}\n${end(1)}\n`,
      },
      422,
      /text/,
    ],
    [
      "a created the clock refuses",
      "?from=c",
      {
        method: "POST",
        headers: { "content-type": NDJSON },
        body: `${line("e1", { created: "yesterday" })}\n${end(1)}\n`,
      },
      400,
      /created/,
    ],
    [
      "a push without from",
      "",
      { method: "POST", headers: { "content-type": NDJSON }, body: `${end(0)}\n` },
      400,
      /"from"/,
    ],
    [
      "another content type",
      "?from=c",
      { method: "POST", headers: { "content-type": "text/plain" }, body: "x" },
      415,
      /Content-Type/,
    ],
    [
      "a body over maxBody",
      "?from=c",
      {
        method: "POST",
        headers: { "content-type": NDJSON },
        body: `${line("e1", { data: { text: "x".repeat(5000) } })}\n${end(1)}\n`,
      },
      413,
      /4096-byte limit/,
    ],
    ["a bad after", "?peer=c&after=zzz", { method: "GET" }, 400, /"after" is not a position/],
    ["an empty after", "?peer=c&after=", { method: "GET" }, 400, /"after" must be a position/],
    ["limit 0", "?peer=c&limit=0", { method: "GET" }, 400, /"limit" must be a whole number from 1 to 5000/],
    ["limit -1", "?peer=c&limit=-1", { method: "GET" }, 400, /"limit"/],
    ["limit 1e3", "?peer=c&limit=1e3", { method: "GET" }, 400, /"limit"/],
    ["limit over maxLimit", "?peer=c&limit=5001", { method: "GET" }, 400, /"limit"/],
    ["a negative wait", "?peer=c&wait=-1", { method: "GET" }, 400, /"wait" must be a whole number/],
    ["a wait with a fraction", "?peer=c&wait=1.5", { method: "GET" }, 400, /"wait"/],
    ["a wait that is no number", "?peer=c&wait=soon", { method: "GET" }, 400, /"wait"/],
    ["a pull without peer", "", { method: "GET" }, 400, /"peer"/],
    [
      "an Accept it cannot serve",
      "?peer=c",
      { method: "GET", headers: { accept: "text/html" } },
      406,
      /Accept/,
    ],
    ["another method", "?peer=c", { method: "PUT", body: "x" }, 405, /PUT/],
  ];
  for (const [name, query, init, status, reason] of cases) {
    await t.step(name, async () => {
      const response = await fetch(http.url + query, init);
      const body = await response.json();
      assert.equal(response.status, status, JSON.stringify(body));
      assert.match(body.error, reason);
    });
  }
  assert.equal((await server.store.getEvents()).length, before, "nothing was stored");
  assert.deepEqual(await server.store.checkpoints.list(), [], "no checkpoint moved");
});

Deno.test("syncHandler runs authorize for every request; a refusal changes nothing", async () => {
  await using server = node("server");
  await using phone = node("phone");
  await server.write(2);
  await phone.write(2);
  const asked: string[] = [];
  let mode: "allow" | "deny" | "throw" = "deny";
  await using http = serveStore(server.store, {
    authorize(request) {
      asked.push(`${request.method} ${new URL(request.url).search}`);
      if (mode === "throw") throw new Error("token expired");
      return mode === "allow" && request.headers.get("authorization") === "Bearer secret";
    },
  });
  const client = remote(http.url, { headers: { authorization: "Bearer secret" } });
  for (const [m, status] of [["deny", 403], ["throw", 401]] as const) {
    mode = m;
    const push = await sync({ from: phone.store, to: client }).catch((e) => e);
    assert(push instanceof SyncRequestError && push.status === status, String(push));
    const pull = await sync({ from: client, to: phone.store }).catch((e) => e);
    assert(pull instanceof SyncRequestError && pull.status === status, String(pull));
    const raw = await fetch(`${http.url}?from=x`, {
      method: "POST",
      headers: { "content-type": NDJSON },
      body: `${line("e9")}\n${end(1)}\n`,
    });
    assert.equal(raw.status, status);
    await raw.body?.cancel();
  }
  assert.equal((await server.store.getEvents()).length, 2, "nothing stored");
  assert.equal((await phone.store.getEvents()).length, 2, "nothing pulled");
  assert.deepEqual(await server.store.checkpoints.list(), []);
  assert(asked.length >= 6, "authorize ran for each request");

  mode = "allow";
  const wrongToken = await sync({ from: remote(http.url), to: phone.store }).catch((e) => e);
  assert(wrongToken instanceof SyncRequestError && wrongToken.status === 403);
  await sync({ from: phone.store, to: client });
  await sync({ from: client, to: phone.store });
  assert.equal((await server.store.getEvents()).length, 4);
  assert.equal((await phone.store.getEvents()).length, 4);
});

Deno.test("a pull serves NDJSON or CBOR by Accept, pages by after and limit", async () => {
  await using server = node("server");
  await server.write(5);
  const handler = syncHandler(server.store);
  const ndjson = await (await handler(new Request("http://x/?peer=p&limit=2"))).text();
  const lines = ndjson.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[2], { $end: true, cursor: lines[1].position, count: 2 });
  const next = await handler(
    new Request(`http://x/?peer=p&after=${lines[1].position}`, { headers: { accept: CBOR } }),
  );
  assert.equal(next.headers.get("content-type"), CBOR);
  const { decodeCbor } = await import("../stores/_cbor_decode.ts");
  const batch = decodeCbor(new Uint8Array(await next.arrayBuffer())) as { records: unknown[]; count: number };
  assert.equal(batch.count, 3);
});
