import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VmaTree } from '../../src/mm/vma-tree.js';
import { Vma } from '../../src/mm/vma.js';

/** The reference: a sorted array of [start, end) with its VMA. */
class Naive {
  r: [number, number, Vma][] = [];
  /** Index of the first range whose end is above a. */
  private idx(a: number): number {
    let lo = 0, hi = this.r.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.r[m]![1] <= a) lo = m + 1; else hi = m; }
    return lo;
  }
  insert(v: Vma) { this.r.splice(this.idx(v.start), 0, [v.start, v.end, v]); }
  removeAt(i: number) { this.r.splice(i, 1); }
  find(a: number): Vma | null { return this.r[this.idx(a)]?.[2] ?? null; }
  findPrev(a: number): Vma | null {
    let best: Vma | null = null;
    for (const [s, , v] of this.r) { if (s < a) best = v; else break; }
    return best;
  }
  free(s: number, e: number) { const x = this.r[this.idx(s)]; return !x || x[0] >= e; }
  gaps(): [number, number][] {
    const g: [number, number][] = [];
    let prev = 0;
    for (const [s, e] of this.r) { if (s > prev) g.push([prev, s]); prev = e; }
    g.push([prev, Infinity]);
    return g;
  }
  /** mas_empty_area_rev: the end (clamped to hi) of the highest fitting gap. */
  highest(len: number, lo: number, hi: number) {
    if (len <= 0 || hi - lo < len) return -1;
    let best = -1;
    for (const [gs, ge] of this.gaps()) {
      const s = Math.max(gs, lo), e = Math.min(ge, hi);
      if (e - s >= len) best = Math.max(best, e);
    }
    return best;
  }
  /** mas_empty_area: the start (clamped to lo) of the lowest fitting gap. */
  lowest(len: number, lo: number, hi: number) {
    if (len <= 0 || hi - lo < len) return -1;
    for (const [gs, ge] of this.gaps()) {
      const s = Math.max(gs, lo), e = Math.min(ge, hi);
      if (e - s >= len) return s;
    }
    return -1;
  }
}

type Op =
  | { k: 'ins'; s: number; n: number }
  | { k: 'del'; i: number; run: number }
  | { k: 'set'; i: number; ds: number; de: number }
  | { k: 'q'; a: number; len: number; lo: number; hi: number };

/** Operations over an address space of `space` units; `run` removes that many neighbours at once. */
function ops(space: number, maxLen: number, maxRun: number) {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ k: fc.constant('ins' as const), s: fc.integer({ min: 0, max: space }), n: fc.integer({ min: 1, max: maxLen }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('del' as const), i: fc.nat(), run: fc.integer({ min: 1, max: maxRun }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('set' as const), i: fc.nat(), ds: fc.integer({ min: -3, max: 3 }), de: fc.integer({ min: -3, max: 3 }) }) },
    { weight: 2, arbitrary: fc.record({
      k: fc.constant('q' as const), a: fc.integer({ min: 0, max: space + 20 }), len: fc.integer({ min: 0, max: 40 }),
      lo: fc.integer({ min: 0, max: space + 20 }), hi: fc.integer({ min: 0, max: space + 40 }),
    }) },
  ) as fc.Arbitrary<Op>;
}

/** A VMA of another tree: never a valid guess for findGuessed(). */
const foreign = (() => {
  const other = new VmaTree();
  const v = new Vma(0, 1 << 30, 3, 0, null);
  other.insert(v);
  return v;
})();

function check(t: VmaTree, n: Naive, o: { a: number; len: number; lo: number; hi: number }): void {
  assert.equal(t.find(o.a), n.find(o.a));
  // A guess is taken only when it is the answer: the gapAbove an earlier
  // search left (by now perhaps removed or moved), none, the answer, a
  // neighbour, a VMA of another tree.
  const guesses = [t.gapAbove, null, n.find(o.a), n.r[o.len % (n.r.length || 1)]?.[2] ?? null, foreign];
  for (const g of guesses) assert.equal(t.findGuessed(o.a, g), n.find(o.a));
  assert.equal(t.findPrev(o.a), n.findPrev(o.a));
  const nf = n.find(o.a);
  assert.equal(t.lookup(o.a), nf && nf.start <= o.a ? nf : null);
  assert.equal(t.intersection(o.a, o.a + o.len), nf && nf.start < o.a + o.len ? nf : null);
  const e = t.highestGapEnd(o.len, o.lo, o.hi);
  assert.equal(e, n.highest(o.len, o.lo, o.hi));
  // The VMA left in gapAbove is the one unmapped_area_topdown() would look up.
  if (e >= 0) assert.equal(t.gapAbove, n.find(e));
  assert.equal(t.lowestGapStart(o.len, o.lo, o.hi), n.lowest(o.len, o.lo, o.hi));
}

/** Applies ops to both; validates the tree every `every` operations. */
function run(t: VmaTree, n: Naive, list: Op[], every: number): void {
  let step = 0;
  for (const o of list) {
    if (o.k === 'ins') {
      if (!n.free(o.s, o.s + o.n)) {
        // Inserting an overlapping VMA throws and changes nothing.
        assert.throws(() => t.insert(new Vma(o.s, o.s + o.n, 3, 0, null)));
        continue;
      }
      const v = new Vma(o.s, o.s + o.n, 3, 0, null);
      t.insert(v); n.insert(v);
      assert.equal(t.has(v), true);
    } else if (o.k === 'del') {
      if (!n.r.length) continue;
      const i = o.i % n.r.length;
      for (let j = 0; j < o.run && i < n.r.length; j++) {
        const v = n.r[i]![2];
        t.remove(v); n.removeAt(i);
        assert.equal(t.has(v), false);
      }
    } else if (o.k === 'set') {
      if (!n.r.length) continue;
      const idx = o.i % n.r.length;
      const [s, e, v] = n.r[idx]!;
      const ns = Math.max(0, s + o.ds), ne = e + o.de;
      if (ns >= ne) continue;
      const lo = idx > 0 ? n.r[idx - 1]![1] : 0;
      const hi = idx + 1 < n.r.length ? n.r[idx + 1]![0] : Infinity;
      if (ns < lo || ne > hi) {
        assert.throws(() => t.setRange(v, ns, ne));
        continue;
      }
      t.setRange(v, ns, ne);
      n.r[idx] = [ns, ne, v];
    } else {
      check(t, n, o);
    }
    if (++step % every === 0) t.validate();
  }
  t.validate();
  assert.equal(t.size, n.r.length);
  assert.deepEqual(t.toArray(), n.r.map((x) => x[2]));
  assert.deepEqual([...t], n.r.map((x) => x[2]));
  assert.equal(t.first, n.r[0]?.[2] ?? null);
  assert.equal(t.last, n.r[n.r.length - 1]?.[2] ?? null);
  assert.equal(t.totalBytes, n.r.reduce((a, [s, e]) => a + e - s, 0));
  // Every gap search over the final layout.
  for (let a = 0; a < 300; a += 7) check(t, n, { a, len: (a % 13) + 1, lo: a, hi: a * 40 + 50 });
}

test('VmaTree agrees with a sorted array (fast-check, one leaf to a few levels)', () => {
  fc.assert(fc.property(fc.array(ops(200, 8, 3), { maxLength: 200 }), (list) => {
    run(new VmaTree(), new Naive(), list, 1);
  }), { numRuns: 300 });
});

test('VmaTree agrees with a sorted array with thousands of VMAs (splits and merges on every level)', () => {
  // A bulk-loaded or inserted starting set of up to 5000 VMAs (up to four
  // levels), then random edits, long runs of removals included, so nodes
  // split, borrow, merge and the root grows and collapses.
  const start = fc.record({
    count: fc.integer({ min: 0, max: 5000 }),
    stride: fc.integer({ min: 1, max: 4 }),
    bulk: fc.boolean(),
    descending: fc.boolean(),
  });
  fc.assert(fc.property(start, fc.array(ops(30000, 6, 400), { maxLength: 600 }), (st, list) => {
    const t = new VmaTree();
    const n = new Naive();
    const vs: Vma[] = [];
    for (let i = 0; i < st.count; i++) {
      // Gaps of 0 (adjacent VMAs) up to stride + 1 units.
      const s = i * (st.stride + 2) + (i % 2);
      vs.push(new Vma(s, s + 1 + (i % 4 === 3 ? 1 : 0), 3, 0, null));
    }
    if (st.bulk) t.buildSorted(vs);
    else if (st.descending) for (let i = vs.length - 1; i >= 0; i--) t.insert(vs[i]!);
    else for (const v of vs) t.insert(v);
    for (const v of vs) n.insert(v);
    t.validate();
    run(t, n, list, 25);
  }), { numRuns: 40 });
});

test('VmaTree shrinks back to one leaf and grows again', () => {
  const t = new VmaTree();
  const vs = Array.from({ length: 3000 }, (_, i) => new Vma(i * 3, i * 3 + 2, 3, 0, null));
  for (const v of vs) t.insert(v);
  t.validate();
  // Remove in a scattered order, validating on the way.
  const order = vs.map((v, i) => [v, (i * 7919) % vs.length] as const).sort((a, b) => a[1] - b[1]).map(([v]) => v);
  let left = vs.length;
  for (const v of order) {
    t.remove(v);
    left--;
    if (left % 97 === 0) t.validate();
  }
  t.validate();
  assert.equal(t.size, 0);
  assert.equal(t.first, null);
  assert.equal(t.highestGapEnd(10, 0, 100), 100);
  assert.equal(t.lowestGapStart(10, 5, 100), 5);
  t.buildSorted(vs.slice(0, 40));
  t.validate();
  assert.equal(t.size, 40);
  t.clear();
  t.validate();
  for (const v of vs.slice(0, 100)) t.insert(v);
  t.validate();
});

test('VmaTree: a full leaf passes VMAs to a neighbour, the new VMA landing on either side', () => {
  const mk = (s: number, e: number) => new Vma(s, e, 3, 0, null);
  const check = (t: VmaTree, expect: number[]) => {
    t.validate();
    assert.deepEqual(t.toArray().map((v) => v.start), expect);
  };
  // Leaves of 9 and 8 VMAs; the right one filled up to 16.
  let t = new VmaTree();
  const starts = Array.from({ length: 25 }, (_, i) => i * 10);
  t.buildSorted(starts.slice(0, 17).map((s) => mk(s, s + 5)));
  for (const s of starts.slice(17)) t.insert(mk(s, s + 5));
  check(t, starts);
  // Before the right leaf's first VMA: goes over to the left leaf with it.
  t.insert(mk(86, 88));
  check(t, [...starts.slice(0, 9), 86, ...starts.slice(9)]);
  // The left leaf full, the right one with room: before the left leaf's last VMA.
  t = new VmaTree();
  t.buildSorted(starts.slice(0, 17).map((s) => mk(s, s + 5)));
  const extra = [6, 16, 26, 36, 46, 56, 66];
  for (const s of extra) t.insert(mk(s, s + 2));
  t.insert(mk(77, 79));
  const all = [...starts.slice(0, 17), ...extra, 77].sort((a, b) => a - b);
  check(t, all);
  assert.equal(t.findPrev(80)!.start, 77);
  assert.equal(t.find(79)!.start, 80);
});

test('VmaTree iterates from an address and links neighbours', () => {
  const t = new VmaTree();
  const vs = [10, 30, 20, 50, 40].map((s) => new Vma(s, s + 5, 3, 0, null));
  for (const v of vs) t.insert(v);
  assert.deepEqual([...t.from(22)].map((v) => v.start), [20, 30, 40, 50]);
  assert.deepEqual([...t.from(25)].map((v) => v.start), [30, 40, 50]);
  assert.equal(t.first!.start, 10);
  assert.equal(t.last!.start, 50);
  assert.equal(t.findPrev(30)!.start, 20);
  assert.throws(() => t.insert(new Vma(12, 14, 3, 0, null)));
  assert.throws(() => t.insert(vs[0]!), /twice/);
  const other = new VmaTree();
  assert.equal(other.has(vs[0]!), false);
  assert.throws(() => other.remove(vs[0]!));
  assert.throws(() => other.setRange(vs[0]!, 10, 12));
});

test('VmaTree gap searches: clamping to [low, high) and the gap above the last VMA', () => {
  const t = new VmaTree();
  for (const [s, e] of [[10, 20], [25, 30], [50, 60]] as const) t.insert(new Vma(s, e, 3, 0, null));
  // Top-down: the gap above the last VMA first, clamped to high.
  assert.equal(t.highestGapEnd(5, 0, 100), 100);
  assert.equal(t.highestGapEnd(5, 0, 65), 65);
  assert.equal(t.highestGapEnd(5, 0, 64), 50);
  assert.equal(t.highestGapEnd(5, 0, 63), 50);
  assert.equal(t.highestGapEnd(5, 0, 50), 50);
  assert.equal(t.highestGapEnd(20, 0, 60), 50);
  assert.equal(t.highestGapEnd(21, 0, 60), -1);
  assert.equal(t.highestGapEnd(5, 22, 27), -1);
  assert.equal(t.highestGapEnd(3, 20, 40), 40);
  assert.equal(t.highestGapEnd(10, 0, 15), 10);
  assert.equal(t.highestGapEnd(11, 0, 15), -1);
  // Bottom-up: the gap below the first VMA (from 0) first, clamped to low.
  assert.equal(t.lowestGapStart(5, 0, 100), 0);
  assert.equal(t.lowestGapStart(5, 6, 100), 20);
  assert.equal(t.lowestGapStart(5, 21, 100), 30);
  assert.equal(t.lowestGapStart(20, 0, 100), 30);
  assert.equal(t.lowestGapStart(21, 0, 100), 60);
  assert.equal(t.lowestGapStart(5, 55, 70), 60);
  assert.equal(t.lowestGapStart(5, 55, 64), -1);
  assert.equal(t.lowestGapStart(0, 0, 100), -1);
  assert.equal(t.highestGapEnd(0, 0, 100), -1);
});

test('gap searches deep in a multi-level tree agree with the reference (past the last VMAs the prev links try)', () => {
  const t = new VmaTree(), n = new Naive();
  // 400 VMAs with holes of 1..5 units (three levels), queried over every window.
  let a = 3;
  for (let i = 0; i < 400; i++) {
    const v = new Vma(a, a + 2, 3, 0, null);
    t.insert(v); n.insert(v);
    a += 2 + 1 + (i * 7) % 5;
  }
  t.validate();
  for (let hi = 0; hi <= a + 10; hi += 3) {
    for (const len of [1, 2, 3, 4, 5, 6]) {
      for (const lo of [0, hi >> 1, hi - 12]) {
        assert.equal(t.highestGapEnd(len, lo, hi), n.highest(len, lo, hi));
        assert.equal(t.lowestGapStart(len, lo, hi), n.lowest(len, lo, hi));
      }
    }
  }
});
