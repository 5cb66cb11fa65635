/**
 * The ordered set of VMAs of an address space, in the image of Linux's maple
 * tree (lib/maple_tree.c): a B-tree of wide nodes, 16 slots each. A leaf holds
 * up to 16 VMAs in address order; an internal node holds up to 16 children
 * and keeps, per child, its lowest start, its highest end (the pivot) and the
 * largest gap between two consecutive VMAs inside it (ma_gaps of
 * maple_arange_64). The gap between two neighbouring children is read from
 * their pivots in the parent. With 60 000 VMAs the tree is 4-5 levels, so
 * find_vma(), insertion, removal and the gap searches of vm_unmapped_area()
 * (mas_empty_area_rev top-down, mas_empty_area bottom-up) each touch a
 * handful of nodes; a tree of a few VMAs is one leaf.
 *
 * Each VMA points back at its leaf (vma.treeLeaf), so removal and setRange
 * need no search and no side table. Every node keeps its parent and its slot
 * there, so a change is carried up to the root, stopping at the first
 * ancestor whose view of the child did not change. Nodes never shrink below
 * MIN_SLOTS (except the root): a node that does borrows from or merges with a
 * neighbour, as mas_rebalance() does; a full node splits in two halves
 * (mas_split()). Inserting and removing allocate nothing unless a node splits.
 *
 * The VMAs are also chained in address order (vma.prev / vma.next).
 */
import type { Vma } from './vma.js';

/** Slots per node (MAPLE_RANGE64_SLOTS). */
const MAX_SLOTS = 16;
/**
 * Fewest slots of a non-root node. A quarter, not a half: a node just split
 * (8 + 9) takes five removals before it rebalances, so alternating inserts
 * and removals at a node boundary do not split and merge every time.
 */
const MIN_SLOTS = 4;

/**
 * Sixteen numbers, created from a literal of non-integers so that V8 stores
 * them unboxed from the start (addresses do not fit a small integer).
 */
function numbers(): number[] {
  return [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
}

/** Sixteen +Infinity: the padding of `hi` above the slots in use. */
function padding(): number[] {
  return [
    Infinity, Infinity, Infinity, Infinity, Infinity, Infinity, Infinity, Infinity,
    Infinity, Infinity, Infinity, Infinity, Infinity, Infinity, Infinity, Infinity,
  ];
}

function emptySlots(): (Vma | VmaTreeNode | null)[] {
  return [null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null];
}

/** A node of the tree (struct maple_node); its kind never changes. */
class VmaTreeNode {
  /** The tree this node belongs to (VmaTree.has). */
  readonly owner: VmaTree;
  readonly leaf: boolean;
  /** Slots in use. */
  n = 0;
  parent: VmaTreeNode | null = null;
  /** This node's slot in its parent. */
  pslot = 0;
  /** The VMAs (leaf) or the children (internal node), in address order. */
  readonly slots: (Vma | VmaTreeNode | null)[] = emptySlots();
  /** Per slot: vm_start of the VMA, or the lowest vm_start below the child. */
  readonly lo: number[] = numbers();
  /**
   * Per slot: vm_end of the VMA, or the highest vm_end below the child (the
   * pivot). +Infinity above the slots in use, so that firstAbove() needs no
   * bound.
   */
  readonly hi: number[] = padding();
  /** Per slot of an internal node: the largest gap between two VMAs inside the child. */
  readonly gap: number[] | null;

  constructor(leaf: boolean, owner: VmaTree) {
    this.leaf = leaf;
    this.owner = owner;
    this.gap = leaf ? null : numbers();
  }
}
export type { VmaTreeNode };

/** The largest gap between two consecutive VMAs below x (its lead gap excluded). */
function maxGap(x: VmaTreeNode): number {
  const lo = x.lo, hi = x.hi, n = x.n, gp = x.gap;
  let g = 0;
  if (gp === null) {
    for (let i = 1; i < n; i++) { const d = lo[i]! - hi[i - 1]!; if (d > g) g = d; }
  } else {
    if (n > 0) g = gp[0]!;
    for (let i = 1; i < n; i++) {
      if (gp[i]! > g) g = gp[i]!;
      const d = lo[i]! - hi[i - 1]!;
      if (d > g) g = d;
    }
  }
  return g;
}

/**
 * The first slot whose hi is above addr, by a fixed four-step binary search
 * over the 16 slots; a result of 15 may also mean "none" (hi[15] <= addr).
 */
function firstAbove(hi: number[], addr: number): number {
  let i = hi[7]! <= addr ? 8 : 0;
  if (hi[i + 3]! <= addr) i += 4;
  if (hi[i + 1]! <= addr) i += 2;
  if (hi[i]! <= addr) i++;
  return i;
}

/** Frees slot j of x. */
function vacate(x: VmaTreeNode, j: number): void {
  x.slots[j] = null;
  x.hi[j] = Infinity;
}

/** Stores in x's parent the lowest start, highest end and largest gap of x. */
function describe(x: VmaTreeNode): void {
  const p = x.parent!;
  const i = x.pslot;
  p.lo[i] = x.lo[0]!;
  p.hi[i] = x.hi[x.n - 1]!;
  p.gap![i] = maxGap(x);
}

/**
 * Carries a change of x's slots up the tree (mas_update_gap): refreshes x's
 * entry in its parent, and so on up, until an entry is already right. Above
 * x only one entry of each node changes, so the node's largest gap follows
 * from its previous value (kept by its own parent) and the three gaps that
 * entry bounds; it is recounted only when the largest gap itself shrank.
 */
function fixUp(x: VmaTreeNode): void {
  let p = x.parent;
  if (p === null) return;
  let g = maxGap(x);
  for (;;) {
    const i = x.pslot;
    const lo = x.lo[0]!, hi = x.hi[x.n - 1]!;
    const pl = p.lo, ph = p.hi, pg = p.gap!;
    const oLo = pl[i]!, oHi = ph[i]!, oG = pg[i]!;
    if (oLo === lo && oHi === hi && oG === g) return;
    pl[i] = lo; ph[i] = hi; pg[i] = g;
    const pp: VmaTreeNode | null = p.parent;
    if (pp === null) return;
    const old = pp.gap![p.pslot]!;
    // The gaps bounded by entry i, after (c) and before (oc) the change.
    let c = g, oc = oG;
    if (i > 0) {
      const b = ph[i - 1]!;
      if (lo - b > c) c = lo - b;
      if (oLo - b > oc) oc = oLo - b;
    }
    if (i + 1 < p.n) {
      const a = pl[i + 1]!;
      if (a - hi > c) c = a - hi;
      if (a - oHi > oc) oc = a - oHi;
    }
    g = c >= old ? c : oc < old ? old : maxGap(p);
    x = p;
    p = pp;
  }
}

/** Makes slot i of x refer to item (sets the item's back-pointer). */
function adopt(x: VmaTreeNode, i: number, item: Vma | VmaTreeNode): void {
  x.slots[i] = item;
  if (x.leaf) (item as Vma).treeLeaf = x;
  else { (item as VmaTreeNode).parent = x; (item as VmaTreeNode).pslot = i; }
}

/** Moves slot `from` of src to slot `to` of dst (possibly the same node). */
function moveSlot(src: VmaTreeNode, from: number, dst: VmaTreeNode, to: number): void {
  adopt(dst, to, src.slots[from]!);
  dst.lo[to] = src.lo[from]!;
  dst.hi[to] = src.hi[from]!;
  if (dst.gap !== null) dst.gap[to] = src.gap![from]!;
}

/** Puts item at slot i of x (not full), shifting the slots above it. */
function putSlot(x: VmaTreeNode, i: number, item: Vma | VmaTreeNode, lo: number, hi: number, gap: number): void {
  const s = x.slots, l = x.lo, h = x.hi;
  if (x.leaf) {
    for (let j = x.n; j > i; j--) { s[j] = s[j - 1]!; l[j] = l[j - 1]!; h[j] = h[j - 1]!; }
    (item as Vma).treeLeaf = x;
  } else {
    const g = x.gap!;
    for (let j = x.n; j > i; j--) {
      const c = s[j - 1] as VmaTreeNode;
      s[j] = c; c.pslot = j;
      l[j] = l[j - 1]!; h[j] = h[j - 1]!; g[j] = g[j - 1]!;
    }
    g[i] = gap;
    (item as VmaTreeNode).parent = x;
    (item as VmaTreeNode).pslot = i;
  }
  s[i] = item; l[i] = lo; h[i] = hi;
  x.n++;
}

/** Removes slot i of x, shifting the slots above it down. */
function dropSlot(x: VmaTreeNode, i: number): void {
  const s = x.slots, l = x.lo, h = x.hi, n = x.n - 1;
  if (x.leaf) {
    for (let j = i; j < n; j++) { s[j] = s[j + 1]!; l[j] = l[j + 1]!; h[j] = h[j + 1]!; }
  } else {
    const g = x.gap!;
    for (let j = i; j < n; j++) {
      const c = s[j + 1] as VmaTreeNode;
      s[j] = c; c.pslot = j;
      l[j] = l[j + 1]!; h[j] = h[j + 1]!; g[j] = g[j + 1]!;
    }
  }
  s[n] = null;
  h[n] = Infinity;
  x.n = n;
}

/** The slot of vma in its leaf x. */
function slotOf(x: VmaTreeNode, vma: Vma): number {
  const s = x.slots, n = x.n;
  for (let i = 0; i < n; i++) if (s[i] === vma) return i;
  throw new Error('VmaTree: corrupted tree');
}

/**
 * Highest gap of at least len bytes inside [low, high) among the gaps below x
 * (the lead gap from prevEnd included): its end clamped to high, or -1.
 */
function searchDown(x: VmaTreeNode, prevEnd: number, len: number, low: number, high: number): number {
  const lo = x.lo, hi = x.hi;
  const gp = x.gap;
  if (gp === null) {
    for (let i = x.n - 1; i >= 0; i--) {
      const gs = i > 0 ? hi[i - 1]! : prevEnd;
      if (gs + len > high) continue;
      const ge = lo[i]!;
      // This gap and all below it end too low.
      if (ge < low + len) return -1;
      const e = ge < high ? ge : high;
      if ((gs > low ? gs : low) + len <= e) return e;
    }
    return -1;
  }
  for (let i = x.n - 1; i >= 0; i--) {
    const before = i > 0 ? hi[i - 1]! : prevEnd;
    // Every gap of the child starts at or above `before` and ends below hi[i].
    if (before + len > high) continue;
    if (hi[i]! < low + len) return -1;
    const ge = lo[i]!;
    if (gp[i]! < len) {
      // Only the child's lead gap [before, ge) can fit: no need to descend.
      const e = ge < high ? ge : high;
      if ((before > low ? before : low) + len <= e) return e;
      continue;
    }
    const g = searchDown(x.slots[i] as VmaTreeNode, before, len, low, high);
    if (g >= 0) return g;
  }
  return -1;
}

/** Lowest gap of at least len bytes inside [low, high) below x: its start clamped to low, or -1. */
function searchUp(x: VmaTreeNode, prevEnd: number, len: number, low: number, high: number): number {
  const lo = x.lo, hi = x.hi;
  const gp = x.gap;
  const n = x.n;
  if (gp === null) {
    for (let i = 0; i < n; i++) {
      const gs = i > 0 ? hi[i - 1]! : prevEnd;
      // This gap and all above it start too high.
      if (gs + len > high) return -1;
      const ge = lo[i]!;
      if (ge < low + len) continue;
      const s = gs > low ? gs : low;
      if (s + len <= (ge < high ? ge : high)) return s;
    }
    return -1;
  }
  for (let i = 0; i < n; i++) {
    const before = i > 0 ? hi[i - 1]! : prevEnd;
    if (before + len > high) return -1;
    if (hi[i]! < low + len) continue;
    if (gp[i]! < len) {
      // Only the child's lead gap [before, lo[i]) can fit.
      const s = before > low ? before : low;
      const ge = lo[i]!;
      if (s + len <= (ge < high ? ge : high)) return s;
      continue;
    }
    const g = searchUp(x.slots[i] as VmaTreeNode, before, len, low, high);
    if (g >= 0) return g;
  }
  return -1;
}

export class VmaTree {
  /** Never null: an empty tree is an empty leaf. */
  private root: VmaTreeNode = new VmaTreeNode(true, this);
  /**
   * The leaf the last walk ended in, where the next one starts when its
   * address falls inside (what a syscall's struct ma_state / vma_iterator
   * gives Linux: shmat's placement, insertion and shmdt's lookups all work
   * near one spot). A leaf merged away is left empty, so it never matches.
   */
  private cursor: VmaTreeNode = this.root;
  private count = 0;
  /** Lowest VMA. */
  first: Vma | null = null;
  /** Highest VMA. */
  last: Vma | null = null;
  /** Sum of the VMA sizes in bytes (mm->total_vm * PAGE_SIZE). */
  totalBytes = 0;

  get size(): number { return this.count; }

  has(vma: Vma): boolean {
    const x = vma.treeLeaf;
    return x !== null && x.owner === this;
  }

  /** The leaf holding the first VMA whose end is above addr, else the last leaf (mas_walk). */
  private leafOf(addr: number): VmaTreeNode {
    const c = this.cursor;
    const n = c.n;
    // All VMAs before c end at or below c.lo[0]: the answer is in c.
    if (n !== 0 && c.lo[0]! <= addr && addr < c.hi[n - 1]!) return c;
    let x = this.root;
    while (!x.leaf) {
      const i = firstAbove(x.hi, addr);
      x = x.slots[i < x.n ? i : x.n - 1] as VmaTreeNode;
    }
    this.cursor = x;
    return x;
  }

  /** The VMA with the smallest end > addr (find_vma), or null. */
  find(addr: number): Vma | null {
    const x = this.leafOf(addr);
    const i = firstAbove(x.hi, addr);
    // A padding slot (hi = +Infinity) holds null.
    return x.hi[i]! > addr ? x.slots[i] as Vma | null : null;
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
    let x = this.root;
    while (!x.leaf) {
      const lo = x.lo;
      let i = x.n - 1;
      while (i > 0 && lo[i]! >= addr) i--;
      x = x.slots[i] as VmaTreeNode;
    }
    const lo = x.lo;
    for (let i = x.n - 1; i >= 0; i--) if (lo[i]! < addr) return x.slots[i] as Vma;
    return null;
  }

  /** Inserts a VMA; it must not overlap any VMA of the tree. */
  insert(vma: Vma): void {
    if (vma.treeLeaf !== null) throw new Error('VmaTree: VMA inserted twice');
    const start = vma.start, end = vma.end;
    if (!(start < end)) throw new Error(`VmaTree: empty VMA ${vma}`);
    // The leaf of the next VMA, or the last leaf.
    const x = this.leafOf(start);
    let i = firstAbove(x.hi, start);
    if (x.hi[i]! <= start) i++;
    const next = i < x.n ? x.slots[i] as Vma : null;
    if (next && next.start < end) throw new Error(`VmaTree: ${vma} overlaps ${next}`);
    const prev = next ? next.prev : this.last;
    this.insertSlot(x, i, vma, start, end, 0);
    this.count++;
    this.totalBytes += end - start;
    vma.prev = prev;
    vma.next = next;
    if (prev) prev.next = vma; else this.first = vma;
    if (next) next.prev = vma; else this.last = vma;
  }

  /**
   * Puts item at slot i of x and repairs the entries above. A full node
   * splits in two halves (mas_split) and the new right half goes into the
   * parent, which may split in turn; a split root gets a new root above it.
   */
  private insertSlot(x: VmaTreeNode, i: number, item: Vma | VmaTreeNode, lo: number, hi: number, gap: number): void {
    if (x.n < MAX_SLOTS) {
      putSlot(x, i, item, lo, hi, gap);
      fixUp(x);
      return;
    }
    const half = MAX_SLOTS >> 1;
    const r = new VmaTreeNode(x.leaf, this);
    for (let j = half; j < MAX_SLOTS; j++) { moveSlot(x, j, r, j - half); vacate(x, j); }
    x.n = half;
    r.n = MAX_SLOTS - half;
    if (i <= half) putSlot(x, i, item, lo, hi, gap); else putSlot(r, i - half, item, lo, hi, gap);
    const p = x.parent;
    if (p === null) {
      const root = new VmaTreeNode(false, this);
      putSlot(root, 0, x, x.lo[0]!, x.hi[x.n - 1]!, maxGap(x));
      putSlot(root, 1, r, r.lo[0]!, r.hi[r.n - 1]!, maxGap(r));
      this.root = root;
      return;
    }
    describe(x);
    this.insertSlot(p, x.pslot + 1, r, r.lo[0]!, r.hi[r.n - 1]!, maxGap(r));
  }

  /**
   * Links VMAs sorted by address (non-overlapping) into an empty tree in
   * O(n), as dup_mmap() builds the child's tree in order (mas_dup_build):
   * full leaves, then full internal levels, each level's slots spread evenly
   * over its nodes so that none is below the minimum.
   */
  buildSorted(vmas: readonly Vma[]): void {
    if (this.count !== 0) throw new Error('VmaTree: buildSorted on a non-empty tree');
    let prev: Vma | null = null;
    for (let k = 0; k < vmas.length; k++) {
      const vma = vmas[k]!;
      if (!(vma.start < vma.end)) throw new Error(`VmaTree: empty VMA ${vma}`);
      if (prev && prev.end > vma.start) throw new Error(`VmaTree: ${vma} overlaps or precedes ${prev}`);
      if (vma.treeLeaf !== null) throw new Error('VmaTree: VMA inserted twice');
      prev = vma;
    }
    const total = vmas.length;
    if (total === 0) return;
    prev = null;
    let bytes = 0;
    for (let k = 0; k < total; k++) {
      const vma = vmas[k]!;
      bytes += vma.end - vma.start;
      vma.prev = prev;
      vma.next = null;
      if (prev) prev.next = vma;
      prev = vma;
    }
    this.first = vmas[0]!;
    this.last = prev;
    this.count = total;
    this.totalBytes = bytes;
    // The leaves (the empty root leaf is reused as the first one).
    let nodes = Math.ceil(total / MAX_SLOTS);
    let level: VmaTreeNode[] = [];
    let k = 0;
    for (let j = 0; j < nodes; j++) {
      const x = j === 0 ? this.root : new VmaTreeNode(true, this);
      const take = Math.floor(total / nodes) + (j < total % nodes ? 1 : 0);
      const s = x.slots, lo = x.lo, hi = x.hi;
      for (let i = 0; i < take; i++, k++) {
        const vma = vmas[k]!;
        s[i] = vma; lo[i] = vma.start; hi[i] = vma.end;
        vma.treeLeaf = x;
      }
      x.n = take;
      level.push(x);
    }
    // The internal levels.
    while (level.length > 1) {
      const count = level.length;
      nodes = Math.ceil(count / MAX_SLOTS);
      const up: VmaTreeNode[] = [];
      k = 0;
      for (let j = 0; j < nodes; j++) {
        const x = new VmaTreeNode(false, this);
        const take = Math.floor(count / nodes) + (j < count % nodes ? 1 : 0);
        const gp = x.gap!;
        for (let i = 0; i < take; i++, k++) {
          const c = level[k]!;
          x.slots[i] = c; c.parent = x; c.pslot = i;
          x.lo[i] = c.lo[0]!; x.hi[i] = c.hi[c.n - 1]!; gp[i] = maxGap(c);
        }
        x.n = take;
        up.push(x);
      }
      level = up;
    }
    this.root = level[0]!;
  }

  /** Unlinks every VMA at once (exit_mmap: the whole tree goes). */
  clear(): void {
    for (let v = this.first; v; ) {
      const nx: Vma | null = v.next;
      v.prev = v.next = null;
      v.treeLeaf = null;
      v = nx;
    }
    const r = this.root;
    if (r.leaf) {
      for (let i = 0; i < r.n; i++) vacate(r, i);
      r.n = 0;
    } else {
      this.root = new VmaTreeNode(true, this);
    }
    this.cursor = this.root;
    this.count = 0;
    this.first = this.last = null;
    this.totalBytes = 0;
  }

  /** Removes a VMA. */
  remove(vma: Vma): void {
    const x = vma.treeLeaf;
    if (x === null || x.owner !== this) throw new Error(`VmaTree: ${vma} is not in the tree`);
    dropSlot(x, slotOf(x, vma));
    vma.treeLeaf = null;
    this.count--;
    this.totalBytes -= vma.end - vma.start;
    if (vma.prev) vma.prev.next = vma.next; else this.first = vma.next;
    if (vma.next) vma.next.prev = vma.prev; else this.last = vma.prev;
    vma.prev = vma.next = null;
    this.shrunk(x);
  }

  /**
   * x lost a slot: repair the entries above it. A node below the minimum
   * takes slots from a neighbour, or merges with it when both fit in one node
   * (mas_rebalance), which removes a slot from the parent in turn; a root
   * left with one child is replaced by it.
   */
  private shrunk(x: VmaTreeNode): void {
    const p = x.parent;
    if (p === null) {
      if (!x.leaf && x.n === 1) {
        const c = x.slots[0] as VmaTreeNode;
        x.slots[0] = null;
        x.n = 0;
        c.parent = null;
        c.pslot = 0;
        this.root = c;
      }
      return;
    }
    if (x.n >= MIN_SLOTS) { fixUp(x); return; }
    const k = x.pslot;
    const l = k > 0 ? p.slots[k - 1] as VmaTreeNode : x;
    const r = k > 0 ? x : p.slots[k + 1] as VmaTreeNode;
    const ln = l.n, rn = r.n;
    if (ln + rn <= MAX_SLOTS) {
      // Merge r into l.
      for (let j = 0; j < rn; j++) { moveSlot(r, j, l, ln + j); vacate(r, j); }
      l.n = ln + rn;
      r.n = 0;
      r.parent = null;
      describe(l);
      dropSlot(p, l.pslot + 1);
      this.shrunk(p);
      return;
    }
    // Even out the two.
    const want = (ln + rn) >> 1;
    if (ln > want) {
      const d = ln - want;
      for (let j = rn - 1; j >= 0; j--) moveSlot(r, j, r, j + d);
      for (let j = 0; j < d; j++) { moveSlot(l, want + j, r, j); vacate(l, want + j); }
    } else {
      const d = want - ln;
      for (let j = 0; j < d; j++) moveSlot(r, j, l, ln + j);
      for (let j = d; j < rn; j++) moveSlot(r, j, r, j - d);
      for (let j = rn - d; j < rn; j++) vacate(r, j);
    }
    l.n = want;
    r.n = ln + rn - want;
    describe(l);
    describe(r);
    fixUp(p);
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
    const x = vma.treeLeaf;
    if (x === null || x.owner !== this) throw new Error(`VmaTree: ${vma} is not in the tree`);
    // The order of the VMAs does not change: update the slot and the entries above.
    const i = slotOf(x, vma);
    this.totalBytes += (end - start) - (vma.end - vma.start);
    vma.start = start;
    vma.end = end;
    x.lo[i] = start;
    x.hi[i] = end;
    fixUp(x);
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
    // The gap above the last VMA.
    const lastEnd = this.last ? this.last.end : 0;
    if ((lastEnd > low ? lastEnd : low) + len <= high) return high;
    if (this.count === 0) return -1;
    return searchDown(this.root, 0, len, low, high);
  }

  /**
   * Lowest free range of at least `len` bytes inside [low, high)
   * (mas_empty_area): returns its start clamped to `low`, or -1.
   */
  lowestGapStart(len: number, low: number, high: number): number {
    if (len <= 0 || high - low < len) return -1;
    if (this.count !== 0) {
      const g = searchUp(this.root, 0, len, low, high);
      if (g >= 0) return g;
    }
    const lastEnd = this.last ? this.last.end : 0;
    const gs = lastEnd > low ? lastEnd : low;
    return gs + len <= high ? gs : -1;
  }

  /** Checks the invariants (tests). */
  validate(): void {
    const arr: Vma[] = [];
    let leafDepth = -1;
    const walk = (x: VmaTreeNode, depth: number): void => {
      if (x.owner !== this) throw new Error('VmaTree: node of another tree');
      if (x.n > MAX_SLOTS) throw new Error('VmaTree: overfull node');
      if (x !== this.root && x.n < MIN_SLOTS) throw new Error('VmaTree: underfull node');
      if (x === this.root && !x.leaf && x.n < 2) throw new Error('VmaTree: root with one child');
      for (let i = x.n; i < MAX_SLOTS; i++) {
        if (x.slots[i] !== null || x.hi[i] !== Infinity) throw new Error('VmaTree: stale slot');
      }
      if (x.leaf) {
        if (leafDepth < 0) leafDepth = depth;
        else if (leafDepth !== depth) throw new Error('VmaTree: leaves at different depths');
        for (let i = 0; i < x.n; i++) {
          const v = x.slots[i] as Vma;
          if (v.treeLeaf !== x) throw new Error('VmaTree: stale leaf pointer');
          if (x.lo[i] !== v.start || x.hi[i] !== v.end) throw new Error('VmaTree: stale slot range');
          arr.push(v);
        }
        return;
      }
      for (let i = 0; i < x.n; i++) {
        const c = x.slots[i] as VmaTreeNode;
        if (c.parent !== x || c.pslot !== i) throw new Error('VmaTree: stale parent pointer');
        if (c.n === 0) throw new Error('VmaTree: empty child');
        if (x.lo[i] !== c.lo[0] || x.hi[i] !== c.hi[c.n - 1] || x.gap![i] !== maxGap(c)) {
          throw new Error('VmaTree: stale augmentation');
        }
        walk(c, depth + 1);
      }
    };
    if (this.root.parent !== null) throw new Error('VmaTree: root has a parent');
    walk(this.root, 0);
    if (arr.length !== this.count) throw new Error('VmaTree: size mismatch');
    let p: Vma | null = null;
    let bytes = 0;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      if (!(v.start < v.end)) throw new Error('VmaTree: empty VMA');
      if (p && p.end > v.start) throw new Error('VmaTree: overlap');
      if (v.prev !== p) throw new Error('VmaTree: broken prev link');
      if (p && p.next !== v) throw new Error('VmaTree: broken next link');
      bytes += v.end - v.start;
      p = v;
    }
    if (p && p.next !== null) throw new Error('VmaTree: broken next link');
    if (this.first !== (arr[0] ?? null) || this.last !== (arr[arr.length - 1] ?? null)) throw new Error('VmaTree: first/last');
    if (bytes !== this.totalBytes) throw new Error('VmaTree: totalBytes');
  }
}
