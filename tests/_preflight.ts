/**
 * Run by `deno task test` before the tests: says which real parts this machine has, since
 * the quiet test log hides what a skipped test prints. A PostgreSQL test that cannot reach
 * its server is listed as ignored; this line says why. With `CI=true` a missing part fails
 * here already, as the tests themselves would (NATS JetStream for the relay tests too). The same goes for the host commands the CLI
 * terminal and permission tests drive (`script`, `setpriv`), and the Chromium the browser
 * conformance test drives.
 *
 * @module
 */

import { PG_URL, pgAvailable } from "./_postgres_env.ts";
import { NATS_URL, natsAvailable } from "./_nats_env.ts";
import { clusterSupport } from "./_pg_cluster.ts";
import { type HostNeed, inCi, terminalNeed, unprivilegedNeed } from "./_host_tools.ts";
import { chromiumCommand, chromiumNeed } from "./_chromium.ts";

/** One line for a host-tool need; under `CI=true` a missing one fails here, as its tests would. */
function hostLine(what: string, need: HostNeed, on: string): string {
  if (need.missing === undefined) return `${what}: on, ${on}`;
  if (inCi()) throw new Error(`${what}: ${need.missing} (CI=true: these tests must run)`);
  return `${what}: SKIPPED (ignored below): ${need.missing}`;
}

const shown = PG_URL.replace(/:[^:@/]*@/, ":***@");
try {
  if (await pgAvailable()) console.error(`PostgreSQL tests: on, against ${shown}`);
  else console.error(`PostgreSQL tests: SKIPPED (ignored below): ${shown} is unreachable`);
  // Under CI=true an unreachable server throws here, as the NATS tests would.
  if (await natsAvailable()) console.error(`NATS relay tests: on, against JetStream at ${NATS_URL}`);
  else console.error(`NATS relay tests: SKIPPED (ignored below): ${NATS_URL} is unreachable`);
  const noClusters = await clusterSupport();
  if (noClusters === undefined) console.error("PostgreSQL fault tests: on, on private clusters");
  else console.error(`PostgreSQL fault tests: SKIPPED (ignored below): ${noClusters}`);
  console.error(hostLine("CLI terminal test", terminalNeed(), "under a pseudo-terminal from `script`"));
  console.error(
    hostLine(
      "CLI permission tests",
      unprivilegedNeed(),
      Deno.uid() === 0 ? "as nobody through `setpriv`" : `as uid ${Deno.uid()}`,
    ),
  );
  console.error(
    hostLine("Browser (IndexedDB) conformance test", chromiumNeed(), `in headless \`${chromiumCommand()}\``),
  );
} catch (error) {
  console.error(`eventfold tests: ${(error as Error).message}`);
  Deno.exit(1);
}
