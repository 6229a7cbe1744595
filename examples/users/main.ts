/**
 * The users demo: `deno run -A examples/users/main.ts [path-to-db]`.
 *
 * Opens (or creates) a SQLite file, rebuilds the read model by replaying the history as
 * hydrated (so no welcome mail goes out twice), then runs a few commands. Run it again:
 * the users, posts and revisions of earlier runs are still there and keep growing.
 *
 * @module
 */

import { EventStore, type HandleResult } from "../../mod.ts";
import { SqliteAdapter } from "../../stores/sqlite/mod.ts";
import { User } from "./aggregate.ts";
import { activateUser, changeEmail, explain, publishPost, registerUser, removePost } from "./commands.ts";
import type { UserRejection } from "./commands.ts";
import { events } from "./events.ts";
import { type Mail, userProjector } from "./projector.ts";
import { UserDirectory, type UserView } from "./read_model.ts";
import { userReducer } from "./reducer.ts";

const AUDITOR = "demo";
const ADA_EMAIL = "ada@lovelace.dev";

const path = Deno.args[0] ?? "./eventfold-demo.db";
await using store = new EventStore({ adapter: new SqliteAdapter(path), events });

const directory = new UserDirectory();
// The "mail server": the projector's once handler drops mails here; report() prints them.
const outbox: Mail[] = [];
let mailed = 0;
const projector = userProjector(directory, (mail) => {
  outbox.push(mail);
  mailed++;
});

const nameOf = (id: string): string => {
  const user = directory.get(id);
  return user === undefined ? `user ${id}` : `${user.name.given} ${user.name.family}`.trim();
};
const show = (user: UserView): string =>
  `${nameOf(user.id)} <${user.email}>, ${user.active ? "active" : "inactive"}, ` +
  `${user.posts} post(s), revision ${user.revision}`;

function report(label: string, result: HandleResult<typeof events, UserRejection>): void {
  const outcome = result.ok
    ? `ok, revision ${result.revision}`
    : `rejected: ${result.rejection.code} (${explain(result.rejection, nameOf)})`;
  console.log(`  ${label.padEnd(46)} ${outcome}`);
  for (const mail of outbox.splice(0)) console.log(`    -> mail to ${mail.to}: "${mail.subject}"`);
}

// Rebuild the read model from history. Replayed records are hydrated: `on` handlers
// apply them, the `once` welcome-mail handler stays silent.
let replayed = 0;
for await (const record of store.readAll()) {
  await projector.push(record, { hydrated: true });
  replayed++;
}
// From now on, every commit reaches the projector as it happens.
store.onEventsInserted(async (records, { hydrated }) => {
  for (const record of records) await projector.push(record, { hydrated });
});

// Every run publishes one post, so the posts published so far count the earlier runs.
const run = directory.totals().published + 1;
console.log(`eventfold users demo, SQLite file ${path}`);
if (replayed === 0) {
  console.log(`run #${run}: empty store, nothing to replay`);
} else {
  console.log(
    `run #${run}: found ${directory.size} user(s) from earlier runs ` +
      `(replayed ${replayed} event(s) as hydrated, ${mailed} welcome mail(s) re-sent)`,
  );
  for (const user of directory.list()) console.log(`  ${show(user)}`);
}

let ada = directory.ownerOf(ADA_EMAIL);
if (ada === undefined) {
  const given = { given: "Ada", family: "Lovelace", email: "ada@analytical.engine", auditor: AUDITOR };
  const registered = await registerUser(store, directory, given);
  report(`register Ada Lovelace <${given.email}>`, registered);
  if (!registered.ok) throw new Error("the demo could not register Ada");
  ada = registered.records[0].stream;
  report(`change email to ${ADA_EMAIL}`, await changeEmail(store, directory, ada, ADA_EMAIL, AUDITOR));
  report("activate", await activateUser(store, ada, AUDITOR));
} else {
  // Ada keeps only her latest notes: the post of the previous run goes.
  const previous = (await store.aggregate.getByStream(User, ada))?.posts[0];
  if (previous !== undefined) report(`remove "${previous.title}"`, await removePost(store, ada, previous.id));
}
report(`publish "Notes from run #${run}"`, await publishPost(store, ada, `Notes from run #${run}`));

const impostor = { given: "Ada", family: "Impostor", email: ADA_EMAIL, auditor: AUDITOR };
report(`register Ada Impostor <${ADA_EMAIL}>`, await registerUser(store, directory, impostor));
report("activate Ada again", await activateUser(store, ada, AUDITOR));

// The same stream, folded two ways: by the reducer (from its snapshot, if any) and by the aggregate.
const folded = await store.fold({ name: "user", stream: ada, reducer: userReducer });
const state = folded.state!;
const from = folded.revision - folded.folded;
console.log(
  `  reducer:   ${state.name.given} ${state.name.family} <${state.email}>, ${
    state.active ? "active" : "inactive"
  }, ` +
    `${state.posts.length} post(s), ` +
    `revision ${folded.revision} (${
      from > 0 ? `snapshot at ${from} + ` : ""
    }${folded.folded} event(s) folded)`,
);
const user = (await store.aggregate.getByStream(User, ada))!;
console.log(
  `  aggregate: ${user.fullName()}, ${user.active ? "active" : "inactive"}, ` +
    `posts [${user.posts.map((post) => `"${post.title}"`).join(", ")}], revision ${user.revision}`,
);
const stats = await store.stats();
console.log(
  `  read model: ${directory.size} user(s), ${directory.totals().posts} post(s); ` +
    `store: ${stats.events} event(s) in ${stats.streams} stream(s); welcome mails this run: ${mailed}`,
);
