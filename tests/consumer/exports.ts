// Loads every export of the package, so each mode shows that all of them resolve, including
// the PostgreSQL driver and the CLI (main.ts needs only the core and SQLite).
import * as core from "@eventfold/eventfold";
import * as memory from "@eventfold/eventfold/memory";
import * as sqlite from "@eventfold/eventfold/sqlite";
import * as postgres from "@eventfold/eventfold/postgres";
import * as testing from "@eventfold/eventfold/testing";
import * as cli from "@eventfold/eventfold/cli";

const modules = { core, memory, sqlite, postgres, testing, cli };
console.log(
  JSON.stringify(Object.fromEntries(Object.entries(modules).map(([k, m]) => [k, Object.keys(m).length]))),
);
