import assert from "node:assert/strict";
import { join } from "node:path";
import { ConcurrencyError, EventStore, EventValidationError } from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { User } from "../examples/users/aggregate.ts";
import {
  activateUser,
  changeEmail,
  publishPost,
  registerUser,
  removePost,
} from "../examples/users/commands.ts";
import { events } from "../examples/users/events.ts";
import { type Mail, userProjector } from "../examples/users/projector.ts";
import { UserDirectory } from "../examples/users/read_model.ts";
import { userReducer } from "../examples/users/reducer.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function runDemo(dbPath: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "examples/users/main.ts", dbPath],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `the demo failed:\n${out}\n${err}`);
  return out;
}

/** A memory store with the example's projector wired the way main.ts wires it. */
function app() {
  const store = new EventStore({ adapter: new MemoryAdapter(), events });
  const directory = new UserDirectory();
  const mails: Mail[] = [];
  const projector = userProjector(directory, (mail) => void mails.push(mail));
  store.onEventsInserted(async (records, { hydrated }) => {
    for (const record of records) await projector.push(record, { hydrated });
  });
  return { store, directory, mails, projector };
}

const ada = { given: "Ada", family: "Lovelace", email: "ada@example.com", auditor: "test" };

Deno.test("the users demo keeps its state in the SQLite file across runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventfold-demo-" });
  try {
    const dbPath = join(dir, "demo.db");

    const first = await runDemo(dbPath);
    assert.match(first, /run #1: empty store, nothing to replay/);
    assert.match(first, /register Ada Lovelace <ada@analytical\.engine> +ok, revision 1/);
    assert.match(first, /-> mail to ada@analytical\.engine: "Welcome, Ada!"/);
    assert.match(first, /change email to ada@lovelace\.dev +ok, revision 2/);
    assert.match(first, /activate +ok, revision 3/);
    assert.match(first, /publish "Notes from run #1" +ok, revision 4/);
    assert.match(first, /rejected: email-taken \(ada@lovelace\.dev belongs to Ada Lovelace\)/);
    assert.match(first, /rejected: already-active/);
    assert.match(first, /reducer: +Ada Lovelace <ada@lovelace\.dev>, active, 1 post\(s\), revision 4/);
    assert.match(first, /aggregate: Ada Lovelace, active, posts \["Notes from run #1"\], revision 4/);
    assert.match(first, /welcome mails this run: 1/);

    const second = await runDemo(dbPath);
    assert.match(
      second,
      /run #2: found 1 user\(s\) from earlier runs \(replayed 4 event\(s\) as hydrated, 0 welcome mail\(s\) re-sent\)/,
    );
    assert.match(second, /Ada Lovelace <ada@lovelace\.dev>, active, 1 post\(s\), revision 4/);
    assert.match(second, /remove "Notes from run #1" +ok, revision 5/);
    assert.match(second, /publish "Notes from run #2" +ok, revision 6/);
    assert.match(second, /revision 6 \(snapshot at 4 \+ 2 event\(s\) folded\)/);
    assert.match(second, /store: 6 event\(s\) in 1 stream\(s\); welcome mails this run: 0/);
    assert.doesNotMatch(second, /-> mail to/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the user reducer folds a stream and snapshots every 3 folded events", async () => {
  await using store = new EventStore({ adapter: new MemoryAdapter(), events });
  await store.pushManyEvents([
    store.event({
      type: "user:created",
      stream: "u1",
      data: { name: { given: "Ada", family: "Byron" }, email: "ada@example.com" },
      meta: { auditor: "test" },
    }),
    store.event({ type: "user:name:family-set", stream: "u1", data: "Lovelace", meta: { auditor: "test" } }),
    store.event({ type: "user:activated", stream: "u1", meta: { auditor: "test" } }),
    store.event({ type: "post:created", stream: "u1", data: { id: "p1", title: "Notes" } }),
  ]);
  const state = await store.reduce({ name: "user", stream: "u1", reducer: userReducer });
  assert.deepEqual(state, {
    name: { given: "Ada", family: "Lovelace" },
    email: "ada@example.com",
    active: true,
    posts: [{ id: "p1", title: "Notes" }],
  });
  assert.equal((await store.adapter.getSnapshot("user", "u1"))?.revision, 4);

  await store.pushEvent(store.event({ type: "post:removed", stream: "u1", data: { id: "p1" } }));
  const after = await store.fold({ name: "user", stream: "u1", reducer: userReducer });
  assert.equal(after.folded, 1);
  assert.deepEqual(after.state?.posts, []);
  assert.equal(await store.reduce({ name: "user", stream: "nobody", reducer: userReducer }), undefined);
});

Deno.test("the User aggregate saves its actions with the revision it was loaded at", async () => {
  await using store = new EventStore({ adapter: new MemoryAdapter(), events });
  await registerUser(store, { ownerOf: () => undefined }, { ...ada, id: "u1" });

  const first = (await store.aggregate.getByStream(User, "u1"))!;
  const second = (await store.aggregate.getByStream(User, "u1"))!;
  assert.equal(first.fullName(), "Ada Lovelace");
  await first.setGivenName("Augusta Ada", "test").activate("test").save();
  assert.equal(first.revision, 3);
  assert.equal(first.fullName(), "Augusta Ada Lovelace");

  await assert.rejects(() => second.setEmail("other@example.com", "test").save(), ConcurrencyError);
  assert.throws(() => first.setEmail("not an email", "test"), EventValidationError);

  const reloaded = (await store.aggregate.getByStream(User, "u1"))!;
  assert.deepEqual([reloaded.fullName(), reloaded.email, reloaded.active], [
    "Augusta Ada Lovelace",
    "ada@example.com",
    true,
  ]);
});

Deno.test("the projector mails fresh registrations only and rebuilds the read model from hydrated records", async () => {
  const { store, directory, mails } = app();
  await using _store = store;
  const registered = await registerUser(store, directory, ada);
  assert.ok(registered.ok);
  const id = registered.records[0].stream;
  await activateUser(store, id, "test");
  await publishPost(store, id, "Notes");
  assert.deepEqual(mails, [{ to: "ada@example.com", subject: "Welcome, Ada!" }]);
  assert.deepEqual(directory.get(id), {
    id,
    name: { given: "Ada", family: "Lovelace" },
    email: "ada@example.com",
    active: true,
    posts: 1,
    published: 1,
    revision: 3,
  });

  // A second process rebuilding from history: same read model, no mail.
  const rebuilt = new UserDirectory();
  const replayMails: Mail[] = [];
  const replay = userProjector(rebuilt, (mail) => void replayMails.push(mail));
  for await (const record of store.readAll()) await replay.push(record, { hydrated: true });
  assert.deepEqual(rebuilt.get(id), directory.get(id));
  assert.equal(rebuilt.ownerOf("ADA@example.com"), id);
  assert.deepEqual(replayMails, []);

  // Imported records reach the hooks hydrated: the read model follows, no mail goes out.
  const other = app();
  await using _other = other.store;
  await other.store.import(await store.getEvents());
  assert.equal(other.directory.get(id)?.posts, 1);
  assert.deepEqual(other.mails, []);
});

Deno.test("commands return typed rejections and append nothing when refused", async () => {
  const { store, directory } = app();
  await using _store = store;
  const registered = await registerUser(store, directory, { ...ada, id: "u1" });
  assert.equal(registered.ok && registered.revision, 1);

  assert.deepEqual(
    await registerUser(store, directory, { ...ada, given: "Eve", email: " ADA@example.com" }),
    {
      ok: false,
      rejection: { code: "email-taken", email: "ada@example.com", owner: "u1" },
      revision: 0,
    },
  );
  const again = await registerUser(store, directory, { ...ada, id: "u1", email: "new@example.com" });
  assert.deepEqual(!again.ok && again.rejection, { code: "already-registered", user: "u1" });

  const inactive = await publishPost(store, "u1", "Too early");
  assert.deepEqual(!inactive.ok && inactive.rejection, { code: "inactive", user: "u1" });
  assert.equal((await activateUser(store, "u1", "test")).ok, true);
  const twice = await activateUser(store, "u1", "test");
  assert.deepEqual(twice, { ok: false, rejection: { code: "already-active", user: "u1" }, revision: 2 });

  await registerUser(store, directory, {
    ...ada,
    id: "u2",
    given: "Grace",
    family: "Hopper",
    email: "grace@example.com",
  });
  const taken = await changeEmail(store, directory, "u2", "ada@example.com", "test");
  assert.deepEqual(!taken.ok && taken.rejection, {
    code: "email-taken",
    email: "ada@example.com",
    owner: "u1",
  });
  const same = await changeEmail(store, directory, "u1", "ada@example.com", "test");
  assert.deepEqual(same, { ok: true, records: [], revision: 2 });

  const missing = await removePost(store, "u1", "no-such-post");
  assert.deepEqual(!missing.ok && missing.rejection, {
    code: "unknown-post",
    user: "u1",
    post: "no-such-post",
  });
  const nobody = await activateUser(store, "ghost", "test");
  assert.deepEqual(!nobody.ok && nobody.rejection, { code: "unknown-user", user: "ghost" });

  assert.equal((await store.stats()).events, 3);
});
