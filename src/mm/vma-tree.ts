/**
 * The ordered set of VMAs of an address space, in the image of Linux's maple
 * tree (lib/maple_tree.c): a B-tree of wide nodes, 16 slots each. A leaf holds
 * up to 16 VMAs in address order; an internal node holds up to 16 children
 * and keeps, per child, the highest vm_end below it (the pivot) and the
 * largest gap below it (ma_gaps of maple_arange_64), or a bound above it
 * after the gap shrank (fixGap, tighten). With 60 000 VMAs the
 * tree is 4-5 levels (as Linux's), so find_vma(), insertion, removal and the
 * gap searches of vm_unmapped_area() (mas_empty_area_rev top-down,
 * mas_empty_area bottom-up) touch a handful of nodes; a few VMAs are one leaf.
 *
 * Every free range belongs to the VMA just above it ("the gap below" a VMA,
 * from the end of the previous VMA, or from 0), as the maple tree stores the
 * free ranges as NULL entries of its leaves: a node's largest gap is a plain
 * maximum over its slots, and a change below changes one slot per ancestor.
 * Each node also keeps its largest and second largest slot gap and the slot
 * of the largest (ma_meta_gap), so a parent follows a change of one slot in
 * O(1) in the usual cases, also when the largest gap shrinks (shmat placing a
 * segment at the edge of the big free range under the stack shrinks the
 * tree's largest gap every time; Linux rescans the node there), and a search
 * goes straight to the one slot that can fit when the second largest cannot.
 *
 * Each VMA points back at its leaf (vma.treeLeaf), so removal and setRange
 * need no search and no side table. Every node keeps its parent and its slot
 * there; a change is carried up until an ancestor's view of the child stays
 * the same. A full node first passes slots to a neighbour (mas_push_data),
 * else splits in halves (mas_split); a node below MIN_SLOTS (except the root)
 * borrows from or merges with a neighbour (mas_rebalance). Lookups start at
 * the leaf the previous one ended in when the address falls inside it.
 * Inserting and removing allocate nothing unless a node splits. The VMAs are
 * also chained in address order (vma.prev / vma.next).
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
/** gmax / g2 of a node without (enough) slots: below any gap (gaps are >= 0). */
const NONE = -1;

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
  /** The largest entry of `g` (NONE when empty): the largest gap below this node. Stale in the root. */
  gmax = NONE;
  /** The largest entry of `g` once one entry equal to gmax is left out (NONE when n < 2). Stale in the root. */
  g2 = NONE;
  /** A slot whose entry of `g` is gmax (ma_meta_gap). Stale in the root. */
  gslot = 0;
  /** The VMAs (leaf) or the children (internal node), in address order. */
  readonly slots: (Vma | VmaTreeNode | null)[] = emptySlots();
  /** Leaf only: vm_start of each VMA. */
  readonly lo: number[] | null;
  /**
   * Per slot: vm_end of the VMA, or the highest vm_end below the child (the
   * pivot). +Infinity above the slots in use, so that firstAbove() needs no
   * bound.
   */
  readonly hi: number[] = padding();
  /** Per slot: the gap below the VMA, or the largest gap below the child (its gmax). */
  readonly g: number[] = numbers();

  constructor(leaf: boolean, owner: VmaTree) {
    this.leaf = leaf;
    this.owner = owner;
    this.lo = leaf ? numbers() : null;
  }
}
export type { VmaTreeNode };

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

// ------------------------------------------------- largest gaps of a node

/** Recomputes gmax and g2 of x from its slots (ma_max_gap). */
function recount(x: VmaTreeNode): void {
  const g = x.g, n = x.n;
  let m = NONE, s = NONE, k = 0;
  for (let i = 0; i < n; i++) {
    const v = g[i]!;
    if (v > m) { s = m; m = v; k = i; } else if (v > s) s = v;
  }
  x.gmax = m;
  x.g2 = s;
  x.gslot = k;
}

// Nothing reads the root's gmax / g2 / gslot (they serve its parent and the
// searches below the root): they are left stale there, which keeps a one-leaf
// tree cheap, and recounted when the root gets a parent.

/** Slot i of x, with gap c, was put in (the slots from i on moved up). */
function gapAdded(x: VmaTreeNode, i: number, c: number): void {
  if (x.parent === null) return;
  if (c >= x.gmax) {
    x.g2 = x.gmax;
    x.gmax = c;
    x.gslot = i;
  } else {
    if (x.gslot >= i) x.gslot++;
    if (c > x.g2) x.g2 = c;
  }
}

/** Slot i of x, with gap o, was taken out (the slots above it moved down). */
function gapRemoved(x: VmaTreeNode, i: number, o: number): void {
  if (x.parent === null) return;
  // The second largest is unknown once the largest or the second goes.
  if (o >= x.g2) recount(x);
  else if (x.gslot > i) x.gslot--;
}

/** Slot i of x changed its gap from o to c. */
function gapChanged(x: VmaTreeNode, i: number, o: number, c: number): void {
  if (x.parent === null) return;
  const m = x.gmax, s = x.g2;
  if (i === x.gslot) {
    // The slot holding the largest: the others' largest is s.
    if (c >= s) x.gmax = c;
    else recount(x);
  } else if (c >= m) {
    x.g2 = m;
    x.gmax = c;
    x.gslot = i;
  } else if (o === m) {
    // A second slot holding the largest shrank.
    recount(x);
  } else if (o < s) {
    // Neither the largest nor the second: only the second may grow.
    if (c > s) x.g2 = c;
  } else if (c >= s) {
    // The second largest (o === s), still second.
    x.g2 = c;
  } else {
    recount(x);
  }
}

/**
 * Carries a change of x (its highest end, its largest gap) up the tree
 * (mas_update_gap): refreshes x's slot in its parent, and so on up, until a
 * slot is already right.
 */
function fixUp(x: VmaTreeNode): void {
  let p = x.parent;
  while (p !== null) {
    const i = x.pslot;
    const hi = x.hi[x.n - 1]!, c = x.gmax;
    const o = p.g[i]!;
    if (p.hi[i] === hi && o === c) return;
    p.hi[i] = hi;
    if (o !== c) { p.g[i] = c; gapChanged(p, i, o, c); }
    x = p;
    p = x.parent;
  }
}

/**
 * fixUp() for a change of x's largest gap alone (its highest end is the
 * same): reads and writes only the gap words of each ancestor, and only while
 * the gap grows. A shrunk largest gap is left as it was in the ancestors: an
 * internal node's gap of a child is an upper bound of the child's largest
 * gap (the leaves are exact), which is all the searches need (they enter a
 * child whose bound fits and come back when nothing in it does), and a
 * search that comes back lowers the bound to the child's own (tighten). So
 * shmat, which shrinks the tree's largest gap (under the stack) every time,
 * and shmdt, which grows it back, stop at the leaf's parent instead of
 * walking to the root.
 */
function fixGap(x: VmaTreeNode): void {
  let p = x.parent;
  while (p !== null) {
    const i = x.pslot;
    const g = p.g;
    const o = g[i]!, c = x.gmax;
    // A bound already at or above the new largest gap stays (see tighten).
    if (o >= c) return;
    g[i] = c;
    gapChanged(p, i, o, c);
    x = p;
    p = x.parent;
  }
}

/**
 * A search found nothing below x (not the root): lowers x's slot in its
 * parent to x's largest gap if it was a stale bound left by fixGap.
 */
function tighten(x: VmaTreeNode): void {
  const p = x.parent!, i = x.pslot;
  const o = p.g[i]!, c = x.gmax;
  if (o > c) { p.g[i] = c; gapChanged(p, i, o, c); }
}

// --------------------------------------------------------- slot shuffling

/** Makes slot i of x refer to item (sets the item's back-pointer). */
function adopt(x: VmaTreeNode, i: number, item: Vma | VmaTreeNode): void {
  x.slots[i] = item;
  if (x.leaf) (item as Vma).treeLeaf = x;
  else { (item as VmaTreeNode).parent = x; (item as VmaTreeNode).pslot = i; }
}

/** Moves slot `from` of src to slot `to` of dst (possibly the same node). */
function moveSlot(src: VmaTreeNode, from: number, dst: VmaTreeNode, to: number): void {
  adopt(dst, to, src.slots[from]!);
  dst.hi[to] = src.hi[from]!;
  dst.g[to] = src.g[from]!;
  if (dst.lo !== null) dst.lo[to] = src.lo![from]!;
}

/** Frees slot j of x. */
function vacate(x: VmaTreeNode, j: number): void {
  x.slots[j] = null;
  x.hi[j] = Infinity;
}

/** Puts item at slot i of x (not full), shifting the slots above it; gmax/g2 are the caller's. */
function putSlot(x: VmaTreeNode, i: number, item: Vma | VmaTreeNode, lo: number, hi: number, gap: number): void {
  const s = x.slots, h = x.hi, g = x.g;
  const l = x.lo;
  if (l !== null) {
    for (let j = x.n; j > i; j--) { s[j] = s[j - 1]!; l[j] = l[j - 1]!; h[j] = h[j - 1]!; g[j] = g[j - 1]!; }
    l[i] = lo;
    (item as Vma).treeLeaf = x;
  } else {
    for (let j = x.n; j > i; j--) {
      const c = s[j - 1] as VmaTreeNode;
      s[j] = c; c.pslot = j;
      h[j] = h[j - 1]!; g[j] = g[j - 1]!;
    }
    (item as VmaTreeNode).parent = x;
    (item as VmaTreeNode).pslot = i;
  }
  s[i] = item; h[i] = hi; g[i] = gap;
  x.n++;
}

/** Removes slot i of x, shifting the slots above it down; gmax/g2 are the caller's. */
function dropSlot(x: VmaTreeNode, i: number): void {
  const s = x.slots, h = x.hi, g = x.g, n = x.n - 1;
  const l = x.lo;
  if (l !== null) {
    for (let j = i; j < n; j++) { s[j] = s[j + 1]!; l[j] = l[j + 1]!; h[j] = h[j + 1]!; g[j] = g[j + 1]!; }
  } else {
    for (let j = i; j < n; j++) {
      const c = s[j + 1] as VmaTreeNode;
      s[j] = c; c.pslot = j;
      h[j] = h[j + 1]!; g[j] = g[j + 1]!;
    }
  }
  vacate(x, n);
  x.n = n;
}

/** The slot of vma in its leaf x. */
function slotOf(x: VmaTreeNode, vma: Vma): number {
  // The first slot ending above vma's start is vma's (the ends increase and
  // the VMA before it ends at or below its start): four steps, not a scan.
  const i = firstAbove(x.hi, vma.start);
  if (x.slots[i] === vma) return i;
  throw new Error('VmaTree: corrupted tree');
}

/** Sets the gap below vma (in a leaf of the tree) and carries it up. */
function setGapBelow(vma: Vma, c: number): void {
  const y = vma.treeLeaf!;
  const j = slotOf(y, vma);
  const o = y.g[j]!;
  if (o === c) return;
  y.g[j] = c;
  gapChanged(y, j, o, c);
  fixGap(y);
}

/** Neighbours l and r (same parent) exchanged slots: recount them and their parent, carry it up. */
function refreshPair(l: VmaTreeNode, r: VmaTreeNode): void {
  const p = l.parent!;
  const j = l.pslot;
  recount(l);
  recount(r);
  p.hi[j] = l.hi[l.n - 1]!;
  p.g[j] = l.gmax;
  p.hi[j + 1] = r.hi[r.n - 1]!;
  p.g[j + 1] = r.gmax;
  recount(p);
  fixUp(p);
}

/**
 * mas_push_data(): a full non-root x makes room for item (to go at its slot
 * i) by passing half the free room of a neighbour with two or more free
 * slots to it, the left one first. Keeps nodes fuller than splits alone: a
 * tree built in address order would otherwise stay half full, a level
 * deeper at 60 000 VMAs. Returns false when neither neighbour has room.
 */
function pushSlots(x: VmaTreeNode, i: number, item: Vma | VmaTreeNode, lo: number, hi: number, gap: number): boolean {
  const p = x.parent!;
  const k = x.pslot;
  if (k > 0) {
    const l = p.slots[k - 1] as VmaTreeNode;
    const ln = l.n, room = MAX_SLOTS - ln;
    if (room >= 2) {
      // x's first d slots go to the end of l.
      const d = (room + 1) >> 1;
      for (let m = 0; m < d; m++) moveSlot(x, m, l, ln + m);
      for (let m = d; m < MAX_SLOTS; m++) moveSlot(x, m, x, m - d);
      for (let m = MAX_SLOTS - d; m < MAX_SLOTS; m++) vacate(x, m);
      l.n = ln + d;
      x.n = MAX_SLOTS - d;
      if (i < d) putSlot(l, ln + i, item, lo, hi, gap); else putSlot(x, i - d, item, lo, hi, gap);
      refreshPair(l, x);
      return true;
    }
  }
  if (k + 1 < p.n) {
    const r = p.slots[k + 1] as VmaTreeNode;
    const rn = r.n, room = MAX_SLOTS - rn;
    if (room >= 2) {
      // x's last d slots go to the start of r.
      const d = (room + 1) >> 1;
      const keep = MAX_SLOTS - d;
      for (let m = rn - 1; m >= 0; m--) moveSlot(r, m, r, m + d);
      for (let m = 0; m < d; m++) { moveSlot(x, keep + m, r, m); vacate(x, keep + m); }
      r.n = rn + d;
      x.n = keep;
      if (i > keep) putSlot(r, i - keep, item, lo, hi, gap); else putSlot(x, i, item, lo, hi, gap);
      refreshPair(x, r);
      return true;
    }
  }
  return false;
}

// ------------------------------------------------------------ gap searches

/**
 * Per level of a gap search in progress, the end of the VMA before the
 * node's first one (where its lowest gap starts). The searches walk down and
 * back up by the parent pointers instead of recursing, so they allocate
 * nothing (a recursive call would box its number arguments).
 */
const befores: number[] = [];
for (let i = 0; i < 64; i++) befores.push(0.5);

/** The VMA just above the gap searchDown() returned (whose gap it is). */
let foundAbove: Vma | null = null;

/**
 * Highest gap of at least len bytes inside [low, high) (mas_empty_area_rev
 * without the gap above the last VMA): its end clamped to high, or -1.
 * Slots are tried from the top; a child is entered when its largest gap
 * fits, and left for the next slot down when nothing in it does.
 */
function searchDown(root: VmaTreeNode, len: number, low: number, high: number): number {
  let x = root, before = 0, depth = 0;
  let i = x.n - 1, stop = 0;
  for (;;) {
    const hi = x.hi, g = x.g;
    const lo = x.lo;
    if (lo !== null) {
      for (; i >= stop; i--) {
        const d = g[i]!;
        if (d < len) continue;
        const ge = lo[i]!;
        const gs = ge - d;
        if (gs + len > high) continue;
        // This gap and all below it end too low.
        if (ge < low + len) return -1;
        const e = ge < high ? ge : high;
        if ((gs > low ? gs : low) + len <= e) { foundAbove = x.slots[i] as Vma; return e; }
      }
    } else {
      let child: VmaTreeNode | null = null;
      for (; i >= stop; i--) {
        // Every gap below the child starts at or above b and ends below hi[i].
        const b = i > 0 ? hi[i - 1]! : before;
        if (b + len > high) continue;
        if (hi[i]! < low + len) return -1;
        if (g[i]! < len) continue;
        child = x.slots[i] as VmaTreeNode;
        befores[depth++] = before;
        before = b;
        break;
      }
      if (child !== null) {
        x = child;
        i = x.n - 1;
        stop = 0;
        // Below the root, when at most one slot's gap fits, it is gslot.
        if (x.g2 < len) i = stop = x.gslot;
        continue;
      }
    }
    // Nothing fits below x: on with the parent's next slot down.
    if (x === root) return -1;
    tighten(x);
    const k = x.pslot;
    x = x.parent!;
    before = befores[--depth]!;
    i = k - 1;
    stop = x !== root && x.g2 < len ? x.gslot : 0;
  }
}

/**
 * Lowest gap of at least len bytes inside [low, high) (mas_empty_area
 * without the gap above the last VMA): its start clamped to low, or -1.
 */
function searchUp(root: VmaTreeNode, len: number, low: number, high: number): number {
  let x = root, before = 0, depth = 0;
  let i = 0, end = x.n;
  for (;;) {
    const hi = x.hi, g = x.g;
    const lo = x.lo;
    if (lo !== null) {
      for (; i < end; i++) {
        const d = g[i]!;
        const ge = lo[i]!;
        const gs = ge - d;
        // This gap and all above it start too high.
        if (gs + len > high) return -1;
        if (d < len || ge < low + len) continue;
        const s = gs > low ? gs : low;
        if (s + len <= (ge < high ? ge : high)) return s;
      }
    } else {
      let child: VmaTreeNode | null = null;
      for (; i < end; i++) {
        const b = i > 0 ? hi[i - 1]! : before;
        if (b + len > high) return -1;
        if (hi[i]! < low + len || g[i]! < len) continue;
        child = x.slots[i] as VmaTreeNode;
        befores[depth++] = before;
        before = b;
        break;
      }
      if (child !== null) {
        x = child;
        i = 0;
        end = x.n;
        if (x.g2 < len) { i = x.gslot; end = i + 1; }
        continue;
      }
    }
    if (x === root) return -1;
    tighten(x);
    const k = x.pslot;
    x = x.parent!;
    before = befores[--depth]!;
    i = k + 1;
    end = x !== root && x.g2 < len ? x.gslot + 1 : x.n;
  }
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
  /**
   * After highestGapEnd() found a gap: the VMA just above it, which is
   * find(end) for the end returned (the end lies inside the gap's top, so
   * the first VMA ending above it is the gap's owner), null for the gap
   * above the last VMA. Saves unmapped_area_topdown() that lookup.
   * Meaningless after any other call.
   */
  gapAbove: Vma | null = null;

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
    if (n !== 0 && c.lo![0]! <= addr && addr < c.hi[n - 1]!) return c;
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

  /**
   * find(addr) given a guess: a VMA an earlier walk left off at (gapAbove
   * after a placement), or null for "above every VMA". The guess is the
   * answer when it is still in this tree, ends above addr and its
   * predecessor does not (then no VMA ends in between), which costs a few
   * loads instead of a walk; otherwise this is find(addr). The state a
   * vma_iterator carries from get_unmapped_area() to mmap_region() on
   * Linux, checked instead of trusted.
   */
  findGuessed(addr: number, guess: Vma | null): Vma | null {
    if (guess === null) {
      const l = this.last;
      if (l === null || l.end <= addr) return null;
    } else {
      const x = guess.treeLeaf;
      if (x !== null && x.owner === this && guess.end > addr) {
        const p = guess.prev;
        if (p === null || p.end <= addr) return guess;
      }
    }
    return this.find(addr);
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
    // The VMAs before find(addr) end at or below addr, so they start below it.
    const v = this.find(addr);
    if (v === null) return this.last;
    return v.start < addr ? v : v.prev;
  }

  /** Inserts a VMA; it must not overlap any VMA of the tree. */
  insert(vma: Vma): void {
    if (vma.treeLeaf !== null) throw new Error('VmaTree: VMA inserted twice');
    const start = vma.start, end = vma.end;
    if (!(start < end)) throw new Error(`VmaTree: empty VMA ${vma}`);
    // The leaf of the next VMA, or the last leaf.
    const x = this.leafOf(start);
    const h = x.hi, n = x.n;
    let i = firstAbove(h, start);
    if (h[i]! <= start) i++;
    const next = i < n ? x.slots[i] as Vma : null;
    if (next !== null && next.start < end) throw new Error(`VmaTree: ${vma} overlaps ${next}`);
    const prev = next !== null ? next.prev : this.last;
    const below = start - (prev !== null ? prev.end : 0);
    if (n < MAX_SLOTS) {
      // The common case, inline: the leaf has room (putSlot of a leaf).
      const s = x.slots, l = x.lo!, g = x.g;
      for (let j = n; j > i; j--) { s[j] = s[j - 1]!; l[j] = l[j - 1]!; h[j] = h[j - 1]!; g[j] = g[j - 1]!; }
      s[i] = vma; l[i] = start; h[i] = end; g[i] = below;
      x.n = n + 1;
      vma.treeLeaf = x;
      // next moved to slot i + 1; its gap now starts at vma's end.
      const c = next !== null ? next.start - end : 0;
      if (x.parent === null) {
        // A root leaf keeps no largest gaps: nothing to carry up.
        if (next !== null) g[i + 1] = c;
      } else {
        const gm = x.gmax;
        gapAdded(x, i, below);
        if (next !== null) {
          const o = g[i + 1]!;
          g[i + 1] = c;
          gapChanged(x, i + 1, o, c);
        }
        // Put below the last slot, x's highest end is the same, and a
        // largest gap that did not grow is within the parent's bound.
        if (i < n) { if (x.gmax > gm) fixGap(x); } else fixUp(x);
      }
    } else {
      this.insertSlot(x, i, vma, start, end, below);
      if (next !== null) setGapBelow(next, next.start - end);
    }
    this.count++;
    this.totalBytes += end - start;
    vma.prev = prev;
    vma.next = next;
    if (prev !== null) prev.next = vma; else this.first = vma;
    if (next !== null) next.prev = vma; else this.last = vma;
  }

  /**
   * Puts item at slot i of x and repairs the slots above. A full node first
   * tries to pass slots to a neighbour (mas_push_data), else splits in two
   * halves (mas_split) and the new right half goes into the parent, which
   * may split in turn; a split root gets a new root above it.
   */
  private insertSlot(x: VmaTreeNode, i: number, item: Vma | VmaTreeNode, lo: number, hi: number, gap: number): void {
    if (x.n < MAX_SLOTS) {
      putSlot(x, i, item, lo, hi, gap);
      gapAdded(x, i, gap);
      fixUp(x);
      return;
    }
    if (x.parent !== null && pushSlots(x, i, item, lo, hi, gap)) return;
    const half = MAX_SLOTS >> 1;
    const r = new VmaTreeNode(x.leaf, this);
    for (let j = half; j < MAX_SLOTS; j++) { moveSlot(x, j, r, j - half); vacate(x, j); }
    x.n = half;
    r.n = MAX_SLOTS - half;
    if (i <= half) putSlot(x, i, item, lo, hi, gap); else putSlot(r, i - half, item, lo, hi, gap);
    recount(x);
    recount(r);
    const p = x.parent;
    if (p === null) {
      const root = new VmaTreeNode(false, this);
      putSlot(root, 0, x, 0, x.hi[x.n - 1]!, x.gmax);
      putSlot(root, 1, r, 0, r.hi[r.n - 1]!, r.gmax);
      recount(root);
      this.root = root;
      return;
    }
    const k = x.pslot;
    p.hi[k] = x.hi[x.n - 1]!;
    p.g[k] = x.gmax;
    recount(p);
    this.insertSlot(p, k + 1, r, 0, r.hi[r.n - 1]!, r.gmax);
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
    // The leaves (the empty root leaf is reused as the first one).
    let nodes = Math.ceil(total / MAX_SLOTS);
    let level: VmaTreeNode[] = [];
    let k = 0;
    let bytes = 0;
    let prevEnd = 0;
    prev = null;
    for (let j = 0; j < nodes; j++) {
      const x = j === 0 ? this.root : new VmaTreeNode(true, this);
      const take = Math.floor(total / nodes) + (j < total % nodes ? 1 : 0);
      const s = x.slots, lo = x.lo!, hi = x.hi, g = x.g;
      for (let i = 0; i < take; i++, k++) {
        const vma = vmas[k]!;
        s[i] = vma; lo[i] = vma.start; hi[i] = vma.end; g[i] = vma.start - prevEnd;
        prevEnd = vma.end;
        vma.treeLeaf = x;
        bytes += vma.end - vma.start;
        vma.prev = prev;
        vma.next = null;
        if (prev) prev.next = vma;
        prev = vma;
      }
      x.n = take;
      recount(x);
      level.push(x);
    }
    this.first = vmas[0]!;
    this.last = prev;
    this.count = total;
    this.totalBytes = bytes;
    // The internal levels.
    while (level.length > 1) {
      const count = level.length;
      nodes = Math.ceil(count / MAX_SLOTS);
      const up: VmaTreeNode[] = [];
      k = 0;
      for (let j = 0; j < nodes; j++) {
        const x = new VmaTreeNode(false, this);
        const take = Math.floor(count / nodes) + (j < count % nodes ? 1 : 0);
        for (let i = 0; i < take; i++, k++) {
          const c = level[k]!;
          x.slots[i] = c; c.parent = x; c.pslot = i;
          x.hi[i] = c.hi[c.n - 1]!; x.g[i] = c.gmax;
        }
        x.n = take;
        recount(x);
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
      recount(r);
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
    const s = x.slots, n = x.n - 1;
    const i = slotOf(x, vma);
    const prev = vma.prev, next = vma.next;
    vma.treeLeaf = null;
    this.count--;
    this.totalBytes -= vma.end - vma.start;
    if (prev !== null) prev.next = next; else this.first = next;
    if (next !== null) next.prev = prev; else this.last = prev;
    vma.prev = vma.next = null;
    // next's gap now reaches down to prev's end.
    const c = next !== null ? next.start - (prev !== null ? prev.end : 0) : 0;
    const root = x.parent === null;
    if (root || n >= MIN_SLOTS) {
      // The common case, inline: no rebalancing (dropSlot of a leaf).
      const l = x.lo!, h = x.hi, g = x.g;
      const o = g[i]!;
      for (let j = i; j < n; j++) { s[j] = s[j + 1]!; l[j] = l[j + 1]!; h[j] = h[j + 1]!; g[j] = g[j + 1]!; }
      s[n] = null;
      h[n] = Infinity;
      x.n = n;
      if (root) {
        // A root leaf keeps no largest gaps, and next (if any) is in it.
        if (next !== null) g[i] = c;
        return;
      }
      const gm = x.gmax;
      gapRemoved(x, i, o);
      if (next !== null && i < n) {
        const on = g[i]!;
        g[i] = c;
        gapChanged(x, i, on, c);
        // Not the last slot: x's highest end is the same.
        if (x.gmax > gm) fixGap(x);
      } else {
        fixUp(x);
        if (next !== null) setGapBelow(next, c);
      }
      return;
    }
    const o = x.g[i]!;
    dropSlot(x, i);
    gapRemoved(x, i, o);
    if (next !== null && next.treeLeaf === x) {
      const on = x.g[i]!;
      x.g[i] = c;
      gapChanged(x, i, on, c);
      this.shrunk(x);
    } else {
      this.shrunk(x);
      if (next !== null) setGapBelow(next, c);
    }
  }

  /**
   * x lost a slot: repair the slots above it. A node below the minimum takes
   * slots from a neighbour, or merges with it when both fit in one node
   * (mas_rebalance), which removes a slot from the parent in turn; a root
   * left with one child is replaced by it.
   */
  private shrunk(x: VmaTreeNode): void {
    const p = x.parent;
    if (p === null) {
      if (!x.leaf && x.n === 1) {
        const c = x.slots[0] as VmaTreeNode;
        vacate(x, 0);
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
    const j = l.pslot;
    if (ln + rn <= MAX_SLOTS) {
      // Merge r into l; r is left empty.
      for (let m = 0; m < rn; m++) { moveSlot(r, m, l, ln + m); vacate(r, m); }
      l.n = ln + rn;
      r.n = 0;
      r.parent = null;
      recount(l);
      p.hi[j] = l.hi[l.n - 1]!;
      p.g[j] = l.gmax;
      dropSlot(p, j + 1);
      recount(p);
      this.shrunk(p);
      return;
    }
    // Even out the two.
    const want = (ln + rn) >> 1;
    if (ln > want) {
      const d = ln - want;
      for (let m = rn - 1; m >= 0; m--) moveSlot(r, m, r, m + d);
      for (let m = 0; m < d; m++) { moveSlot(l, want + m, r, m); vacate(l, want + m); }
    } else {
      const d = want - ln;
      for (let m = 0; m < d; m++) moveSlot(r, m, l, ln + m);
      for (let m = d; m < rn; m++) moveSlot(r, m, r, m - d);
      for (let m = rn - d; m < rn; m++) vacate(r, m);
    }
    l.n = want;
    r.n = ln + rn - want;
    refreshPair(l, r);
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
    // The order of the VMAs does not change: update the slot (and the gap
    // below the next VMA) and the slots above.
    const i = slotOf(x, vma);
    this.totalBytes += (end - start) - (vma.end - vma.start);
    vma.start = start;
    vma.end = end;
    x.lo![i] = start;
    x.hi[i] = end;
    const o = x.g[i]!, c = start - (p ? p.end : 0);
    if (o !== c) { x.g[i] = c; gapChanged(x, i, o, c); }
    if (n && i + 1 < x.n) {
      const on = x.g[i + 1]!, cn = n.start - end;
      if (on !== cn) { x.g[i + 1] = cn; gapChanged(x, i + 1, on, cn); }
      fixUp(x);
    } else {
      fixUp(x);
      if (n) setGapBelow(n, n.start - end);
    }
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
    if ((lastEnd > low ? lastEnd : low) + len <= high) { this.gapAbove = null; return high; }
    const v = this.last;
    if (v === null) return -1;
    // The gap below the last VMA, by its prev link: top-down placement
    // (mmap_base under the stack) usually ends there, without a walk down
    // the tree. The same tests as searchDown's leaves.
    const pv = v.prev;
    const ge = v.start, gs = pv !== null ? pv.end : 0;
    if (gs + len <= high) {
      // This gap and all below it end too low.
      if (ge < low + len) return -1;
      const e = ge < high ? ge : high;
      if ((gs > low ? gs : low) + len <= e) { this.gapAbove = v; return e; }
    }
    const e = searchDown(this.root, len, low, high);
    this.gapAbove = foundAbove;
    foundAbove = null;
    return e;
  }

  /**
   * Lowest free range of at least `len` bytes inside [low, high)
   * (mas_empty_area): returns its start clamped to `low`, or -1.
   */
  lowestGapStart(len: number, low: number, high: number): number {
    if (len <= 0 || high - low < len) return -1;
    if (this.count !== 0) {
      const g = searchUp(this.root, len, low, high);
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
      if (x !== this.root) {
        const { gmax, g2, gslot } = x;
        recount(x);
        const ok = x.gmax === gmax && x.g2 === g2 && gslot < x.n && x.g[gslot] === gmax;
        x.gslot = gslot;
        if (!ok) throw new Error(`VmaTree: stale largest gaps ${gmax}/${g2}@${gslot}, not ${x.gmax}/${x.g2}`);
      }
      if (x.leaf) {
        if (leafDepth < 0) leafDepth = depth;
        else if (leafDepth !== depth) throw new Error('VmaTree: leaves at different depths');
        for (let i = 0; i < x.n; i++) {
          const v = x.slots[i] as Vma;
          if (v.treeLeaf !== x) throw new Error('VmaTree: stale leaf pointer');
          if (x.lo![i] !== v.start || x.hi[i] !== v.end) throw new Error('VmaTree: stale slot range');
          if (x.g[i] !== v.start - (v.prev ? v.prev.end : 0)) throw new Error('VmaTree: stale gap');
          arr.push(v);
        }
        return;
      }
      for (let i = 0; i < x.n; i++) {
        const c = x.slots[i] as VmaTreeNode;
        if (c.parent !== x || c.pslot !== i) throw new Error('VmaTree: stale parent pointer');
        if (c.n === 0) throw new Error('VmaTree: empty child');
        if (x.hi[i] !== c.hi[c.n - 1] || x.g[i]! < c.gmax) throw new Error('VmaTree: stale augmentation');
        walk(c, depth + 1);
      }
    };
    if (this.root.parent !== null) throw new Error('VmaTree: root has a parent');
    walk(this.root, 0);
    if (!this.cursor.leaf) throw new Error('VmaTree: cursor is not a leaf');
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
