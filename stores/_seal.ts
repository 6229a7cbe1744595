/**
 * Crypto-shredding: the personal fields of an event (`definition.personal(...)`) are
 * sealed, each value encrypted with AES-256-GCM (WebCrypto, a random 12-byte IV per value,
 * the event id and the field path as additional data) under its subject's key, before
 * anything is written; the cleartext never reaches the adapter. On read a sealed field is
 * opened with the key; when the key was destroyed (`store.forget`), the field reads as
 * `null` and the record says `forgotten: true`.
 *
 * @module
 */

import { DecodeError, EventValidationError } from "../errors.ts";
import type { KeyStore } from "../contract/key_storage.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import { FORGOTTEN_KEY, isSealed, type PersonalFields, type SealedField } from "../events/personal.ts";
import type { EventRecord, PendingEvent } from "../events/record.ts";
import { getAt, sealedFields, setAt } from "./_data_paths.ts";
import { isForgottenImport } from "./_forgotten.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const IV_BYTES = 12;
/** What `open` finds for a value whose key was destroyed. */
const FORGOTTEN: unique symbol = Symbol("forgotten");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function unbase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** Whether a value is made of JSON values only, so it survives sealing exactly. */
function jsonOnly(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!(i in value) || !jsonOnly(value[i], depth + 1)) return false;
    return true;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value as object).every((item) => item !== undefined && jsonOnly(item, depth + 1));
  }
  return false;
}

function additionalData(id: string, path: string): Uint8Array {
  return encoder.encode(`${id}\u0000${path}`);
}

/**
 * The subject of an event's personal fields.
 *
 * @param type the event type, for errors
 * @param personal its personal fields
 * @param data its payload
 * @returns the subject
 * @throws {EventValidationError} when the subject function throws or gives no non-empty string
 */
function subjectOf(type: string, personal: PersonalFields, data: unknown): string {
  let subject: unknown;
  try {
    subject = personal.subject(data);
  } catch (cause) {
    throw new EventValidationError(type, [{ path: "data", message: `the subject function threw: ${cause}` }]);
  }
  if (typeof subject !== "string" || subject === "") {
    throw new EventValidationError(type, [{
      path: "data",
      message: `the subject of personal fields must be a non-empty string, got ${JSON.stringify(subject)}`,
    }]);
  }
  return subject;
}

/** A subject's key, ready for WebCrypto (to encrypt or to decrypt), with the id sealed values name it by. */
interface SubjectKey {
  readonly id: string;
  readonly key: CryptoKey;
}

/** The first 8 bytes of the key's SHA-256, in hex: tells keys apart, reveals nothing of them. */
async function keyId(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw as BufferSource));
  return [...digest.subarray(0, 8)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function aesKey(raw: Uint8Array, usage: "encrypt" | "decrypt"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, [usage]);
}

/** What `seal` made: the events, and the keys it made for the append to store. */
export interface Sealed {
  /** The events, personal fields sealed. */
  readonly events: PendingEvent[];
  /** Subject to new key, for the append's transaction (empty when none is to be stored there). */
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

const NO_KEYS: ReadonlyMap<string, Uint8Array> = new Map();

/** Seals personal fields on write and opens them on read. */
export class Sealer {
  readonly #events: AnyEventFactory;
  readonly #keys: () => KeyStore | undefined;
  readonly #location: () => string;
  /** Whether any definition has personal fields: when none has, nothing is ever looked at. */
  readonly active: boolean;

  /**
   * @param events the definitions
   * @param keys where the subjects' keys live (`undefined`: no key store)
   * @param location where the store lives, for errors
   */
  constructor(events: AnyEventFactory, keys: () => KeyStore | undefined, location: () => string) {
    this.#events = events;
    this.#keys = keys;
    this.#location = location;
    this.active = events.types.some((type) => events.get(type).personalFields !== undefined);
  }

  #store(): KeyStore {
    const keys = this.#keys();
    if (keys === undefined) {
      throw new TypeError(
        "events with personal fields need a key store: an adapter with keys (memory, SQLite, PostgreSQL) or the keyStore option",
      );
    }
    return keys;
  }

  /**
   * Seals the personal fields of validated events. A subject without a key gets a new
   * one: stored at once in the key store, or (with `inAppend`) only made, for the append
   * to store in its own transaction (`Sealed.keys`). Fields already sealed (an import of
   * sealed records) stay as they are.
   *
   * @param events validated events
   * @param inAppend leave the new keys to the append's transaction
   * @returns the events with sealed fields (the others unchanged), and the keys made
   * @throws {EventValidationError} for a subject that is not a non-empty string or a field that is not JSON
   */
  async seal(events: PendingEvent[], inAppend = false): Promise<Sealed> {
    if (!this.active) return { events, keys: NO_KEYS };
    const work: { index: number; subject: string; paths: readonly (readonly string[])[] }[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      const definition = this.#events.resolve(event.type);
      const personal = definition?.personalFields;
      if (personal === undefined || event.data === null || typeof event.data !== "object") continue;
      if (isForgottenImport(event)) continue; // nothing left to seal
      if (event.version !== undefined && event.version < definition!.currentVersion) {
        // The paths name the current shape; an older one may hold the data elsewhere.
        let sealed = false;
        sealedFields(event.data, () => void (sealed = true));
        if (sealed) continue; // a copy of sealed records: kept as it is
        throw new EventValidationError(event.type, [{
          path: "data",
          message: `an event with personal fields can only be imported at its current version ` +
            `(${definition!.currentVersion}), or sealed already; this one is at version ${event.version}`,
        }]);
      }
      const subject = subjectOf(event.type, personal, event.data);
      const paths = personal.paths.filter((path) => {
        const value = getAt(event.data, path);
        if (value === undefined || isSealed(value)) return false;
        if (!jsonOnly(value)) {
          throw new EventValidationError(event.type, [{
            path: `data.${path.join(".")}`,
            message:
              "a personal field holds JSON values only (strings, numbers, booleans, null, arrays, plain objects)",
          }]);
        }
        return true;
      });
      if (paths.length > 0) work.push({ index: i, subject, paths });
    }
    if (work.length === 0) return { events, keys: NO_KEYS };
    const made = new Map<string, Uint8Array>();
    const keys = await this.#keysFor(new Set(work.map((item) => item.subject)), inAppend ? made : "store");
    const out = [...events];
    // Every value of the call is encrypted at once: WebCrypto's calls overlap.
    await Promise.all(work.map(async ({ index, subject, paths }) => {
      const event = out[index];
      const key = keys.get(subject)!;
      const sealed = await Promise.all(paths.map(async (path) => {
        const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
        const plain = encoder.encode(JSON.stringify(getAt(event.data, path)));
        const cipher = new Uint8Array(
          await crypto.subtle.encrypt(
            { name: "AES-GCM", iv, additionalData: additionalData(event.id, path.join(".")) as BufferSource },
            key.key,
            plain,
          ),
        );
        const bytes = new Uint8Array(IV_BYTES + cipher.length);
        bytes.set(iv);
        bytes.set(cipher, IV_BYTES);
        return { $sealed: base64(bytes), $subject: subject, $key: key.id } satisfies SealedField;
      }));
      let data = event.data;
      paths.forEach((path, i) => data = setAt(data, path, sealed[i]));
      out[index] = { ...event, data };
    }));
    return { events: out, keys: made };
  }

  /**
   * Opens the sealed fields of records read from the adapter (in place: they are fresh
   * objects). Fields whose key was destroyed read as `null`, and the record gets
   * `forgotten: true`.
   *
   * @param records records as stored
   * @param written the cleartext data of records this store just sealed and wrote, by id
   * @returns the same records
   * @throws {DecodeError} when a sealed field does not open (tampered, or a wrong key)
   */
  async open(records: EventRecord[], written?: ReadonlyMap<string, unknown>): Promise<EventRecord[]> {
    const found: { record: EventRecord; field: SealedField; path: string[] }[] = [];
    for (const record of records) {
      if (this.#events.resolve(record.type)?.personalFields === undefined) continue;
      if (written?.has(record.id)) {
        // Just sealed by this call: its cleartext is known, nothing to decrypt.
        (record as Mutable<EventRecord>).data = written.get(record.id);
        continue;
      }
      sealedFields(record.data, (field, path) => void found.push({ record, field, path }));
    }
    if (found.length === 0) return records;
    // A field imported forgotten names no key: nothing to look up for it.
    const subjects = new Set(
      found.filter((item) => item.field.$key !== FORGOTTEN_KEY).map((item) => item.field.$subject),
    );
    const keys = subjects.size === 0 ? new Map<string, SubjectKey>() : await this.#keysFor(subjects, "read");
    // Every value of the page is decrypted at once; each is set in place once all are.
    const opened = await Promise.all(found.map(async ({ record, field, path }) => {
      const key = keys.get(field.$subject);
      // No key, or a newer one made after a forget: the value's own key is gone.
      if (key === undefined || key.id !== field.$key) return FORGOTTEN;
      try {
        const bytes = unbase64(field.$sealed);
        const plain = await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: bytes.subarray(0, IV_BYTES) as BufferSource,
            additionalData: additionalData(record.id, path.join(".")) as BufferSource,
          },
          key.key,
          bytes.subarray(IV_BYTES) as BufferSource,
        );
        return JSON.parse(decoder.decode(plain));
      } catch (cause) {
        throw new DecodeError(record.position, `personal field data.${path.join(".")} of "${record.type}"`, {
          location: this.#location(),
          cause,
        });
      }
    }));
    found.forEach(({ record, path }, i) => {
      const mutable = record as Mutable<EventRecord>;
      const value = opened[i];
      if (value === FORGOTTEN) mutable.forgotten = true;
      mutable.data = setAt(mutable.data, path, value === FORGOTTEN ? null : value);
    });
    return records;
  }

  /**
   * The keys of `subjects`, ready to use. `"read"`: only those stored (to decrypt);
   * `"store"`: missing ones are made and stored at once; a map: missing ones are made and
   * put there, for the append to store.
   */
  async #keysFor(
    subjects: Set<string>,
    missing: "read" | "store" | Map<string, Uint8Array>,
  ): Promise<Map<string, SubjectKey>> {
    const store = this.#store();
    const raw = await store.getKeys([...subjects]);
    if (missing !== "read") {
      for (const subject of subjects) {
        if (raw.has(subject)) continue;
        const key = crypto.getRandomValues(new Uint8Array(32));
        if (missing === "store") raw.set(subject, await store.createKey(subject, key));
        else {
          missing.set(subject, key);
          raw.set(subject, key);
        }
      }
    }
    const usage = missing === "read" ? "decrypt" : "encrypt";
    return new Map(
      await Promise.all(
        [...raw].map(async ([subject, key]) =>
          [subject, { id: await keyId(key), key: await aesKey(key, usage) }] as const
        ),
      ),
    );
  }
}
