import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeyTable } from '../../src/ipc/key-table.js';

/** Checks the table against a Map of the same contents, keys taken as key_t (signed 32-bit). */
function same(t: KeyTable<{ k: number }>, m: Map<number, { k: number }>, probes: number[]): void {
  assert.equal(t.size, m.size);
  for (const [k, o] of m) assert.equal(t.get(k), o);
  for (const p of probes) {
    assert.equal(t.get(p), m.get(p | 0));
    assert.equal(t.has(p), m.has(p | 0));
  }
  const seen = new Map(t.entries());
  assert.equal(seen.size, m.size);
  for (const [k, o] of m) assert.equal(seen.get(k), o);
}

test('KeyTable agrees with a Map under any sequence of set/delete (keys clustered to force probe chains)', () => {
  // A small key space makes collisions, wrap-around clusters, growth and
  // shrinking frequent; the large keys check that key_t is signed 32-bit.
  const key = fc.oneof(
    fc.integer({ min: -40, max: 40 }),
    fc.integer({ min: 0x5b000000, max: 0x5b000060 }),
    fc.constantFrom(0x7fffffff, -0x80000000, 0xffffffff, 0x80000000),
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), key), { maxLength: 400 }),
      fc.array(key, { maxLength: 20 }),
      (ops, probes) => {
        const t = new KeyTable<{ k: number }>();
        const m = new Map<number, { k: number }>();
        for (const [add, raw] of ops) {
          const k = raw | 0;
          if (k === 0) continue; // IPC_PRIVATE is never a key of the table
          if (add) {
            const o = { k };
            t.set(raw, o);
            m.set(k, o);
          } else {
            assert.equal(t.delete(raw), m.delete(k));
          }
        }
        same(t, m, probes);
      },
    ),
    { numRuns: 300 },
  );
});

test('KeyTable: IPC_PRIVATE is never found and cannot be stored', () => {
  const t = new KeyTable<string>();
  assert.equal(t.get(0), undefined);
  t.set(5, 'five');
  assert.equal(t.get(0), undefined);
  assert.equal(t.delete(0), false);
  assert.throws(() => t.set(0, 'private'), RangeError);
});

test('KeyTable: 32 000 sequential keys (an ftok()-like range), then all removed again', () => {
  const t = new KeyTable<number>();
  const base = 0x5b000000;
  for (let i = 0; i < 32000; i++) t.set(base + i, i);
  assert.equal(t.size, 32000);
  for (let i = 0; i < 32000; i += 997) assert.equal(t.get(base + i), i);
  assert.equal(t.get(base + 32000), undefined);
  for (let i = 0; i < 32000; i++) assert.equal(t.delete(base + i), true);
  assert.equal(t.size, 0);
  assert.equal(t.get(base + 5), undefined);
});
