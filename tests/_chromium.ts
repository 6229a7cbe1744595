/**
 * Where the browser conformance test finds Chromium: `$CHROMIUM` when set, else the first
 * of `chromium`, `chromium-browser`, `google-chrome` on `PATH` (`.ci/run` installs Debian's
 * `chromium` when none is there). Outside CI a machine without one skips the test.
 *
 * @module
 */

import { commandMissing, type HostNeed, hostNeed } from "./_host_tools.ts";

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome"];

/** The Chromium command to run, or `undefined` when there is none. */
export function chromiumCommand(): string | undefined {
  const given = Deno.env.get("CHROMIUM");
  if (given !== undefined && given !== "") return commandMissing(given) === undefined ? given : undefined;
  return CANDIDATES.find((name) => commandMissing(name) === undefined);
}

/** The browser conformance test's need: a Chromium to run headless. */
export function chromiumNeed(): HostNeed {
  return hostNeed(
    chromiumCommand() === undefined
      ? `no Chromium (\`${CANDIDATES.join("`, `")}\` or $CHROMIUM; \`apt-get install chromium\`)`
      : undefined,
  );
}
