/**
 * The key table of an ipc_ids (Linux: the `key_ht` rhashtable of ipc/util.c,
 * keyed by key_t): key -> object for every registered object whose key is
 * not IPC_PRIVATE.
 *
 * Why not a Map: shmget(key, 0, 0) is the most frequent SysV IPC call, and a
 * Map keyed by numbers costs a boxed heap number per lookup for the keys
 * above 2^30 that ftok() and applications use (0x5b000000...), plus a call
 * into the Map builtin; this table is an open-addressing hash over an
 * Int32Array that the JIT inlines into the caller (bench: lookup).
 *
 * Layout: linear probing, power-of-two capacity, load factor at most 1/2.
 * Key 0 is IPC_PRIVATE, which is never stored, so 0 marks an empty slot and a
 * probe reads only the key array until it hits. Deletion shifts the following
 * cluster back (no tombstones), so a lookup of an absent key always ends at
 * an empty slot within a short distance.
 */
import { IPC_PRIVATE } from '../abi/constants.js';

/** Smallest capacity (slots); the table never shrinks below it. */
const MIN_CAPACITY = 16;

/** Fibonacci hashing: the top `bits` bits of key * 2^32/phi. */
function slotOf(key: number, shift: number): number {
  return Math.imul(key, 0x9e3779b1) >>> shift;
}

export class KeyTable<T> {
  /** keys[i] === 0: slot i is empty; else objs[i] is the object with that key. */
  #keys = new Int32Array(MIN_CAPACITY);
  #objs: (T | undefined)[] = new Array<T | undefined>(MIN_CAPACITY).fill(undefined);
  /** capacity - 1. */
  #mask = MIN_CAPACITY - 1;
  /** 32 - log2(capacity): the hash's top bits select the slot. */
  #shift = 32 - Math.log2(MIN_CAPACITY);
  /** Invariant: the number of non-empty slots; 2 * size <= capacity. */
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The object stored under `key` (a key_t, taken as a signed 32-bit value). */
  get(key: number): T | undefined {
    key |= 0;
    // No test for IPC_PRIVATE: key 0 matches the first empty slot, whose object is undefined.
    const keys = this.#keys;
    const mask = this.#mask;
    let i = slotOf(key, this.#shift);
    for (;;) {
      const k = keys[i]!;
      if (k === key) return this.#objs[i];
      if (k === 0) return undefined;
      i = (i + 1) & mask;
    }
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores `obj` under `key` (not IPC_PRIVATE), replacing any object already there. */
  set(key: number, obj: T): void {
    key |= 0;
    if (key === IPC_PRIVATE) throw new RangeError('KeyTable.set: IPC_PRIVATE is never a table key');
    const i = this.#find(key);
    if (this.#keys[i] === key) {
      this.#objs[i] = obj;
      return;
    }
    if (2 * (this.#size + 1) > this.#keys.length) {
      this.#resize(this.#keys.length * 2);
      this.#place(key, obj);
    } else {
      this.#keys[i] = key;
      this.#objs[i] = obj;
    }
    this.#size++;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: number): boolean {
    key |= 0;
    if (key === IPC_PRIVATE) return false;
    const keys = this.#keys;
    const mask = this.#mask;
    let i = this.#find(key);
    if (keys[i] !== key) return false;
    // Backward-shift deletion (Knuth 6.4 algorithm R): move every later
    // entry of the cluster whose home slot is not in (i, j] into the hole.
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = slotOf(keys[j]!, this.#shift);
      // j's entry may fill the hole at i iff its home is not cyclically in (i, j].
      const movable = i <= j ? home <= i || home > j : home <= i && home > j;
      if (movable) {
        keys[i] = keys[j]!;
        this.#objs[i] = this.#objs[j];
        i = j;
      }
    }
    keys[i] = 0;
    this.#objs[i] = undefined;
    this.#size--;
    if (this.#keys.length > MIN_CAPACITY && 8 * this.#size < this.#keys.length) this.#resize(this.#keys.length / 2);
    return true;
  }

  /** [key, object] pairs, in slot order (unordered, like an rhashtable walk). */
  *entries(): IterableIterator<[number, T]> {
    const keys = this.#keys;
    const objs = this.#objs;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== 0) yield [keys[i]!, objs[i]!];
    }
  }

  /** The slot holding `key`, or the empty slot where its probe ends. */
  #find(key: number): number {
    const keys = this.#keys;
    const mask = this.#mask;
    let i = slotOf(key, this.#shift);
    while (keys[i] !== 0 && keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  /** Inserts a key known to be absent, with room to spare. */
  #place(key: number, obj: T): void {
    const i = this.#find(key);
    this.#keys[i] = key;
    this.#objs[i] = obj;
  }

  #resize(capacity: number): void {
    const oldKeys = this.#keys;
    const oldObjs = this.#objs;
    this.#keys = new Int32Array(capacity);
    this.#objs = new Array<T | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#shift = 32 - Math.log2(capacity);
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] !== 0) this.#place(oldKeys[i]!, oldObjs[i]!);
    }
  }
}
