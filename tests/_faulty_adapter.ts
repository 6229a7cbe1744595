/**
 * Fault injection for subscription tests: a wrapper over a real adapter (memory, SQLite)
 * that makes chosen calls throw, for a number of calls or until healed, as a lost
 * connection or a restarting server would. Everything else goes to the real adapter, so
 * what is stored is real; only the failures are made up.
 *
 * @example
 * ```ts ignore
 * const faults = new Faults();
 * const adapter = faulty(new MemoryAdapter(), faults);
 * faults.fail("readLog", 2);        // the next two reads throw
 * faults.down();                     // every call throws until faults.heal()
 * ```
 *
 * @module
 */

import type { Adapter, AdapterTransaction, Lease } from "../contract/mod.ts";

/** The calls a fault can hit: adapter methods, plus the lease's and the transaction's own. */
export type FaultyCall =
  | keyof Omit<Adapter, "kind" | "source" | "close">
  | "renew"
  | "release"
  | "putCheckpoint"
  /** The transaction commits, then its caller is told it failed (a reply lost with the connection). */
  | "afterCommit";

/** Which calls fail now, and a record of what failed. */
export class Faults {
  readonly #failing = new Map<FaultyCall, number>();
  readonly #hanging = new Map<FaultyCall, number>();
  #down = false;
  #make: (call: FaultyCall) => Error = (call) => new Error(`connection lost (injected, in ${call})`);
  /** How many calls failed, by call. */
  readonly failed: Map<FaultyCall, number> = new Map();
  /** How many calls were made, by call (failed ones included). */
  readonly calls: Map<FaultyCall, number> = new Map();

  /**
   * Makes the next `times` calls of each of `calls` throw (`Infinity`: until {@linkcode Faults.heal}).
   *
   * @param calls which calls
   * @param times how many of each
   */
  fail(calls: FaultyCall | readonly FaultyCall[], times = Infinity): void {
    for (const call of typeof calls === "string" ? [calls] : calls) this.#failing.set(call, times);
  }

  /**
   * Makes the next `times` calls of each of `calls` never settle, as a call on a
   * connection that died without a word would (the real call is not made).
   *
   * @param calls which calls
   * @param times how many of each
   */
  hang(calls: FaultyCall | readonly FaultyCall[], times = 1): void {
    for (const call of typeof calls === "string" ? [calls] : calls) this.#hanging.set(call, times);
  }

  /** Makes every call throw until {@linkcode Faults.heal} (`afterCommit` aside: nothing commits). */
  down(): void {
    this.#down = true;
  }

  /** Ends every fault. */
  heal(): void {
    this.#down = false;
    this.#failing.clear();
    this.#hanging.clear();
  }

  /** Sets the error thrown (default: a plain `Error` saying the connection was lost). */
  throwing(make: (call: FaultyCall) => Error): void {
    this.#make = make;
  }

  /** Total failed calls. */
  get total(): number {
    return [...this.failed.values()].reduce((a, b) => a + b, 0);
  }

  /**
   * Counts a call of `call`, and throws when it is to fail.
   *
   * @returns true when the call is to hang instead
   */
  check(call: FaultyCall): boolean {
    this.calls.set(call, (this.calls.get(call) ?? 0) + 1);
    const hangs = this.#hanging.get(call) ?? 0;
    if (hangs > 0) {
      this.#hanging.set(call, hangs - 1);
      return true;
    }
    const left = this.#failing.get(call) ?? 0;
    if (!(left > 0 || (this.#down && call !== "afterCommit"))) return false;
    if (left > 0) this.#failing.set(call, left - 1);
    this.failed.set(call, (this.failed.get(call) ?? 0) + 1);
    throw this.#make(call);
  }
}

/** A call on a connection that died without a word: it never settles. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

function wrapLease(lease: Lease, faults: Faults): Lease {
  return {
    renew: async () => faults.check("renew") ? await never<boolean>() : await lease.renew(),
    release: async () => faults.check("release") ? await never<void>() : await lease.release(),
  };
}

function wrapTransaction<THandle>(
  tx: AdapterTransaction<THandle>,
  faults: Faults,
): AdapterTransaction<THandle> {
  return new Proxy(tx, {
    get(target, key) {
      if (key === "putCheckpoint") {
        return (...args: Parameters<AdapterTransaction["putCheckpoint"]>) => {
          return faults.check("putCheckpoint") ? never() : target.putCheckpoint(...args);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Wraps `adapter` so that the calls `faults` names throw.
 *
 * @param adapter a real adapter
 * @param faults the switchboard
 * @returns the wrapped adapter (closing it closes the real one)
 */
export function faulty<THandle>(adapter: Adapter<THandle>, faults: Faults): Adapter<THandle> {
  return new Proxy(adapter, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      switch (key) {
        case "close":
          return method.bind(target);
        case "watch":
          return (listener: () => void) => {
            // A watch that hangs is one that never calls back.
            return method.call(target, faults.check("watch") ? () => {} : listener);
          };
        case "acquireLease":
          return async (...args: unknown[]) => {
            if (faults.check("acquireLease")) return await never();
            const lease = await (method.apply(target, args) as Promise<Lease | undefined>);
            return lease === undefined ? undefined : wrapLease(lease, faults);
          };
        case "transaction":
          return async (work: (tx: AdapterTransaction<THandle>) => Promise<unknown>) => {
            if (faults.check("transaction")) return await never();
            const result = await target.transaction((tx) => work(wrapTransaction(tx, faults)));
            if (faults.check("afterCommit")) return await never();
            return result;
          };
        default:
          return async (...args: unknown[]) => {
            if (faults.check(key as FaultyCall)) return await never();
            return await method.apply(target, args);
          };
      }
    },
  });
}
