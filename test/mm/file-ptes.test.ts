/** FilePtes (a VMA's PTEs of file pages) against a Map of page index -> dirty bit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FilePtes, LEAF_PAGES } from '../../src/mm/file-ptes.js';

/** Page indexes around a few leaf boundaries, near 0 and far out (a 1 TiB file). */
const FAR = 2 ** 28 - 3 * LEAF_PAGES;
const pageArb = fc.oneof(fc.integer({ min: 0, max: 3 * LEAF_PAGES + 10 }), fc.integer({ min: FAR, max: FAR + 3 * LEAF_PAGES }));

type Op =
  | { k: 'set'; which: 0 | 1; i: number; dirty: boolean }
  | { k: 'del'; which: 0 | 1; i: number }
  | { k: 'move'; which: 0 | 1; lo: number; len: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('set' as const), which: fc.constantFrom(0 as const, 1 as const), i: pageArb, dirty: fc.boolean() }),
  fc.record({ k: fc.constant('set' as const), which: fc.constantFrom(0 as const, 1 as const), i: pageArb, dirty: fc.boolean() }),
  fc.record({ k: fc.constant('del' as const), which: fc.constantFrom(0 as const, 1 as const), i: pageArb }),
  fc.record({
    k: fc.constant('move' as const), which: fc.constantFrom(0 as const, 1 as const), lo: pageArb,
    len: fc.oneof(fc.integer({ min: 0, max: 2 * LEAF_PAGES + 40 }), fc.constant(2 ** 30)),
  }),
);

function sortedKeys(m: Map<number, boolean>, lo = 0, hi = Infinity): number[] {
  return [...m.keys()].filter((k) => k >= lo && k < hi).sort((a, b) => a - b);
}

test('FilePtes behaves like a map of page index to PTE dirty bit (set, delete, move, keysIn, countIn)', () => {
  fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(fc.tuple(pageArb, fc.integer({ min: 0, max: 3 * LEAF_PAGES })), { minLength: 1, maxLength: 4 }), (ops, ranges) => {
    const p = [new FilePtes(), new FilePtes()];
    const ref = [new Map<number, boolean>(), new Map<number, boolean>()];
    for (const op of ops) {
      const s = p[op.which]!, r = ref[op.which]!, other = ref[1 - op.which]!;
      if (op.k === 'set') {
        // A page is mapped by one of two VMAs at most (they cover disjoint ranges).
        if (other.has(op.i)) continue;
        const had = r.get(op.i);
        assert.equal(s.set(op.i, op.dirty), had === undefined);
        r.set(op.i, (had ?? false) || op.dirty);
      } else if (op.k === 'del') {
        if (r.has(op.i)) {
          assert.equal(s.delete(op.i), r.get(op.i));
          r.delete(op.i);
        } else {
          assert.throws(() => s.delete(op.i), /not mapped/);
        }
      } else {
        const d = p[1 - op.which]!, hi = op.lo + op.len;
        s.moveTo(d, op.lo, hi);
        for (const k of sortedKeys(r, op.lo, hi)) { other.set(k, r.get(k)!); r.delete(k); }
      }
    }
    for (let w = 0; w < 2; w++) {
      const s = p[w]!, r = ref[w]!;
      assert.equal(s.size, r.size);
      assert.deepEqual(s.keys(), sortedKeys(r));
      for (const k of [...r.keys(), 0, LEAF_PAGES - 1, LEAF_PAGES, FAR + LEAF_PAGES]) {
        assert.equal(s.has(k), r.has(k), `has ${k}`);
        assert.equal(s.isDirty(k), r.get(k) ?? false, `dirty ${k}`);
      }
      for (const [lo, len] of ranges) {
        assert.deepEqual(s.keysIn(lo, lo + len), sortedKeys(r, lo, lo + len));
        assert.equal(s.countIn(lo, lo + len), sortedKeys(r, lo, lo + len).length);
      }
    }
  }), { numRuns: 300 });
});

test('FilePtes: a dense range costs one leaf per LEAF_PAGES pages, a far single page one leaf; empty leaves go', () => {
  const s = new FilePtes();
  for (let i = 0; i < 16 * LEAF_PAGES; i++) assert.equal(s.set(i, (i & 1) === 1), true);
  assert.equal(s.size, 16 * LEAF_PAGES);
  assert.equal(s.countIn(LEAF_PAGES - 3, 2 * LEAF_PAGES + 3), LEAF_PAGES + 6);
  // Moving whole leaves and part of one.
  const d = new FilePtes();
  s.moveTo(d, 4 * LEAF_PAGES - 5, 16 * LEAF_PAGES);
  assert.equal(d.size, 12 * LEAF_PAGES + 5);
  assert.equal(s.size, 4 * LEAF_PAGES - 5);
  assert.equal(d.isDirty(4 * LEAF_PAGES - 5), true);
  assert.equal(d.isDirty(4 * LEAF_PAGES - 4), false);
  for (const k of d.keys()) d.delete(k);
  assert.equal(d.size, 0);
  assert.deepEqual(d.keysIn(0, Infinity), []);
  const far = new FilePtes();
  far.set(2 ** 28 - 1, false);
  assert.deepEqual(far.keysIn(0, 2 ** 28), [2 ** 28 - 1]);
  assert.equal(far.countIn(0, 2 ** 28), 1);
});
