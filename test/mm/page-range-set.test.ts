/** PageRangeSet (guard-region markers) against a plain Set of page indexes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PageRangeSet } from '../../src/mm/vma.js';

type Op = { k: 'add' | 'del' | 'move'; lo: number; len: number };

test('PageRangeSet behaves like a set of page indexes (add, delete, move, clone, intersects)', () => {
  const opArb: fc.Arbitrary<Op> = fc.record({
    k: fc.constantFrom('add' as const, 'add' as const, 'del' as const, 'move' as const),
    lo: fc.integer({ min: 0, max: 60 }), len: fc.integer({ min: 0, max: 20 }),
  });
  fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
    const s = new PageRangeSet(), ref = new Set<number>();
    const d = new PageRangeSet(), dref = new Set<number>();
    for (const { k, lo, len } of ops) {
      const hi = lo + len;
      if (k === 'add') { s.addRange(lo, hi); for (let i = lo; i < hi; i++) ref.add(i); }
      else if (k === 'del') { s.deleteRange(lo, hi); for (let i = lo; i < hi; i++) ref.delete(i); }
      else {
        s.moveTo(d, lo, hi);
        for (let i = lo; i < hi; i++) if (ref.delete(i)) dref.add(i);
      }
      for (let i = -1; i < 90; i++) {
        assert.equal(s.has(i), ref.has(i), `has ${i}`);
        assert.equal(d.has(i), dref.has(i), `moved has ${i}`);
      }
      assert.equal(s.size, ref.size);
      const c = s.clone();
      assert.equal(c.size, ref.size);
      for (let a = 0; a < 80; a += 7) {
        const any = [...ref].some((x) => x >= a && x < a + 5);
        assert.equal(s.intersects(a, a + 5), any);
      }
      // Ranges stay sorted, disjoint and non-adjacent.
      const rs = s.rangesIn(-Infinity, Infinity);
      for (let i = 1; i < rs.length; i++) assert.ok(rs[i - 1]![1] < rs[i]![0]);
    }
  }), { numRuns: 300 });
});

test('PageRangeSet holds a 1 TiB range as one entry', () => {
  const s = new PageRangeSet();
  s.addRange(0, 2 ** 28);
  s.deleteRange(5, 6);
  assert.equal(s.size, 2 ** 28 - 1);
  assert.equal(s.has(5), false);
  assert.equal(s.has(2 ** 28 - 1), true);
  assert.deepEqual(s.rangesIn(0, 10), [[0, 5], [6, 10]]);
});
