/**
 * The ordered set of VMAs of an address space (what the maple tree is to
 * Linux): a treap keyed by vm_start, augmented in every subtree with its
 * lowest start, highest end, highest start and the largest gap between two
 * consecutive VMAs inside it. That gives O(log n) lookups, insertions,
 * removals and the gap searches of vm_unmapped_area() (highest gap below a
 * limit for top-down placement, lowest gap above a limit for bottom-up).
 * The VMAs are also chained in address order (vma.prev / vma.next).
 */
import type { Vma } from './vma.js';

class Node {
  readonly vma: Vma;
  readonly prio: number;
  left: Node | null = null;
  right: Node | null = null;
  /** Lowest vm_start in the subtree. */
  lo = 0;
  /** Highest vm_end in the subtree. */
  hi = 0;
  /** Highest vm_start in the subtree. */
  lastStart = 0;
  /** Largest gap between two consecutive VMAs of the subtree. */
  gap = 0;
  constructor(vma: Vma, prio: number) { this.vma = vma; this.prio = prio; }
}

function pull(n: Node): Node {
  const v = n.vma;
  const l = n.left;
  const r = n.right;
  n.lo = l ? l.lo : v.start;
  n.hi = r ? r.hi : v.end;
  n.lastStart = r ? r.lastStart : v.start;
  let g = 0;
  if (l) { g = l.gap; const d = v.start - l.hi; if (d > g) g = d; }
  if (r) { if (r.gap > g) g = r.gap; const d = r.lo - v.end; if (d > g) g = d; }
  n.gap = g;
  return n;
}

/** Results of split() (avoids allocating a tuple per level). */
let splitL: Node | null = null;
let splitR: Node | null = null;

/** Splits t into splitL (keys < key) and splitR (keys >= key). */
function split(t: Node | null, key: number): void {
  if (!t) { splitL = splitR = null; return; }
  if (t.vma.start < key) {
    split(t.right, key);
    t.right = splitL;
    splitL = pull(t);
  } else {
    split(t.left, key);
    t.left = splitR;
    splitR = pull(t);
  }
}

function merge(a: Node | null, b: Node | null): Node | null {
  if (!a) return b;
  if (!b) return a;
  if (a.prio > b.prio) {
    a.right = merge(a.right, b);
    return pull(a);
  }
  b.left = merge(a, b.left);
  return pull(b);
}

/** Inserts node (not in t) below t. */
function ins(t: Node | null, node: Node): Node {
  if (!t) return node;
  const key = node.vma.start;
  if (node.prio > t.prio) {
    split(t, key);
    node.left = splitL;
    node.right = splitR;
    return pull(node);
  }
  if (key < t.vma.start) t.left = ins(t.left, node); else t.right = ins(t.right, node);
  return pull(t);
}

/** Removes node (found by its key) from t. */
function del(t: Node | null, key: number, node: Node): Node | null {
  if (!t) throw new Error('VmaTree: corrupted tree');
  if (t === node) return merge(t.left, t.right);
  if (key < t.vma.start) t.left = del(t.left, key, node); else t.right = del(t.right, key, node);
  return pull(t);
}

/** xorshift32 for node priorities (deterministic). */
let seed = 0x9e3779b9;
function rand(): number {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed;
}

export class VmaTree {
  private root: Node | null = null;
  private readonly nodes = new Map<Vma, Node>();
  /** Lowest VMA. */
  first: Vma | null = null;
  /** Highest VMA. */
  last: Vma | null = null;
  /** Sum of the VMA sizes in bytes (mm->total_vm * PAGE_SIZE). */
  totalBytes = 0;

  get size(): number { return this.nodes.size; }

  has(vma: Vma): boolean { return this.nodes.has(vma); }

  /** The VMA with the smallest end > addr (find_vma), or null. */
  find(addr: number): Vma | null {
    let n = this.root;
    let best: Vma | null = null;
    while (n) {
      if (n.vma.end > addr) { best = n.vma; n = n.left; } else n = n.right;
    }
    return best;
  }

  /** The VMA containing addr (vma_lookup), or null. */
  lookup(addr: number): Vma | null {
    const v = this.find(addr);
    return v && v.start <= addr ? v : null;
  }

  /** The first VMA intersecting [start, end) (find_vma_intersection), or null. */
  intersection(start: number, end: number): Vma | null {
    const v = this.find(start);
    return v && v.start < end ? v : null;
  }

  /** The last VMA with start < addr, or null. */
  findPrev(addr: number): Vma | null {
    let n = this.root;
    let best: Vma | null = null;
    while (n) {
      if (n.vma.start < addr) { best = n.vma; n = n.right; } else n = n.left;
    }
    return best;
  }

  /** Inserts a VMA; it must not overlap any VMA of the tree. */
  insert(vma: Vma): void {
    if (this.nodes.has(vma)) throw new Error('VmaTree: VMA inserted twice');
    if (!(vma.start < vma.end)) throw new Error(`VmaTree: empty VMA ${vma}`);
    const next = this.find(vma.start);
    if (next && next.start < vma.end) throw new Error(`VmaTree: ${vma} overlaps ${next}`);
    const prev = next ? next.prev : this.last;
    const node = pull(new Node(vma, rand()));
    this.root = ins(this.root, node);
    this.nodes.set(vma, node);
    this.totalBytes += vma.end - vma.start;
    vma.prev = prev;
    vma.next = next;
    if (prev) prev.next = vma; else this.first = vma;
    if (next) next.prev = vma; else this.last = vma;
  }

  /**
   * Links VMAs sorted by address (non-overlapping) into an empty tree in
   * O(n): dup_mmap() copies a whole address space in order, where n
   * insertions would cost O(n log n) with a split and a merge each. The
   * treap is built as a Cartesian tree over the priorities (a stack holds
   * its right spine), then augmented bottom-up.
   */
  buildSorted(vmas: readonly Vma[]): void {
    if (this.nodes.size !== 0) throw new Error('VmaTree: buildSorted on a non-empty tree');
    const spine: Node[] = [];
    let prev: Vma | null = null;
    for (const vma of vmas) {
      if (!(vma.start < vma.end)) throw new Error(`VmaTree: empty VMA ${vma}`);
      if (prev && prev.end > vma.start) throw new Error(`VmaTree: ${vma} overlaps or precedes ${prev}`);
      if (this.nodes.has(vma)) throw new Error('VmaTree: VMA inserted twice');
      const node = new Node(vma, rand());
      let below: Node | null = null;
      while (spine.length && spine[spine.length - 1]!.prio < node.prio) below = spine.pop()!;
      node.left = below;
      if (spine.length) spine[spine.length - 1]!.right = node;
      spine.push(node);
      this.nodes.set(vma, node);
      this.totalBytes += vma.end - vma.start;
      vma.prev = prev;
      vma.next = null;
      if (prev) prev.next = vma; else this.first = vma;
      prev = vma;
    }
    this.last = prev;
    this.root = spine[0] ?? null;
    const augment = (n: Node | null): void => {
      if (!n) return;
      augment(n.left);
      augment(n.right);
      pull(n);
    };
    augment(this.root);
  }

  /** Unlinks every VMA at once (exit_mmap: the whole tree goes). */
  clear(): void {
    for (const vma of this.nodes.keys()) vma.prev = vma.next = null;
    for (const node of this.nodes.values()) node.left = node.right = null;
    this.nodes.clear();
    this.root = null;
    this.first = this.last = null;
    this.totalBytes = 0;
  }

  /** Removes a VMA. */
  remove(vma: Vma): void {
    const node = this.nodes.get(vma);
    if (!node) throw new Error(`VmaTree: ${vma} is not in the tree`);
    this.root = del(this.root, vma.start, node);
    node.left = node.right = null;
    this.nodes.delete(vma);
    this.totalBytes -= vma.end - vma.start;
    if (vma.prev) vma.prev.next = vma.next; else this.first = vma.next;
    if (vma.next) vma.next.prev = vma.prev; else this.last = vma.prev;
    vma.prev = vma.next = null;
  }

  /**
   * Changes the range of a VMA of the tree. The new range must not overlap the
   * other VMAs (it may overlap its own old range only).
   */
  setRange(vma: Vma, start: number, end: number): void {
    if (!(start < end)) throw new Error('VmaTree: empty range');
    const p = vma.prev;
    const n = vma.next;
    if ((p && p.end > start) || (n && n.start < end)) throw new Error(`VmaTree: new range of ${vma} overlaps a neighbour`);
    const node = this.nodes.get(vma);
    if (!node) throw new Error(`VmaTree: ${vma} is not in the tree`);
    // The order of the VMAs does not change, so the treap stays a valid
    // search tree: update the node and the augmentation on its path.
    const key = vma.start;
    this.totalBytes += (end - start) - (vma.end - vma.start);
    const path: Node[] = [];
    let cur = this.root;
    while (cur && cur !== node) {
      path.push(cur);
      cur = key < cur.vma.start ? cur.left : cur.right;
    }
    if (!cur) throw new Error('VmaTree: corrupted tree');
    vma.start = start;
    vma.end = end;
    pull(node);
    for (let i = path.length - 1; i >= 0; i--) pull(path[i]!);
  }

  /** VMAs in address order, starting with the first whose end > addr. */
  *from(addr: number): IterableIterator<Vma> {
    let v = this.find(addr);
    while (v) {
      const nx = v.next;
      yield v;
      v = nx;
    }
  }

  /** Every VMA in address order. */
  *[Symbol.iterator](): IterableIterator<Vma> {
    let v = this.first;
    while (v) {
      const nx = v.next;
      yield v;
      v = nx;
    }
  }

  toArray(): Vma[] {
    const out: Vma[] = [];
    for (let v = this.first; v; v = v.next) out.push(v);
    return out;
  }

  /**
   * Highest free range of at least `len` bytes inside [low, high)
   * (mas_empty_area_rev): returns its end clamped to `high`, or -1.
   */
  highestGapEnd(len: number, low: number, high: number): number {
    if (len <= 0 || high - low < len) return -1;
    const r = this.root;
    // The gap above the last VMA.
    const lastEnd = r ? r.hi : 0;
    if (Math.max(lastEnd, low) + len <= high) return high;
    if (!r) return -1;
    return this.searchDown(r, 0, len, low, high);
  }

  private searchDown(n: Node, prevEnd: number, len: number, low: number, high: number): number {
    // Gaps of this subtree: [prevEnd, lo) and the inner ones; all start >= prevEnd, end <= lastStart.
    const lead = n.lo - prevEnd;
    if (lead < len && n.gap < len) return -1;
    if (prevEnd + len > high || n.lastStart < low + len) return -1;
    const v = n.vma;
    if (n.right) {
      const g = this.searchDown(n.right, v.end, len, low, high);
      if (g >= 0) return g;
    }
    const gs = Math.max(n.left ? n.left.hi : prevEnd, low);
    const ge = Math.min(v.start, high);
    if (gs + len <= ge) return ge;
    if (n.left) return this.searchDown(n.left, prevEnd, len, low, high);
    return -1;
  }

  /**
   * Lowest free range of at least `len` bytes inside [low, high)
   * (mas_empty_area): returns its start clamped to `low`, or -1.
   */
  lowestGapStart(len: number, low: number, high: number): number {
    if (len <= 0 || high - low < len) return -1;
    const r = this.root;
    if (r) {
      const g = this.searchUp(r, 0, len, low, high);
      if (g >= 0) return g;
    }
    const lastEnd = r ? r.hi : 0;
    const gs = Math.max(lastEnd, low);
    return gs + len <= high ? gs : -1;
  }

  private searchUp(n: Node, prevEnd: number, len: number, low: number, high: number): number {
    const lead = n.lo - prevEnd;
    if (lead < len && n.gap < len) return -1;
    if (prevEnd + len > high || n.lastStart < low + len) return -1;
    const v = n.vma;
    if (n.left) {
      const g = this.searchUp(n.left, prevEnd, len, low, high);
      if (g >= 0) return g;
    }
    const gs = Math.max(n.left ? n.left.hi : prevEnd, low);
    const ge = Math.min(v.start, high);
    if (gs + len <= ge) return gs;
    if (n.right) return this.searchUp(n.right, v.end, len, low, high);
    return -1;
  }

  /** Checks the invariants (tests). */
  validate(): void {
    const arr: Vma[] = [];
    const walk = (n: Node | null): void => {
      if (!n) return;
      walk(n.left);
      arr.push(n.vma);
      walk(n.right);
      const l = n.left, r = n.right;
      const lo = l ? l.lo : n.vma.start, hi = r ? r.hi : n.vma.end;
      if (n.lo !== lo || n.hi !== hi) throw new Error('VmaTree: stale augmentation');
      if ((l && l.prio > n.prio) || (r && r.prio > n.prio)) throw new Error('VmaTree: heap order');
    };
    walk(this.root);
    if (arr.length !== this.nodes.size) throw new Error('VmaTree: size mismatch');
    let p: Vma | null = null;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      if (!(v.start < v.end)) throw new Error('VmaTree: empty VMA');
      if (p && p.end > v.start) throw new Error('VmaTree: overlap');
      if (v.prev !== p) throw new Error('VmaTree: broken prev link');
      if (p && p.next !== v) throw new Error('VmaTree: broken next link');
      p = v;
    }
    if (this.first !== (arr[0] ?? null) || this.last !== (arr[arr.length - 1] ?? null)) throw new Error('VmaTree: first/last');
  }
}
