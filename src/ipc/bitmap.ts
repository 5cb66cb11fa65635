/**
 * A two-level occupancy bitmap over [0, size): the index-allocation state of
 * an IDR (lib/idr.c keeps the same information as the IDR_FREE tags of its
 * radix tree). Gives O(size / 1024) worst-case searches for the next free or
 * next/previous used index, O(1) updates.
 *
 * Invariants: bit i of `words` is set iff index i is used; bit w of `full` is
 * set iff words[w] === -1 (all 32 used); bit w of `nonEmpty` is set iff
 * words[w] !== 0. `size` is a multiple of 1024 (IPCMNI and IPCMNI_EXTEND are).
 */

function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}
function highBit(x: number): number {
  return 31 - Math.clz32(x);
}
/** Bits b..31. */
function maskFrom(b: number): number {
  return (-1 << b) | 0;
}
/** Bits 0..b. */
function maskUpTo(b: number): number {
  return b === 31 ? -1 : (1 << (b + 1)) - 1;
}

export class IndexBitmap {
  readonly size: number;
  readonly #words: Int32Array;
  readonly #full: Int32Array;
  readonly #nonEmpty: Int32Array;

  constructor(size: number) {
    if (size <= 0 || size % 1024 !== 0) throw new RangeError('IndexBitmap size must be a positive multiple of 1024');
    this.size = size;
    this.#words = new Int32Array(size >>> 5);
    this.#full = new Int32Array(size >>> 10);
    this.#nonEmpty = new Int32Array(size >>> 10);
  }

  test(i: number): boolean {
    return ((this.#words[i >>> 5] >>> (i & 31)) & 1) === 1;
  }

  set(i: number): void {
    const w = i >>> 5;
    this.#words[w] |= 1 << (i & 31);
    this.#summarise(w);
  }

  clear(i: number): void {
    const w = i >>> 5;
    this.#words[w] &= ~(1 << (i & 31));
    this.#summarise(w);
  }

  #summarise(w: number): void {
    const v = this.#words[w];
    const s = w >>> 5;
    const bit = 1 << (w & 31);
    if (v === -1) this.#full[s] |= bit;
    else this.#full[s] &= ~bit;
    if (v !== 0) this.#nonEmpty[s] |= bit;
    else this.#nonEmpty[s] &= ~bit;
  }

  /** Lowest word index >= w whose summary bit is set (invert: clear), or -1. */
  #nextWord(summary: Int32Array, invert: boolean, w: number): number {
    const nw = this.#words.length;
    if (w >= nw) return -1;
    let s = w >>> 5;
    let bits = (invert ? ~summary[s] : summary[s]) & maskFrom(w & 31);
    for (;;) {
      if (bits !== 0) return (s << 5) + ctz(bits);
      s++;
      if (s >= summary.length) return -1;
      bits = invert ? ~summary[s] : summary[s];
    }
  }

  /** Lowest free index in [from, end) (end clipped to size), or -1. */
  findNextZero(from: number, end: number): number {
    const limit = Math.min(end, this.size);
    if (from < 0) from = 0;
    if (from >= limit) return -1;
    let w = from >>> 5;
    let bits = ~this.#words[w] & maskFrom(from & 31);
    if (bits === 0) {
      w = this.#nextWord(this.#full, true, w + 1);
      if (w < 0) return -1;
      bits = ~this.#words[w];
    }
    const r = (w << 5) + ctz(bits);
    return r < limit ? r : -1;
  }

  /** Lowest used index >= from, or -1. */
  findNextSet(from: number): number {
    if (from < 0) from = 0;
    if (from >= this.size) return -1;
    let w = from >>> 5;
    let bits = this.#words[w] & maskFrom(from & 31);
    if (bits === 0) {
      w = this.#nextWord(this.#nonEmpty, false, w + 1);
      if (w < 0) return -1;
      bits = this.#words[w];
    }
    return (w << 5) + ctz(bits);
  }

  /** Highest used index <= from, or -1. */
  findPrevSet(from: number): number {
    if (from < 0) return -1;
    if (from >= this.size) from = this.size - 1;
    let w = from >>> 5;
    let bits = this.#words[w] & maskUpTo(from & 31);
    if (bits !== 0) return (w << 5) + highBit(bits);
    w--;
    if (w < 0) return -1;
    let s = w >>> 5;
    let sbits = this.#nonEmpty[s] & maskUpTo(w & 31);
    for (;;) {
      if (sbits !== 0) {
        const ww = (s << 5) + highBit(sbits);
        return (ww << 5) + highBit(this.#words[ww]);
      }
      s--;
      if (s < 0) return -1;
      sbits = this.#nonEmpty[s];
    }
  }
}
