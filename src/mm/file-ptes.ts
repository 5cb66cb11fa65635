/**
 * The page-table entries of one VMA for file pages: which file pages the
 * VMA's page table maps, each with its PTE dirty bit (pte_dirty), keyed by
 * file page index (= the VMA's linear page index, so the keys stay valid
 * when the VMA is split, merged or moved with its pgoff).
 *
 * Like a page table it is two-level: leaves of LEAF_PAGES entries (a
 * present bitmap and a dirty bitmap in one 64-byte Int32Array, which V8
 * keeps on its own heap: no backing store to allocate), created when their
 * first PTE is set and dropped when their last one goes, found by leaf
 * number in a Map. A dense mapping costs 64 bytes per 256 pages and a
 * first touch sets two bits (a Map with an entry per page cost ~0.1 µs per
 * first touch to grow to 16 384 entries); a 1 TiB mapping with one page
 * touched holds one leaf. A VMA whose PTEs all fall in one leaf (most small
 * mappings) needs no Map: the leaf is kept in the one-entry cache.
 */
import { pinShape } from './shapes.js';

/** PTEs per leaf. */
export const LEAF_PAGES = 256;
const WORDS = LEAF_PAGES / 32;
/** An all-zero leaf, never written: the cache's value when it holds nothing. */
const NO_LEAF = new Int32Array(2 * WORDS);

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Bits [a, b) of a 32-bit word (0 <= a <= b <= 32). */
function bitsBetween(a: number, b: number): number {
  if (a >= b) return 0;
  const hi = b === 32 ? -1 : (1 << b) - 1;
  return hi & ~((1 << a) - 1);
}

function isEmpty(leaf: Int32Array): boolean {
  for (let w = 0; w < WORDS; w++) if (leaf[w] !== 0) return false;
  return true;
}

export class FilePtes {
  /** Number of PTEs. */
  size = 0;
  /**
   * Leaves by leaf number (index / LEAF_PAGES), or null while the PTEs fit in
   * one leaf: that leaf is then lastLeaf (lastKey -1 when there is none).
   */
  private leaves: Map<number, Int32Array> | null = null;
  /** The last leaf used and its number (a one-entry cache over `leaves`). */
  private lastKey = -1;
  private lastLeaf: Int32Array = NO_LEAF;

  /** Number of leaves. */
  private get leafCount(): number {
    return this.leaves !== null ? this.leaves.size : this.lastKey >= 0 ? 1 : 0;
  }

  private getLeaf(key: number): Int32Array | undefined {
    if (key === this.lastKey) return this.lastLeaf;
    if (this.leaves === null) return undefined;
    const l = this.leaves.get(key);
    if (l !== undefined) { this.lastKey = key; this.lastLeaf = l; }
    return l;
  }

  private addLeaf(key: number, leaf: Int32Array): void {
    if (this.leaves === null) {
      if (this.lastKey < 0) { this.lastKey = key; this.lastLeaf = leaf; return; }
      this.leaves = new Map([[this.lastKey, this.lastLeaf]]);
    }
    this.leaves.set(key, leaf);
    this.lastKey = key;
    this.lastLeaf = leaf;
  }

  private deleteLeaf(key: number): void {
    if (this.leaves !== null) {
      this.leaves.delete(key);
      if (this.leaves.size === 0) this.leaves = null;
    }
    if (key === this.lastKey || this.leaves === null) { this.lastKey = -1; this.lastLeaf = NO_LEAF; }
  }

  /** Leaf numbers in [kLo, kHi], ascending. */
  private leafKeys(kLo: number, kHi: number): number[] {
    const out: number[] = [];
    if (this.leaves === null) {
      if (this.lastKey >= kLo && this.lastKey <= kHi) out.push(this.lastKey);
    } else if (kHi - kLo < this.leaves.size) {
      for (let k = kLo; k <= kHi; k++) if (this.leaves.has(k)) out.push(k);
    } else {
      for (const k of this.leaves.keys()) if (k >= kLo && k <= kHi) out.push(k);
      out.sort((a, b) => a - b);
    }
    return out;
  }

  /** Whether file page `i` is mapped. */
  has(i: number): boolean {
    const key = Math.floor(i / LEAF_PAGES);
    const leaf = this.getLeaf(key);
    if (leaf === undefined) return false;
    const j = i - key * LEAF_PAGES;
    return (leaf[j >>> 5]! & (1 << (j & 31))) !== 0;
  }

  /** The dirty bit of the PTE of page `i` (false when there is none). */
  isDirty(i: number): boolean {
    const key = Math.floor(i / LEAF_PAGES);
    const leaf = this.getLeaf(key);
    if (leaf === undefined) return false;
    const j = i - key * LEAF_PAGES;
    return (leaf[WORDS + (j >>> 5)]! & (1 << (j & 31))) !== 0;
  }

  /**
   * Maps page `i` (a dirty PTE when `dirty`; an existing PTE only ever
   * gains the dirty bit). Returns whether the PTE is new.
   */
  set(i: number, dirty: boolean): boolean {
    const key = Math.floor(i / LEAF_PAGES);
    let leaf = this.getLeaf(key);
    if (leaf === undefined) {
      leaf = new Int32Array(2 * WORDS);
      this.addLeaf(key, leaf);
    }
    const j = i - key * LEAF_PAGES;
    const w = j >>> 5, bit = 1 << (j & 31);
    if (dirty) leaf[WORDS + w] |= bit;
    if (leaf[w]! & bit) return false;
    leaf[w] |= bit;
    this.size++;
    return true;
  }

  /** Unmaps page `i`, which must be mapped; returns its PTE's dirty bit. */
  delete(i: number): boolean {
    const key = Math.floor(i / LEAF_PAGES);
    const leaf = this.getLeaf(key);
    const j = i - key * LEAF_PAGES;
    const w = j >>> 5, bit = 1 << (j & 31);
    if (leaf === undefined || !(leaf[w]! & bit)) throw new Error(`FilePtes: page ${i} is not mapped`);
    const dirty = (leaf[WORDS + w]! & bit) !== 0;
    leaf[w] &= ~bit;
    leaf[WORDS + w] &= ~bit;
    this.size--;
    if (leaf[w] === 0 && isEmpty(leaf)) this.deleteLeaf(key);
    return dirty;
  }

  /**
   * The mapped pages in [lo, hi), ascending. (Callers that change the PTEs
   * iterate this array; no callbacks: a closure per call would be a new
   * call target for the optimised loop each time.)
   */
  keysIn(lo: number, hi: number): number[] {
    const out: number[] = [];
    if (this.size === 0 || lo >= hi) return out;
    const kLo = Math.floor(lo / LEAF_PAGES), kHi = Math.floor((hi - 1) / LEAF_PAGES);
    for (const key of this.leafKeys(kLo, kHi)) {
      const leaf = this.getLeaf(key)!;
      const base = key * LEAF_PAGES;
      const a = Math.max(lo - base, 0), b = Math.min(hi - base, LEAF_PAGES);
      for (let w = a >>> 5; w < WORDS && w * 32 < b; w++) {
        let bits = leaf[w]! & bitsBetween(Math.max(a - w * 32, 0), Math.min(b - w * 32, 32));
        while (bits !== 0) {
          const low = bits & -bits;
          out.push(base + w * 32 + 31 - Math.clz32(low));
          bits ^= low;
        }
      }
    }
    return out;
  }

  /** Every mapped page, ascending. */
  keys(): number[] {
    return this.keysIn(0, Infinity);
  }

  /** Number of PTEs in [lo, hi). */
  countIn(lo: number, hi: number): number {
    if (this.size === 0 || lo >= hi) return 0;
    const kLo = Math.floor(lo / LEAF_PAGES), kHi = Math.floor((hi - 1) / LEAF_PAGES);
    let n = 0;
    for (const key of this.leafKeys(kLo, kHi)) {
      const leaf = this.getLeaf(key)!;
      const base = key * LEAF_PAGES;
      const a = Math.max(lo - base, 0), b = Math.min(hi - base, LEAF_PAGES);
      for (let w = a >>> 5; w < WORDS && w * 32 < b; w++) {
        n += popcount(leaf[w]! & bitsBetween(Math.max(a - w * 32, 0), Math.min(b - w * 32, 32)));
      }
    }
    return n;
  }

  /**
   * Moves the PTEs of [lo, hi) into `dst` (split, merge, mremap): whole
   * leaves change hands, partial ones are copied bit by bit.
   */
  moveTo(dst: FilePtes, lo: number, hi: number): void {
    if (dst === this || this.size === 0 || lo >= hi) return;
    const kLo = Math.floor(lo / LEAF_PAGES), kHi = Math.floor((hi - 1) / LEAF_PAGES);
    for (const key of this.leafKeys(kLo, kHi)) {
      const leaf = this.getLeaf(key)!;
      const base = key * LEAF_PAGES;
      const a = Math.max(lo - base, 0), b = Math.min(hi - base, LEAF_PAGES);
      let into = dst.getLeaf(key);
      if (a === 0 && b === LEAF_PAGES && into === undefined) {
        let n = 0;
        for (let w = 0; w < WORDS; w++) n += popcount(leaf[w]!);
        this.deleteLeaf(key);
        this.size -= n;
        dst.addLeaf(key, leaf);
        dst.size += n;
        continue;
      }
      for (let w = a >>> 5; w < WORDS && w * 32 < b; w++) {
        const bits = leaf[w]! & bitsBetween(Math.max(a - w * 32, 0), Math.min(b - w * 32, 32));
        if (bits === 0) continue;
        if (into === undefined) { into = new Int32Array(2 * WORDS); dst.addLeaf(key, into); }
        if (into[w]! & bits) throw new Error(`FilePtes: moving PTEs onto mapped pages (leaf ${key})`);
        const n = popcount(bits);
        into[w] |= bits;
        into[WORDS + w] |= leaf[WORDS + w]! & bits;
        dst.size += n;
        leaf[w] &= ~bits;
        leaf[WORDS + w] &= ~bits;
        this.size -= n;
      }
      if (isEmpty(leaf)) this.deleteLeaf(key);
    }
  }
}

// On every first touch of a file page: keep the hidden class (see shapes.ts).
pinShape(new FilePtes());
