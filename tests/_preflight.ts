/**
 * Run by `deno task test` before the tests: says which real parts this machine has, since
 * the quiet test log hides what a skipped test prints. A PostgreSQL test that cannot reach
 * its server is listed as ignored; this line says why. With `CI=true` a missing part fails
 * here already, as the tests themselves would.
 *
 * @module
 */

import { PG_URL, pgAvailable } from "./_postgres_env.ts";
import { clusterSupport } from "./_pg_cluster.ts";

const shown = PG_URL.replace(/:[^:@/]*@/, ":***@");
try {
  if (await pgAvailable()) console.error(`PostgreSQL tests: on, against ${shown}`);
  else console.error(`PostgreSQL tests: SKIPPED (ignored below): ${shown} is unreachable`);
  const noClusters = await clusterSupport();
  if (noClusters === undefined) console.error("PostgreSQL fault tests: on, on private clusters");
  else console.error(`PostgreSQL fault tests: SKIPPED (ignored below): ${noClusters}`);
} catch (error) {
  console.error(`eventfold tests: ${(error as Error).message}`);
  Deno.exit(1);
}
