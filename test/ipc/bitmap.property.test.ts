import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IndexBitmap } from '../../src/ipc/bitmap.js';

const SIZE = 4096;

function naiveNextZero(used: Uint8Array, from: number, end: number): number {
  for (let i = Math.max(from, 0); i < Math.min(end, SIZE); i++) if (!used[i]) return i;
  return -1;
}
function naiveNextSet(used: Uint8Array, from: number): number {
  for (let i = Math.max(from, 0); i < SIZE; i++) if (used[i]) return i;
  return -1;
}
function naivePrevSet(used: Uint8Array, from: number): number {
  for (let i = Math.min(from, SIZE - 1); i >= 0; i--) if (used[i]) return i;
  return -1;
}

test('IndexBitmap agrees with a naive array for any fill pattern and query', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1000 }), // density per mille
      fc.integer({ min: 0, max: 2 ** 31 - 1 }), // PRNG seed
      fc.array(fc.tuple(fc.integer({ min: -2, max: SIZE + 2 }), fc.integer({ min: 0, max: SIZE + 40 })), { minLength: 1, maxLength: 40 }),
      fc.array(fc.integer({ min: 0, max: SIZE - 1 }), { maxLength: 40 }),
      (density, seed, queries, toggles) => {
        const bm = new IndexBitmap(SIZE);
        const used = new Uint8Array(SIZE);
        let x = seed;
        for (let i = 0; i < SIZE; i++) {
          x = (x * 1103515245 + 12345) % 2147483648;
          if (x % 1000 < density) {
            bm.set(i);
            used[i] = 1;
          }
        }
        for (const t of toggles) {
          if (used[t]) bm.clear(t);
          else bm.set(t);
          used[t] ^= 1;
        }
        for (let i = 0; i < SIZE; i++) assert.equal(bm.test(i), used[i] === 1);
        for (const [from, end] of queries) {
          assert.equal(bm.findNextZero(from, end), naiveNextZero(used, from, end), `nextZero(${from}, ${end})`);
          assert.equal(bm.findNextSet(from), naiveNextSet(used, from), `nextSet(${from})`);
          assert.equal(bm.findPrevSet(from), naivePrevSet(used, from), `prevSet(${from})`);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('IndexBitmap: full words, single free bit 31, boundaries', () => {
  const bm = new IndexBitmap(2048);
  for (let i = 0; i < 2048; i++) bm.set(i);
  assert.equal(bm.findNextZero(0, 2048), -1);
  bm.clear(63); // bit 31 of word 1
  assert.equal(bm.findNextZero(0, 2048), 63);
  assert.equal(bm.findNextZero(0, 63), -1);
  bm.clear(1055); // bit 31 of word 32 (second summary word)
  assert.equal(bm.findNextZero(64, 2048), 1055);
  bm.clear(2047);
  assert.equal(bm.findNextZero(1056, 2048), 2047);
  assert.equal(bm.findPrevSet(5000), 2046);
  for (let i = 0; i < 2048; i++) bm.clear(i);
  assert.equal(bm.findNextSet(0), -1);
  assert.equal(bm.findPrevSet(2047), -1);
  bm.set(1024);
  assert.equal(bm.findPrevSet(2047), 1024);
  assert.equal(bm.findPrevSet(1023), -1);
  assert.equal(bm.findNextSet(0), 1024);
  assert.throws(() => new IndexBitmap(1000));
});
