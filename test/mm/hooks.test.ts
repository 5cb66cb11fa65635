import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAP_FIXED, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, P, PRIV, PROT_READ, RW,
  caller, hookedFile, layout, mmap, newMm,
} from './helpers.js';

const MADV_DONTFORK = 10, MADV_DOFORK = 11;

function attach(pages: number, addr = 0x40000000) {
  const mm = newMm();
  const f = hookedFile(mm, pages * P);
  const a = mm.mmap(BigInt(addr), BigInt(pages * P), RW, MAP_SHARED | MAP_FIXED, f, 0n, caller());
  assert.equal(a, addr);
  return { mm, f, a };
}

test('attach opens once; mprotect of the middle page splits into 3 (+2), restoring keeps 3', () => {
  const { mm, f, a } = attach(3);
  assert.equal(f.nattch, 1);
  assert.equal(mm.mprotect(BigInt(a + P), 4096n, PROT_READ, caller()), 0);
  assert.equal(mm.mapCount, 3);
  assert.equal(f.nattch, 3);
  assert.equal(mm.mprotect(BigInt(a + P), 4096n, RW, caller()), 0);
  assert.equal(mm.mapCount, 3, 'a VMA with a close hook is never merged away');
  assert.equal(f.nattch, 3);
  mm.teardown(caller());
  assert.equal(f.nattch, 0);
});

test('anonymous VMAs merge back after the same sequence', () => {
  const mm = newMm();
  const a = mmap(mm, 0x40000000, 3 * P, RW, PRIV | MAP_FIXED);
  mm.mprotect(BigInt(a + P), 4096n, PROT_READ, caller());
  assert.equal(mm.mapCount, 3);
  mm.mprotect(BigInt(a + P), 4096n, RW, caller());
  assert.deepEqual(layout(mm), ['40000000-40003000 rw-p']);
});

test('a merge that only moves a boundary is allowed for hooked VMAs (no open/close)', () => {
  const { mm, f, a } = attach(3);
  mm.mprotect(BigInt(a), 2n * 4096n, PROT_READ, caller());
  assert.equal(f.nattch, 2);
  // [p0 p1] r--s, [p2] rw-s; making p1 writable extends the next VMA backwards.
  mm.mprotect(BigInt(a + P), 4096n, RW, caller());
  assert.deepEqual(layout(mm), ['40000000-40001000 r--s', '40001000-40003000 rw-s']);
  assert.equal(f.nattch, 2);
  assert.equal(mm.vmas()[1]!.pgoff, 1);
});

test('munmap of a part: split +1, removal -1', () => {
  const { mm, f, a } = attach(3);
  assert.equal(mm.munmap(BigInt(a + P), 4096n, caller()), 0);
  assert.equal(f.nattch, 2);
  assert.equal(f.opens, 3);
  assert.equal(f.closes, 1);
  assert.deepEqual(layout(mm), ['40000000-40001000 rw-s', '40002000-40003000 rw-s']);
  assert.equal(mm.vmas()[1]!.pgoff, 2);
  assert.equal(mm.unmapRange(a, a + P, caller()), 0);
  assert.equal(f.nattch, 1);
});

test('mremap: move unchanged, shrink unchanged, grow in place unchanged, DONTUNMAP +1', () => {
  const { mm, f, a } = attach(2);
  const c = caller();
  const b = mm.mremap(BigInt(a), 8192n, 8192n, MREMAP_MAYMOVE | MREMAP_FIXED, 0x50000000n, c);
  assert.equal(b, 0x50000000);
  assert.equal(f.nattch, 1);
  assert.equal(f.opens, 2);
  assert.equal(mm.mremap(BigInt(b), 8192n, 4096n, 0, 0n, c), b);
  assert.equal(f.nattch, 1);
  assert.equal(mm.mremap(BigInt(b), 4096n, 12288n, 0, 0n, c), b);
  assert.equal(f.nattch, 1);
  assert.deepEqual(layout(mm), ['50000000-50003000 rw-s']);
  const d = mm.mremap(BigInt(b), 12288n, 12288n, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0n, c);
  assert.ok(d > 0);
  assert.equal(f.nattch, 2);
  assert.equal(mm.mapCount, 2);
});

test('MAP_FIXED over a hooked VMA closes it', () => {
  const { mm, f, a } = attach(2);
  assert.equal(mmap(mm, a, 2 * P, RW, PRIV | MAP_FIXED), a);
  assert.equal(f.nattch, 0);
  assert.equal(f.closes, 1);
});

test('fork opens every copied VMA in the parent context; DONTFORK VMAs are skipped', () => {
  const { mm, f, a } = attach(3);
  const parent = caller(10);
  mm.mprotect(BigInt(a + P), 4096n, PROT_READ, parent);
  assert.equal(f.nattch, 3);
  assert.equal(mm.madvise(BigInt(a + 2 * P), 4096n, MADV_DONTFORK, parent), 0);
  const child = mm.fork(parent);
  assert.equal(f.nattch, 5);
  assert.equal(f.lastPid, 10);
  assert.equal(child.mapCount, 2);
  child.teardown(caller(11));
  assert.equal(f.nattch, 3);
  assert.equal(f.lastPid, 11);
  assert.equal(mm.madvise(BigInt(a + 2 * P), 4096n, MADV_DOFORK, parent), 0);
  const child2 = mm.fork(parent);
  assert.equal(f.nattch, 6);
  child2.teardown(parent);
  mm.teardown(parent);
  assert.equal(f.nattch, 0);
  assert.equal(f.opens, f.closes);
});
