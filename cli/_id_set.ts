/**
 * A compact set of event ids for finding duplicates in one pass over a large log: it
 * keeps a 64-bit hash per id (16 bytes per id with its free slots, where a `Set` of
 * strings takes several times that). Two ids with the same hash are reported as
 * suspects; the caller confirms them with a second look at the ids themselves.
 *
 * @module
 */

const EMPTY_LO = 0;
const EMPTY_HI = 0;

function hashes(text: string): [number, number] {
  // FNV-1a and a multiply-xorshift mix, each 32 bits, over the UTF-16 code units.
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a >>>= 0;
  b = (Math.imul(b ^ (b >>> 13), 0xc2b2ae35) ^ text.length) >>> 0;
  // (0, 0) marks a free slot.
  return a === EMPTY_LO && b === EMPTY_HI ? [1, 0] : [a, b];
}

/**
 * The hash key of an id, as the set compares them.
 *
 * @param id the id
 * @returns a string naming its 64-bit hash
 */
export function idHash(id: string): string {
  const [a, b] = hashes(id);
  return `${a.toString(16)}:${b.toString(16)}`;
}

/** Open-addressing hash set of 64-bit id hashes. */
export class IdSet {
  #lo: Uint32Array;
  #hi: Uint32Array;
  #mask: number;
  #size = 0;

  /** @param capacity expected number of ids (the set grows past it) */
  constructor(capacity = 1024) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#lo = new Uint32Array(slots);
    this.#hi = new Uint32Array(slots);
    this.#mask = slots - 1;
  }

  /** How many distinct hashes it holds. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds an id.
   *
   * @param id the id
   * @returns false when an id with the same hash was added before (probably the same id)
   */
  add(id: string): boolean {
    const [a, b] = hashes(id);
    if (this.#insert(a, b)) {
      if (++this.#size * 2 > this.#lo.length) this.#grow();
      return true;
    }
    return false;
  }

  #insert(a: number, b: number): boolean {
    let slot = (a ^ Math.imul(b, 0x9e3779b1)) & this.#mask;
    for (;;) {
      const lo = this.#lo[slot];
      const hi = this.#hi[slot];
      if (lo === EMPTY_LO && hi === EMPTY_HI) {
        this.#lo[slot] = a;
        this.#hi[slot] = b;
        return true;
      }
      if (lo === a && hi === b) return false;
      slot = (slot + 1) & this.#mask;
    }
  }

  #grow(): void {
    const lo = this.#lo;
    const hi = this.#hi;
    this.#lo = new Uint32Array(lo.length * 2);
    this.#hi = new Uint32Array(hi.length * 2);
    this.#mask = this.#lo.length - 1;
    for (let i = 0; i < lo.length; i++) {
      if (lo[i] !== EMPTY_LO || hi[i] !== EMPTY_HI) this.#insert(lo[i], hi[i]);
    }
  }
}
