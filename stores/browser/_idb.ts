/**
 * The slice of IndexedDB the adapter uses, typed here so that the package type-checks
 * without the DOM library (Deno's has no IndexedDB), and the schema of an Eventfold
 * database.
 *
 * @module
 */

/** A request: settles once, through `onsuccess` or `onerror`. */
export interface IdbRequest<T = unknown> {
  readonly result: T;
  readonly error: DOMException | null;
  onsuccess: ((event: unknown) => void) | null;
  onerror: ((event: { preventDefault(): void; stopPropagation(): void }) => void) | null;
}

/** A cursor over records (or index entries). */
export interface IdbCursor {
  readonly value: unknown;
  readonly key: unknown;
  readonly primaryKey: unknown;
  continue(): void;
  delete(): IdbRequest<undefined>;
}

/** A key range (`IDBKeyRange`). */
export type IdbKeyRange = object;

/** What an object store and an index both read. */
export interface IdbSource {
  get(key: unknown): IdbRequest<unknown>;
  getKey(key: unknown): IdbRequest<unknown>;
  getAll(range?: unknown, count?: number): IdbRequest<unknown[]>;
  count(range?: unknown): IdbRequest<number>;
  openCursor(range?: unknown, direction?: "next" | "prev"): IdbRequest<IdbCursor | null>;
}

/** An object store inside a transaction. */
export interface IdbObjectStore extends IdbSource {
  add(value: unknown): IdbRequest<unknown>;
  put(value: unknown): IdbRequest<unknown>;
  delete(key: unknown): IdbRequest<undefined>;
  index(name: string): IdbSource;
  createIndex(name: string, keyPath: string | string[], options?: { unique?: boolean }): unknown;
}

/** A transaction (`IDBTransaction`): commits by itself once no request is pending. */
export interface IdbTransaction {
  readonly error: DOMException | null;
  objectStore(name: string): IdbObjectStore;
  abort(): void;
  oncomplete: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onabort: ((event: unknown) => void) | null;
}

/** An open database (`IDBDatabase`). */
export interface IdbDatabase {
  readonly objectStoreNames: { contains(name: string): boolean };
  transaction(
    stores: string | readonly string[],
    mode: "readonly" | "readwrite",
    options?: { durability?: "default" | "strict" | "relaxed" },
  ): IdbTransaction;
  createObjectStore(
    name: string,
    options?: { keyPath?: string | string[]; autoIncrement?: boolean },
  ): IdbObjectStore;
  close(): void;
  onversionchange: ((event: unknown) => void) | null;
}

interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: ((event: { readonly oldVersion: number }) => void) | null;
  onblocked: ((event: unknown) => void) | null;
}

interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
}

interface IdbKeyRangeStatic {
  bound(lower: unknown, upper: unknown, lowerOpen?: boolean, upperOpen?: boolean): IdbKeyRange;
  lowerBound(lower: unknown, open?: boolean): IdbKeyRange;
  upperBound(upper: unknown, open?: boolean): IdbKeyRange;
}

/** The object stores of an Eventfold database. */
export const EVENTS = "events";
/** Head revision and event count per stream. */
export const STREAMS = "streams";
/** Relation keys to streams. */
export const RELATIONS = "relations";
/** Snapshots per (name, stream). */
export const SNAPSHOTS = "snapshots";
/** Checkpoints per name. */
export const CHECKPOINTS = "checkpoints";
/** Parked events per (name, id). */
export const PARKED = "parked";
/** Leases per name. */
export const LEASES = "leases";
/** Data keys per subject (crypto-shredding). */
export const KEYS = "keys";

/** The stores one append commit writes. */
export const COMMIT_STORES: readonly string[] = [
  EVENTS,
  STREAMS,
  RELATIONS,
  SNAPSHOTS,
  CHECKPOINTS,
  PARKED,
  KEYS,
];

const SCHEMA_VERSION = 1;

/** The global `indexedDB` and `IDBKeyRange`, or a clear error where they are missing. */
function globals(): { factory: IdbFactory; range: IdbKeyRangeStatic } {
  const scope = globalThis as unknown as { indexedDB?: IdbFactory; IDBKeyRange?: IdbKeyRangeStatic };
  if (scope.indexedDB === undefined || scope.IDBKeyRange === undefined) {
    throw new TypeError(
      "IndexedDbAdapter needs IndexedDB (a browser, or a worker in one); this runtime has no indexedDB global",
    );
  }
  return { factory: scope.indexedDB, range: scope.IDBKeyRange };
}

/** `IDBKeyRange`, checked. */
export function keyRange(): IdbKeyRangeStatic {
  return globals().range;
}

/** Whether this runtime has IndexedDB. */
export function hasIndexedDb(): boolean {
  const scope = globalThis as unknown as { indexedDB?: unknown; IDBKeyRange?: unknown };
  return scope.indexedDB !== undefined && scope.IDBKeyRange !== undefined;
}

/**
 * Opens (creating or upgrading) the database `name`.
 *
 * @param name the database name
 * @returns the open database
 */
export function openDatabase(name: string): Promise<IdbDatabase> {
  const { factory } = globals();
  return new Promise((resolve, reject) => {
    const request = factory.open(name, SCHEMA_VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      if (event.oldVersion < 1) {
        const events = db.createObjectStore(EVENTS, { keyPath: "seq", autoIncrement: true });
        events.createIndex("id", "id", { unique: true });
        events.createIndex("stream", ["stream", "revision"], { unique: true });
        // The newest `created` of a type in a stream (imports decide `outdated` with it).
        events.createIndex("created", ["stream", "type", "created"]);
        db.createObjectStore(STREAMS, { keyPath: "stream" });
        db.createObjectStore(RELATIONS, { keyPath: ["key", "stream"] }).createIndex("stream", "stream");
        db.createObjectStore(SNAPSHOTS, { keyPath: ["name", "stream"] }).createIndex("stream", "stream");
        db.createObjectStore(CHECKPOINTS, { keyPath: "name" });
        db.createObjectStore(PARKED, { keyPath: ["name", "id"] });
        db.createObjectStore(LEASES, { keyPath: "name" });
        db.createObjectStore(KEYS, { keyPath: "subject" });
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    // Blocked by a tab holding an older version open: that tab closes on `versionchange`
    // (see IndexedDbAdapter), and the open then goes on by itself.
  });
}

/**
 * The result of a request. Awaiting it inside a transaction keeps the transaction active:
 * the continuation runs in the microtasks of the success event.
 *
 * @param request the request
 */
export function done<T>(request: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = (event) => {
      // The error is the caller's to handle: the transaction aborts only when it rethrows.
      event.preventDefault();
      event.stopPropagation();
      reject(request.error);
    };
  });
}

/**
 * Runs `work` in one transaction over `stores` and resolves once it committed. `work` may
 * await only requests of this transaction (anything else lets IndexedDB commit it early).
 * When `work` throws, the transaction is aborted and nothing of it is written.
 *
 * @param db the database
 * @param stores the object stores it uses
 * @param mode `"readonly"` or `"readwrite"`
 * @param work issues the requests
 * @returns what `work` returns
 */
export function run<T>(
  db: IdbDatabase,
  stores: string | readonly string[],
  mode: "readonly" | "readwrite",
  work: (tx: IdbTransaction) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const tx = db.transaction(stores, mode);
    let failure: { error: unknown } | undefined;
    let result: T;
    tx.oncomplete = () => failure === undefined ? resolve(result) : reject(failure.error);
    tx.onabort = () => reject(failure !== undefined ? failure.error : tx.error ?? new Error("aborted"));
    work(tx).then(
      (value) => void (result = value),
      (error) => {
        failure = { error };
        try {
          tx.abort();
        } catch {
          // Already finished: oncomplete or onabort reports it.
        }
      },
    );
  });
}

/**
 * Walks a cursor, handing each entry to `visit` until it returns `false` or the cursor ends.
 *
 * @param request the cursor request
 * @param visit called per entry; `false` stops
 */
export function walk(
  request: IdbRequest<IdbCursor | null>,
  visit: (cursor: IdbCursor) => boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => {
      const cursor = request.result;
      if (cursor === null) return resolve();
      try {
        if (visit(cursor)) cursor.continue();
        else resolve();
      } catch (error) {
        reject(error);
      }
    };
    request.onerror = (event) => {
      event.preventDefault();
      event.stopPropagation();
      reject(request.error);
    };
  });
}
