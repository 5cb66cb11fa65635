import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VmaTree } from '../../src/mm/vma-tree.js';
import { Vma } from '../../src/mm/vma.js';

/** The naive model: a sorted array of [start, end). */
class Naive {
  r: [number, number][] = [];
  insert(s: number, e: number) { this.r.push([s, e]); this.r.sort((a, b) => a[0] - b[0]); }
  remove(s: number) { this.r = this.r.filter((x) => x[0] !== s); }
  find(a: number) { return this.r.find((x) => x[1] > a) ?? null; }
  free(s: number, e: number) { return !this.r.some((x) => x[0] < e && x[1] > s); }
  gaps(): [number, number][] {
    const g: [number, number][] = [];
    let prev = 0;
    for (const [s, e] of this.r) { if (s > prev) g.push([prev, s]); prev = e; }
    g.push([prev, Infinity]);
    return g;
  }
  highest(len: number, lo: number, hi: number) {
    let best = -1;
    for (const [gs, ge] of this.gaps()) {
      const s = Math.max(gs, lo), e = Math.min(ge, hi);
      if (e - s >= len) best = Math.max(best, e);
    }
    return best;
  }
  lowest(len: number, lo: number, hi: number) {
    for (const [gs, ge] of this.gaps()) {
      const s = Math.max(gs, lo), e = Math.min(ge, hi);
      if (e - s >= len) return s;
    }
    return -1;
  }
}

const op = fc.oneof(
  fc.record({ k: fc.constant('ins' as const), s: fc.integer({ min: 0, max: 200 }), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ k: fc.constant('del' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('set' as const), i: fc.nat(), ds: fc.integer({ min: -3, max: 3 }), de: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ k: fc.constant('q' as const), a: fc.integer({ min: 0, max: 220 }), len: fc.integer({ min: 1, max: 30 }), lo: fc.integer({ min: 0, max: 220 }), hi: fc.integer({ min: 0, max: 240 }) }),
);

test('VmaTree agrees with a sorted array (fast-check)', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
    const t = new VmaTree();
    const n = new Naive();
    const byStart = new Map<number, Vma>();
    for (const o of ops) {
      if (o.k === 'ins') {
        if (!n.free(o.s, o.s + o.n)) continue;
        const v = new Vma(o.s, o.s + o.n, 3, 0, null);
        t.insert(v); n.insert(o.s, o.s + o.n); byStart.set(o.s, v);
      } else if (o.k === 'del') {
        if (!n.r.length) continue;
        const [s] = n.r[o.i % n.r.length]!;
        t.remove(byStart.get(s)!); n.remove(s); byStart.delete(s);
      } else if (o.k === 'set') {
        if (!n.r.length) continue;
        const idx = o.i % n.r.length;
        const [s, e] = n.r[idx]!;
        const ns = Math.max(0, s + o.ds), ne = e + o.de;
        if (ns >= ne) continue;
        const lo = idx > 0 ? n.r[idx - 1]![1] : 0;
        const hi = idx + 1 < n.r.length ? n.r[idx + 1]![0] : Infinity;
        if (ns < lo || ne > hi) continue;
        const v = byStart.get(s)!;
        t.setRange(v, ns, ne);
        n.r[idx] = [ns, ne]; byStart.delete(s); byStart.set(ns, v);
      } else {
        const f = t.find(o.a);
        const nf = n.find(o.a);
        assert.deepEqual(f ? [f.start, f.end] : null, nf);
        assert.equal(t.highestGapEnd(o.len, o.lo, o.hi), o.hi - o.lo < o.len ? -1 : n.highest(o.len, o.lo, o.hi));
        assert.equal(t.lowestGapStart(o.len, o.lo, o.hi), o.hi - o.lo < o.len ? -1 : n.lowest(o.len, o.lo, o.hi));
        const lk = t.lookup(o.a);
        assert.equal(lk ? lk.start : null, nf && nf[0] <= o.a ? nf[0] : null);
      }
      t.validate();
    }
    assert.deepEqual(t.toArray().map((v) => [v.start, v.end]), n.r);
    assert.equal(t.totalBytes, n.r.reduce((a, [s, e]) => a + e - s, 0));
  }), { numRuns: 300 });
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
});
