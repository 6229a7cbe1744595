/**
 * The key part of an adapter, for crypto-shredding: the data key of each subject (a
 * person, a tenant) whose personal fields are stored encrypted. Destroying a key makes
 * those fields unreadable for good, wherever the ciphertext went (backups, exports,
 * copies). Optional: an `EventStore` takes its keys from the adapter when it has this
 * part and no `keyStore` option names another holder (a KMS).
 *
 * Invariants every holder keeps:
 * - A subject has at most one key at a time: of two concurrent `createKey` calls (across
 *   processes), both return the key that was stored first.
 * - `deleteKey` destroys the key: no later read finds it, and the storage keeps no
 *   readable copy of its bytes (SQLite overwrites the freed content, PostgreSQL vacuums
 *   the table after the delete).
 * - A key made after a delete is a new key: records written under the old one stay
 *   unreadable.
 * - An adapter that holds keys also creates them inside its write transactions
 *   ({@linkcode KeyStorageTransaction}), so a subject's key commits with its first event
 *   or not at all. A `keyStore` other than the adapter (a KMS) is asked with `createKey`
 *   before the append instead.
 *
 * @module
 */

/** Where data keys live: the adapter's own table, or anything else (a KMS). */
export interface KeyStore {
  /**
   * The keys of the subjects that have one; subjects without a key (never given one, or
   * forgotten) are left out.
   *
   * @param subjects the subjects
   */
  getKeys(subjects: readonly string[]): Promise<Map<string, Uint8Array>>;
  /**
   * Stores `key` as the key of `subject` unless it has one already.
   *
   * @param subject the subject
   * @param key 32 random bytes (AES-256)
   * @returns the key the subject has now: `key`, or the one stored before
   */
  createKey(subject: string, key: Uint8Array): Promise<Uint8Array>;
  /**
   * Destroys the key of `subject`. Idempotent.
   *
   * @param subject the subject
   * @returns true when a key was destroyed, false when there was none
   */
  deleteKey(subject: string): Promise<boolean>;
}

/** The key part of one write transaction, of an adapter that holds keys. */
export interface KeyStorageTransaction {
  /**
   * Stores each key unless its subject has one already (interactive adapters: at once,
   * seeing what committed transactions stored), in this transaction.
   *
   * @param keys subject to 32 random bytes
   * @returns the key each subject has now: the one given, or the one stored before
   */
  createKeys?(keys: ReadonlyMap<string, Uint8Array>): Promise<Map<string, Uint8Array>>;
}
