import postgres from "postgres";
import { PostgresAdapter } from "./stores/postgres/mod.ts";
import { uuidv7 } from "./events/id.ts";
import { cborCodec } from "./stores/codec.ts";
import { Buffer } from "node:buffer";
const URL = "postgres://root@127.0.0.1:5432/test";
const sql = postgres(URL, { max: 4, onnotice: () => {} });
const schema = "prof_" + crypto.randomUUID().slice(0, 8);
const a = new PostgresAdapter(sql, { schema });
await a.open();
const S = sql(schema);
const payload = (i: number) => ({ name: `user ${i}`, email: `u${i}@example.com`, age: i % 90, tags: ["a", "b"] });
const streams = Array.from({ length: 200 }, () => uuidv7());
const revs = new Map<string, number>();
function batch(call: number, sfx = "") {
  const stream = streams[call % 200] + sfx;
  let r = revs.get(stream) ?? 0;
  const rows = Array.from({ length: 50 }, (_, i) => ({ id: uuidv7(), stream, type: "user:updated", data: payload(i), meta: null, revision: ++r, created: new Date().toISOString(), outdated: false }));
  revs.set(stream, r);
  return rows;
}
const hex = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString("hex");
const prep = (rows: any[]) => JSON.stringify(rows.map((r, n) => ({ n, id: r.id, stream: r.stream, type: r.type, revision: r.revision, created: r.created, outdated: r.outdated, data: hex(cborCodec.encode(r.data)), meta: null })));
const plain = (q: any, j: string) => q`INSERT INTO ${S}.events (id, stream, type, revision, created, outdated, data, meta) SELECT id, stream, type, revision, created, outdated, decode(data, 'hex'), null FROM json_to_recordset(${j}::text::json) AS x(n int, id text, stream text, type text, revision int, created text, outdated bool, data text) ORDER BY n`;
const ret = (q: any, j: string) => q`INSERT INTO ${S}.events (id, stream, type, revision, created, outdated, data, meta) SELECT id, stream, type, revision, created, outdated, decode(data, 'hex'), null FROM json_to_recordset(${j}::text::json) AS x(n int, id text, stream text, type text, revision int, created text, outdated bool, data text) ORDER BY n ON CONFLICT (id) DO NOTHING RETURNING id, transaction_id::text AS ptx, seq::text AS pseq, to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded`;
const ret2 = (q: any, j: string) => q`INSERT INTO ${S}.events (id, stream, type, revision, created, outdated, data, meta) SELECT id, stream, type, revision, created, outdated, decode(data, 'hex'), null FROM json_to_recordset(${j}::text::json) AS x(n int, id text, stream text, type text, revision int, created text, outdated bool, data text) ORDER BY n ON CONFLICT (id) DO NOTHING RETURNING id, seq::text AS pseq`;
const up = (q: any, st: string, rev: number) => q`UPDATE ${S}.streams SET revision = ${rev} WHERE stream = ${st}`;
const cte = (q: any, j: string) => q`WITH ins AS (INSERT INTO ${S}.events (id, stream, type, revision, created, outdated, data, meta) SELECT id, stream, type, revision, created, outdated, decode(data, 'hex'), null FROM json_to_recordset(${j}::text::json) AS x(n int, id text, stream text, type text, revision int, created text, outdated bool, data text) ORDER BY n ON CONFLICT (id) DO NOTHING RETURNING id, stream, revision, transaction_id::text AS ptx, seq::text AS pseq, to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded), up AS (INSERT INTO ${S}.streams AS t (stream, revision) SELECT stream, max(revision) FROM ins GROUP BY stream ON CONFLICT (stream) DO UPDATE SET revision = greatest(t.revision, excluded.revision)) SELECT id, ptx, pseq, recorded FROM ins`;
const variants: Record<string, (tx: any, rows: any[]) => Promise<unknown>> = {
  js_only: async (_tx, rows) => prep(rows),
  plain: (tx, rows) => plain(tx, prep(rows)),
  returning: (tx, rows) => ret(tx, prep(rows)),
  returning_min: (tx, rows) => ret2(tx, prep(rows)),
  ret_plus_update: (tx, rows) => Promise.all([ret(tx, prep(rows)), up(tx, rows[0].stream, rows.at(-1).revision)]),
  cte: (tx, rows) => cte(tx, prep(rows)),
  cte_notify: (tx, rows) => Promise.all([cte(tx, prep(rows)), tx`select pg_notify('x', '')`]),
  adapter_insert: (tx, rows) => tx.insert(rows),
};
const times: Record<string, number[]> = {};
const commits: Record<string, number[]> = {};
for (let c = 0; c < 400; c++) {
  for (const [name, fn] of Object.entries(variants)) {
    const rows = batch(c, name);
    let t1 = 0, t2 = 0;
    if (name === "adapter_insert") {
      await a.transaction(async (tx) => { await tx.revisions([rows[0].stream]); t1 = performance.now(); await fn(tx, rows); t2 = performance.now(); });
    } else {
      await sql.begin(async (tx) => { await tx`INSERT INTO ${S}.streams (stream) VALUES (${rows[0].stream}) ON CONFLICT DO NOTHING`; await tx`SELECT 1 FROM ${S}.streams WHERE stream = ${rows[0].stream} FOR UPDATE`; t1 = performance.now(); await fn(tx, rows); t2 = performance.now(); });
    }
    const t3 = performance.now();
    if (c >= 50) { (times[name] ??= []).push(t2 - t1); (commits[name] ??= []).push(t3 - t2); }
  }
}
const med = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1].toFixed(3);
for (const k of Object.keys(times)) console.log(k.padEnd(18), med(times[k]), " commit", med(commits[k]));
await sql`DROP SCHEMA ${sql(schema)} CASCADE`;
await sql.end();
