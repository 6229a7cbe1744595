/**
 * Waiting out a busy database. A local KV file is SQLite: when another connection (this
 * process or another) holds its write lock, an operation fails at once with "database is
 * locked" and did nothing, so it is tried again after a short, growing pause.
 *
 * @module
 */

import { delay } from "../../async.ts";

/** How long an operation keeps trying on a locked file before giving up, in ms. */
const PATIENCE_MS = 30_000;

function isBusy(error: unknown): boolean {
  return error instanceof Error && /database is locked|database is busy|SQLITE_BUSY/i.test(error.message);
}

async function retried<T>(operation: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (let pause = 1;; pause = Math.min(pause * 2, 25)) {
    try {
      return await operation();
    } catch (error) {
      if (!isBusy(error) || Date.now() > deadline) throw error;
      await delay(pause + Math.random() * pause);
    }
  }
}

/** An atomic operation that records its checks and mutations, and commits them patiently. */
class PatientAtomic {
  readonly #kv: Deno.Kv;
  readonly #steps: ((atomic: Deno.AtomicOperation) => void)[] = [];

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }
  check(...checks: Deno.AtomicCheck[]): this {
    this.#steps.push((atomic) => atomic.check(...checks));
    return this;
  }
  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): this {
    this.#steps.push((atomic) => atomic.set(key, value, options));
    return this;
  }
  delete(key: Deno.KvKey): this {
    this.#steps.push((atomic) => atomic.delete(key));
    return this;
  }
  commit(): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    return retried(() => {
      const atomic = this.#kv.atomic();
      for (const step of this.#steps) step(atomic);
      return atomic.commit();
    });
  }
}

async function* patientList<T>(
  kv: Deno.Kv,
  selector: Deno.KvListSelector,
  options: Deno.KvListOptions = {},
): AsyncGenerator<Deno.KvEntry<T>> {
  let cursor: string | undefined;
  let remaining = options.limit;
  const deadline = Date.now() + PATIENCE_MS;
  for (let pause = 1;; pause = Math.min(pause * 2, 25)) {
    const list = kv.list<T>(selector, { ...options, limit: remaining, cursor });
    try {
      for await (const entry of list) {
        if (remaining !== undefined) remaining--;
        yield entry;
        cursor = list.cursor;
      }
      return;
    } catch (error) {
      if (!isBusy(error) || Date.now() > deadline) throw error;
      await delay(pause + Math.random() * pause);
    }
  }
}

/**
 * The parts of `kv` the adapter uses, each waiting out a locked file.
 *
 * @param kv the database
 * @returns the same database, patient
 */
export function patient(kv: Deno.Kv): Deno.Kv {
  const wrapped = {
    get: <T>(key: Deno.KvKey, options?: { consistency?: Deno.KvConsistencyLevel }) =>
      retried(() => kv.get<T>(key, options)),
    getMany: (keys: Deno.KvKey[], options?: { consistency?: Deno.KvConsistencyLevel }) =>
      retried(() => kv.getMany(keys, options)),
    list: <T>(selector: Deno.KvListSelector, options?: Deno.KvListOptions) =>
      patientList<T>(kv, selector, options),
    atomic: () => new PatientAtomic(kv),
    watch: (keys: Deno.KvKey[], options?: { raw?: boolean }) => kv.watch(keys, options),
    close: () => kv.close(),
  };
  return wrapped as unknown as Deno.Kv;
}
