/**
 * `eventfold relay` as a child process for tests/relay_processes_test.ts: the command
 * line's own entry point, with the given arguments after `relay`.
 *
 * Usage: `deno run -A tests/_relay_cli.ts --store URL --subject TEMPLATE ...`
 *
 * @module
 */

import { main } from "../cli/mod.ts";

Deno.exit(await main(["relay", ...Deno.args]));
