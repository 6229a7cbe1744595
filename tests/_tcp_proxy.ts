/**
 * A TCP proxy for fault tests that can cut the network at once: {@linkcode TcpProxy.cut}
 * closes every proxied connection and stops listening (new connections are refused, as
 * with a server that is down), {@linkcode TcpProxy.restore} listens again on the same
 * port. Much faster than stopping and starting a cluster, so a test can go through many
 * outages.
 *
 * @example
 * ```ts ignore
 * await using proxy = await startProxy(cluster.port);
 * const adapter = new PostgresAdapter(`postgres://root@127.0.0.1:${proxy.port}/test`);
 * await proxy.cut();
 * proxy.restore();
 * ```
 *
 * @module
 */

/** A running proxy to one local port. */
export interface TcpProxy {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Closes every proxied connection and stops listening: connections are refused until restored. */
  cut(): Promise<void>;
  /** Listens again after {@linkcode TcpProxy.cut}. */
  restore(): void;
  /** Closes everything. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Proxies 127.0.0.1:(a free port) to 127.0.0.1:`target`.
 *
 * @param target the port to forward to
 * @returns the proxy, listening
 */
export function startProxy(target: number): TcpProxy {
  let listener: Deno.TcpListener | undefined;
  let accepting: Promise<void> | undefined;
  const open = new Set<Deno.TcpConn>();
  const piping = new Set<Promise<void>>();
  let port = 0;

  const close = (conn: Deno.TcpConn): void => {
    if (!open.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  };
  const pipe = async (from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        let sent = 0;
        while (sent < n) sent += await to.write(buffer.subarray(sent, n));
      }
    } catch {
      // Either side closed.
    } finally {
      close(from);
      close(to);
    }
  };
  const serve = async (client: Deno.TcpConn): Promise<void> => {
    open.add(client);
    let server: Deno.TcpConn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: target });
    } catch {
      close(client);
      return;
    }
    if (!open.has(client)) {
      server.close();
      return;
    }
    open.add(server);
    await Promise.all([pipe(client, server), pipe(server, client)]);
  };
  const track = (work: Promise<void>): void => {
    piping.add(work);
    work.finally(() => piping.delete(work));
  };
  const listen = (): void => {
    const current = Deno.listen({ hostname: "127.0.0.1", port });
    listener = current;
    port = (current.addr as Deno.NetAddr).port;
    accepting = (async () => {
      try {
        for await (const client of current) track(serve(client));
      } catch {
        // Closed by cut().
      }
    })();
  };
  const cut = async (): Promise<void> => {
    const current = listener;
    listener = undefined;
    try {
      current?.close();
    } catch {
      // Closed already.
    }
    await accepting;
    for (const conn of [...open]) close(conn);
    await Promise.all([...piping]);
  };
  listen();
  return {
    get port() {
      return port;
    },
    cut,
    restore: () => {
      if (listener === undefined) listen();
    },
    [Symbol.asyncDispose]: cut,
  };
}
