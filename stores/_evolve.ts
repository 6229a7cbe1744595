/**
 * The read side of event evolution, applied once to every record a store hands out:
 * renamed types read under their current name, older versions are upcast step by step,
 * unknown types follow the store's policy, and `validateOnRead` checks the result.
 *
 * @module
 */

import { DecodeError, EventValidationError, isEventValidationError } from "../errors.ts";
import type { AnyEventDefinition } from "../events/event.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import type { EventRecord, PendingEvent } from "../events/record.ts";
import { validateEvent, type ValidPayloads } from "../events/validate.ts";
import { UnknownEventError } from "../errors.ts";
import { isSystemType } from "../events/system.ts";
import { PERSONAL_RECORDS } from "../events/personal.ts";
import type { KeyStore } from "../contract/key_storage.ts";
import { type Sealed, Sealer } from "./_seal.ts";
import type { UnknownEventPolicy } from "./event_store_options.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NO_KEYS: ReadonlyMap<string, Uint8Array> = new Map();

/** A record handed out as stored, untyped: `version` equals `storedVersion`. */
function asStored(stored: EventRecord): EventRecord {
  const record = stored as Mutable<EventRecord>;
  record.version ??= 1;
  record.storedVersion = record.version;
  return record;
}

/** Reads stored records in the shape of the current definitions. */
export class RecordReader {
  readonly #events: AnyEventFactory;
  readonly #policy: UnknownEventPolicy;
  readonly #validate: boolean;
  readonly #location: () => string;
  readonly #sealer: Sealer;
  readonly #keys: () => KeyStore | undefined;

  /**
   * Creates it.
   *
   * @param events the current definitions
   * @param policy what to do with types no definition knows
   * @param validate whether to validate every record read against its current schemas
   * @param location where the store lives, for errors
   * @param keys where the keys of personal fields live (none: personal fields cannot be written)
   */
  constructor(
    events: AnyEventFactory,
    policy: UnknownEventPolicy,
    validate: boolean,
    location: () => string,
    keys: () => KeyStore | undefined = () => undefined,
  ) {
    if (policy !== "error" && policy !== "skip" && policy !== "pass") {
      throw new TypeError(`unknownEvents must be "error", "skip" or "pass", got ${JSON.stringify(policy)}`);
    }
    if (typeof validate !== "boolean") {
      throw new TypeError(`validateOnRead must be true or false, got ${JSON.stringify(validate)}`);
    }
    this.#events = events;
    this.#policy = policy;
    this.#validate = validate;
    this.#location = location;
    this.#sealer = new Sealer(events, keys, location);
    this.#keys = keys;
  }

  /**
   * Seals the personal fields of events about to be written (see `_seal.ts`).
   *
   * @param events validated events
   */
  seal(events: PendingEvent[], inAppend = false): Sealed | Promise<Sealed> {
    return this.#sealer.active ? this.#sealer.seal(events, inAppend) : { events, keys: NO_KEYS };
  }

  /** Where the keys of personal fields live (`undefined`: nowhere). */
  get keyStore(): KeyStore | undefined {
    return this.#keys();
  }

  /**
   * The stored names to ask an adapter for when a read filters by `types` (old names of
   * renamed types included).
   *
   * @param types the filter as given, current or old names
   */
  storedTypes(types: readonly string[] | undefined): readonly string[] | undefined {
    return types === undefined ? undefined : this.#events.storedNames(types);
  }

  /**
   * One page of stored records in the current shape. Records of unknown types are left out
   * under `"skip"`, so the page may come back shorter.
   *
   * @param page records as an adapter returned them (fresh objects; they may be changed)
   * @param written the cleartext data of records this store just sealed and wrote, by id
   * (their personal fields need no decrypting)
   * @throws {UnknownEventError} for an unknown type under `"error"`
   * @throws {DecodeError} when an upcaster throws or a record is newer than its definition
   * @throws {EventValidationError} with `validateOnRead`, when a record fails its schemas
   */
  read(page: EventRecord[], written?: ReadonlyMap<string, unknown>): EventRecord[] | Promise<EventRecord[]> {
    // Personal fields are opened first: upcasters and schemas see the cleartext.
    if (this.#sealer.active) {
      return this.#sealer.open(page, written).then((opened) => this.#marked(this.#read(opened)));
    }
    return this.#read(page);
  }

  /** Marks the records of types with personal fields (see `PERSONAL_RECORDS`). */
  async #marked(records: EventRecord[] | Promise<EventRecord[]>): Promise<EventRecord[]> {
    const out = await records;
    for (const record of out) {
      if (this.#events.resolve(record.type)?.personalFields !== undefined) PERSONAL_RECORDS.add(record);
    }
    return out;
  }

  #read(page: EventRecord[]): EventRecord[] | Promise<EventRecord[]> {
    let out: EventRecord[] | undefined;
    let waiting: Promise<void>[] | undefined;
    for (let i = 0; i < page.length; i++) {
      const stored = page[i];
      const definition = this.#events.resolve(stored.type);
      let record: EventRecord | undefined;
      if (definition === undefined) {
        record = isSystemType(stored.type) ? asStored(stored) : this.#unknown(stored);
      } else {
        record = this.#current(stored, definition);
        if (this.#validate && record.forgotten !== true) {
          const checked = this.#validated(record);
          if (checked instanceof Promise) {
            const at = (out ??= page.slice(0, i)).length;
            out.push(record);
            (waiting ??= []).push(checked.then((valid) => void (out![at] = valid)));
            continue;
          }
          record = checked;
        }
      }
      if (record !== stored && out === undefined) out = page.slice(0, i);
      if (out !== undefined && record !== undefined) out.push(record);
    }
    const result = out ?? page;
    return waiting === undefined ? result : Promise.all(waiting).then(() => result);
  }

  #unknown(stored: EventRecord): EventRecord | undefined {
    if (this.#policy === "skip") return undefined;
    if (this.#policy === "error") {
      throw new UnknownEventError(stored.type, this.#events.types, stored.position);
    }
    return asStored(stored);
  }

  #current(stored: EventRecord, definition: AnyEventDefinition): EventRecord {
    const version = stored.version ?? 1;
    const current = definition.currentVersion;
    if (version === current && stored.type === definition.type) {
      // The common case: the record is already in the current shape.
      const record = stored as Mutable<EventRecord>;
      record.version = version;
      record.storedVersion = version;
      return record;
    }
    if (version > current) {
      throw new DecodeError(stored.position, `data of "${stored.type}"`, {
        location: this.#location(),
        cause: new RangeError(
          `stored at version ${version}, newer than the definition's version ${current}: read it with newer code`,
        ),
      });
    }
    let upcast: { data: unknown; meta: unknown };
    try {
      upcast = this.#upcast(definition, stored.type, version, stored.data, stored.meta, stored.position);
    } catch (error) {
      // An upcaster may need a field that was forgotten (now null): the record is handed
      // out as stored, at its stored version, rather than failing every read around it.
      if (stored.forgotten === true) return { ...asStored(stored), type: definition.type };
      throw error;
    }
    const { data, meta } = upcast;
    return { ...stored, type: definition.type, data, meta, version: current, storedVersion: version };
  }

  /**
   * Checks an event about to be imported at an older version: its upcast to the current
   * version works and (like any write) passes the current schemas. The event is stored as
   * given; this only refuses what could not be read back.
   *
   * @param event the event, with its `version`
   * @param index its index in the call, for errors
   * @throws {DecodeError} when an upcaster throws
   * @throws {EventValidationError} when the upcast payload fails the current schemas
   */
  async checkImport(event: PendingEvent, index: number): Promise<void> {
    const definition = this.#events.resolve(event.type);
    if (definition === undefined) return;
    const version = event.version ?? definition.currentVersion;
    if (version === definition.currentVersion) return;
    const { data, meta } = this.#upcast(
      definition,
      event.type,
      version,
      event.data,
      event.meta,
      `(import #${index})`,
    );
    await validateEvent(this.#events, definition.type, data, meta);
  }

  #upcast(
    definition: AnyEventDefinition,
    storedType: string,
    version: number,
    data: unknown,
    meta: unknown,
    position: string,
  ): { data: unknown; meta: unknown } {
    for (let from = version; from < definition.currentVersion; from++) {
      const step = definition.upcasters.get(from)!;
      let next: { readonly data: unknown; readonly meta?: unknown };
      try {
        next = step({ data, meta });
        if (typeof next !== "object" || next === null) {
          throw new TypeError(
            `the upcaster returned ${next === null ? "null" : typeof next}, not { data, meta }`,
          );
        }
      } catch (cause) {
        throw new DecodeError(
          position,
          `data of "${definition.type}" (stored as "${storedType}") upcast from version ${from} to ${
            from + 1
          }`,
          { location: this.#location(), cause },
        );
      }
      data = next.data ?? null;
      if ("meta" in next) meta = next.meta ?? null;
    }
    return { data, meta };
  }

  #validated(record: EventRecord): EventRecord | Promise<EventRecord> {
    const located = (error: unknown): never => {
      if (!isEventValidationError(error)) throw error;
      throw new EventValidationError(record.type, error.issues, {
        position: record.position,
        storedVersion: record.storedVersion ?? 1,
        version: record.version ?? 1,
      });
    };
    let valid: ValidPayloads | Promise<ValidPayloads>;
    try {
      valid = validateEvent(this.#events, record.type, record.data, record.meta);
    } catch (error) {
      return located(error);
    }
    if (valid instanceof Promise) {
      return valid.then(({ data, meta }) => ({ ...record, data, meta }), located);
    }
    return valid.data === record.data && valid.meta === record.meta
      ? record
      : { ...record, data: valid.data, meta: valid.meta };
  }
}
