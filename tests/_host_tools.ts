/**
 * The host commands some tests drive (util-linux `script` for a pseudo-terminal,
 * `setpriv` to drop root), and the one decision about a missing one: outside CI the test
 * is skipped with the reason in its name (the quiet test log hides what it prints); with
 * `CI=true` it runs and fails, since a CI machine without the command is broken.
 *
 * @module
 */

/** What a test needs from the host, and what to do when the host lacks it. */
export interface HostNeed {
  /** Why the test cannot run here, or `undefined` when it can. */
  readonly missing: string | undefined;
  /** Whether to ignore the test: something is missing and `CI` is not `"true"`. */
  readonly ignore: boolean;
  /** For the end of the test's name: `" (skipped: <why>)"` when ignored, else `""`. */
  readonly note: string;
}

/** Whether this run is CI's (`CI=true`), where nothing may be skipped for want of a tool. */
export function inCi(): boolean {
  return Deno.env.get("CI") === "true";
}

/**
 * Why `command --version` does not run here.
 *
 * @param command the command's name, looked up on `PATH`
 * @returns `"no \`command\` command"`, or `undefined` when it runs
 */
export function commandMissing(command: string): string | undefined {
  try {
    const ran = new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return ran.success ? undefined : `no working \`${command}\` command (\`${command} --version\` failed)`;
  } catch {
    return `no \`${command}\` command`;
  }
}

/**
 * The decision for a test that needs something the host may lack.
 *
 * @param missing why it cannot run, or `undefined` when it can
 * @returns whether to ignore it and what its name should say
 */
export function hostNeed(missing: string | undefined): HostNeed {
  const ignore = missing !== undefined && !inCi();
  return { missing, ignore, note: ignore ? ` (skipped: ${missing})` : "" };
}

/**
 * Fails the test when what it needs is missing (reached only under `CI=true`, since the
 * test is ignored otherwise).
 *
 * @param need the decision from {@linkcode hostNeed}
 * @throws {Error} when `need.missing` is set
 */
export function requireHost(need: HostNeed): void {
  if (need.missing !== undefined) {
    throw new Error(`${need.missing} (CI=true: this test must run, so the CI machine needs it)`);
  }
}

/** The pseudo-terminal test's need: util-linux `script`. */
export function terminalNeed(): HostNeed {
  return hostNeed(commandMissing("script"));
}

/** The permission tests' need: `setpriv` when running as root (root bypasses file modes). */
export function unprivilegedNeed(): HostNeed {
  if (Deno.uid() !== 0) return hostNeed(undefined);
  const missing = commandMissing("setpriv");
  return hostNeed(
    missing === undefined ? undefined : `${missing}, which root needs to run the CLI as nobody`,
  );
}
