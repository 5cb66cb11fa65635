import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAP_FIXED, MAP_SHARED, MAP_ANONYMOUS, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, P, PRIV,
  PROT_READ, RW, caller, hookedFile, mmap, newMm,
} from './helpers.js';

const ENOMEM = -12;

test('pages and commit charge return to zero after teardown', () => {
  const mm = newMm();
  const c = caller();
  const a = mmap(mm, 0, 8 * P, RW, PRIV);
  const s = mmap(mm, 0, 8 * P, RW, MAP_SHARED | MAP_ANONYMOUS);
  const f = hookedFile(mm, 4 * P);
  const v = mm.mmap(0n, BigInt(4 * P), RW, MAP_SHARED, f, 0n, c);
  mm.fill(a, 8 * P, 1);
  mm.fill(s, 8 * P, 2);
  mm.fill(v, 4 * P, 3);
  assert.equal(mm.allocator.allocatedPages, 20);
  assert.equal(mm.allocator.committedPages, 16);
  mm.mprotect(BigInt(a + P), 4096n, PROT_READ, c);
  const child = mm.fork(c);
  assert.equal(mm.allocator.committedPages, 24);
  child.fill(a, P, 9);
  child.teardown(c);
  mm.teardown(c);
  assert.equal(mm.allocator.committedPages, 0);
  // The SysV-like file keeps its pages until it is destroyed.
  assert.equal(mm.allocator.allocatedPages, 4);
  f.cache.destroy();
  assert.equal(mm.allocator.allocatedPages, 0);
});

test('random operation sequences keep the books balanced (fast-check)', () => {
  const opArb = fc.record({
    k: fc.integer({ min: 0, max: 9 }), a: fc.integer({ min: 0, max: 15 }), n: fc.integer({ min: 1, max: 6 }),
    b: fc.integer({ min: 0, max: 15 }), p: fc.integer({ min: 0, max: 7 }),
  });
  fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
    const mm = newMm();
    const c = caller();
    const f = hookedFile(mm, 8 * P);
    const base = 0x40000000;
    let child = null as null | ReturnType<typeof mm.fork>;
    for (const o of ops) {
      const addr = base + o.a * P, len = o.n * P;
      switch (o.k) {
        case 0: mmap(mm, addr, len, o.p & 3, PRIV | MAP_FIXED); break;
        case 1: mmap(mm, addr, len, o.p & 3, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED); break;
        case 2: mm.mmap(BigInt(addr), BigInt(Math.min(len, 8 * P)), o.p & 3, MAP_SHARED | MAP_FIXED, f, 0n, c); break;
        case 3: mm.munmap(BigInt(addr), BigInt(len), c); break;
        case 4: mm.mprotect(BigInt(addr), BigInt(len), o.p & 7, c); break;
        case 5: mm.mremap(BigInt(addr), BigInt(len), BigInt(o.b * P + P), MREMAP_MAYMOVE, 0n, c); break;
        case 6: mm.mremap(BigInt(addr), BigInt(len), BigInt(len), MREMAP_MAYMOVE | MREMAP_FIXED, BigInt(base + 0x100000 + o.b * P), c); break;
        case 7: mm.mremap(BigInt(addr), BigInt(len), BigInt(len), MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0n, c); break;
        case 8: mm.fill(addr, len, o.p); break;
        case 9: if (child) child.teardown(c); child = mm.fork(c); child.fill(addr, P, 1); break;
      }
      mm.tree.validate();
      assert.equal(f.nattch, [...mm.vmas(), ...(child ? child.vmas() : [])].filter((v) => v.file === f).length);
    }
    child?.teardown(c);
    mm.teardown(c);
    assert.equal(f.nattch, 0);
    f.cache.destroy();
    assert.equal(mm.allocator.allocatedPages, 0);
    assert.equal(mm.allocator.committedPages, 0);
  }), { numRuns: Number(process.env.MM_FC_RUNS ?? 150) });
});

test('vm.max_map_count: mmap fails when map_count > max, a split when map_count >= max', () => {
  const mm = newMm({ maxMapCount: 10 });
  const c = caller();
  let n = 0;
  for (let i = 0; ; i++) {
    const r = mmap(mm, 0x40000000 + i * 2 * P, P, RW, PRIV | MAP_FIXED);
    if (r < 0) { assert.equal(r, ENOMEM); break; }
    n++;
  }
  assert.equal(n, 11);
  assert.equal(mm.mapCount, 11);
  // Splits are refused; unmapping a whole VMA or the edge of one is fine.
  const big = 0x50000000;
  mm.munmap(0x40000000n, 4096n, c);
  assert.equal(mmap(mm, big, 3 * P, RW, PRIV | MAP_FIXED), big);
  assert.equal(mm.mapCount, 11);
  assert.equal(mm.mprotect(BigInt(big + P), 4096n, PROT_READ, c), ENOMEM);
  assert.equal(mm.munmap(BigInt(big + P), 4096n, c), ENOMEM);
  assert.equal(mm.munmap(BigInt(big), 4096n, c), 0);
  assert.equal(mm.mapCount, 11);
  assert.equal(mm.madvise(BigInt(big + P), 4096n, 10, c), -11, 'madvise reports the ENOMEM of a split as EAGAIN');
  assert.equal(mm.mremap(BigInt(big + P), 4096n, 4096n, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0n, c), ENOMEM);
});
