/**
 * A private PostgreSQL 15 cluster for fault tests: created on a free port with trust
 * auth, restarted or cut off at will, and dropped at the end. Fault tests must never
 * restart the shared server on 5432, so they run against one of these.
 *
 * Needs the Debian `postgresql-common` tools (`pg_createcluster`, `pg_ctlcluster`,
 * `pg_dropcluster`, `pg_lsclusters`), `psql`, and root (or the `postgres` user). When they
 * are missing, {@linkcode clusterSupport} gives the reason and the tests are skipped with
 * it printed, unless `CI` is `"true"`, where they fail.
 *
 * @example
 * ```ts ignore
 * await using cluster = await startCluster();
 * const adapter = new PostgresAdapter(cluster.url);
 * await cluster.terminateBackends();
 * await cluster.restart("immediate");
 * ```
 *
 * @module
 */

const VERSION = "15";
const PREFIX = "eftest_";
const TOOLS = ["pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "pg_lsclusters", "psql"] as const;

/** A running private cluster. */
export interface PgCluster {
  /** Connection URL of its `test` database as the superuser `root`. */
  readonly url: string;
  /** The TCP port it listens on (127.0.0.1). */
  readonly port: number;
  /** The cluster name given to `pg_createcluster`. */
  readonly name: string;
  /**
   * Restarts the server; `"immediate"` (the default) kills it without a clean shutdown,
   * as a crash or a failover would. Resolves once it accepts connections again.
   */
  restart(mode?: "immediate" | "fast"): Promise<void>;
  /** Stops the server (default `"immediate"`) and leaves it down until {@linkcode PgCluster.start}. */
  down(mode?: "immediate" | "fast"): Promise<void>;
  /** Starts a server stopped by {@linkcode PgCluster.down}. */
  start(): Promise<void>;
  /**
   * Terminates client backends with `pg_terminate_backend`, as an idle-session killer or a
   * pooler would. Only backends of other sessions on the `test` database are touched.
   *
   * @param filter an extra SQL condition over `pg_stat_activity`, e.g. `"application_name = 'w1'"`
   * @returns how many backends were terminated
   */
  terminateBackends(filter?: string): Promise<number>;
  /**
   * Runs SQL as the superuser through `psql` (no pool of the process under test).
   *
   * @returns the unaligned, tuples-only output
   */
  psql(sql: string): Promise<string>;
  /** Stops and drops the cluster (its data and config are deleted). */
  stop(): Promise<void>;
  /** Same as {@linkcode PgCluster.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: readonly string[]): Promise<Run> {
  const output = await new Deno.Command(command, {
    args: [...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { PGCONNECT_TIMEOUT: "5" },
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

async function must(command: string, args: readonly string[]): Promise<string> {
  const result = await run(command, args);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

async function which(tool: string): Promise<boolean> {
  try {
    return (await run("sh", ["-c", `command -v ${tool}`])).code === 0;
  } catch {
    return false;
  }
}

let support: Promise<string | undefined> | undefined;

async function probeSupport(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const tool of TOOLS) if (!(await which(tool))) missing.push(tool);
  let reason: string | undefined;
  if (missing.length > 0) {
    reason = `missing PostgreSQL tools: ${missing.join(", ")} (apt-get install postgresql-15)`;
  } else if (Deno.uid?.() !== 0 && Deno.env.get("USER") !== "postgres") {
    reason = "pg_createcluster needs root or the postgres user";
  }
  if (reason === undefined) return undefined;
  if (Deno.env.get("CI") === "true") throw new Error(`${reason} (CI=true: the fault tests must run)`);
  console.warn(`skipping PostgreSQL fault tests: ${reason}`);
  return reason;
}

/**
 * Whether private clusters can be made here. Checked once per process.
 *
 * @returns `undefined` when they can, else the reason (already printed)
 * @throws {Error} when they cannot and `CI` is `"true"`
 */
export function clusterSupport(): Promise<string | undefined> {
  support ??= probeSupport();
  return support;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Drops clusters a crashed earlier run left behind (their creating process is gone). */
async function dropOrphans(): Promise<void> {
  const listing = await run("pg_lsclusters", ["--no-header"]);
  if (listing.code !== 0) return;
  for (const line of listing.stdout.split("\n")) {
    const [version, name] = line.trim().split(/\s+/);
    const match = name?.match(/^eftest_(\d+)_/);
    if (version !== VERSION || match === null || match === undefined || alive(Number(match[1]))) continue;
    await run("pg_dropcluster", ["--stop", VERSION, name]);
  }
}

/**
 * Creates and starts a private cluster with a `test` database and a superuser `root`,
 * trust auth on localhost.
 *
 * @returns the running cluster; drop it with `stop()` or `await using`
 * @throws {Error} when a tool fails (its stderr is in the message); nothing is left behind
 */
export async function startCluster(): Promise<PgCluster> {
  await dropOrphans();
  const name = `${PREFIX}${Deno.pid}_${crypto.randomUUID().slice(0, 8)}`;
  const port = freePort();
  const psqlArgs = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1", "-p", String(port)];
  const ctl = (action: string, mode?: string): Promise<string> =>
    must("pg_ctlcluster", [
      "--skip-systemctl-redirect",
      VERSION,
      name,
      action,
      ...(mode ? ["-m", mode] : []),
    ]);
  let dropped = false;
  const stop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await must("pg_dropcluster", ["--stop", VERSION, name]);
  };
  try {
    await must("pg_createcluster", [
      VERSION,
      name,
      "--port",
      String(port),
      // Speed over durability: the data is thrown away, and an immediate restart is a
      // process crash, not a power loss, so committed data survives even without fsync.
      "-o",
      "fsync=off",
      "-o",
      "ssl=off",
      "-o",
      "max_connections=60",
      "--",
      "--auth=trust",
    ]);
    await ctl("start");
    await must("psql", [
      ...psqlArgs,
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-c",
      "CREATE ROLE root SUPERUSER LOGIN",
    ]);
    await must("psql", [
      ...psqlArgs,
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-c",
      "CREATE DATABASE test OWNER root",
    ]);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  const psql = (sql: string): Promise<string> =>
    must("psql", [...psqlArgs, "-U", "root", "-d", "test", "-c", sql]);
  return {
    url: `postgres://root@127.0.0.1:${port}/test`,
    port,
    name,
    restart: async (mode = "immediate") => void await ctl("restart", mode),
    down: async (mode = "immediate") => void await ctl("stop", mode),
    start: async () => void await ctl("start"),
    terminateBackends: async (filter?: string) => {
      const where = filter === undefined ? "" : ` AND (${filter})`;
      const out = await psql(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity " +
          `WHERE datname = 'test' AND backend_type = 'client backend' AND pid <> pg_backend_pid()${where}`,
      );
      return Number(out.trim());
    },
    psql,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
