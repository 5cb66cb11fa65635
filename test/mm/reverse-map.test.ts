import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAP_FIXED, MAP_SHARED, MREMAP_MAYMOVE, P, PRIV, PROT_READ, RW, caller, hookedFile, newMm } from './helpers.js';

const MADV_REMOVE = 9;

// A VMA joins its file's reverse map with its first file PTE (filePtesOf) and
// leaves it when freed; unmap_mapping_range() must still reach every PTE of
// a page, through splits, fork copies and moves.
test('reverse map: a VMA is on it while it has file PTEs, and hole punching reaches them all', () => {
  const mm = newMm();
  const f = hookedFile(mm, 4 * P);
  const a = mm.mmap(0n, BigInt(4 * P), RW, MAP_SHARED, f, 0n, caller());
  assert.ok(a > 0);
  assert.equal(f.cache.mapperCount, 0, 'an untouched mapping has no PTEs to zap');
  assert.equal(mm.fill(a, 4 * P, 0x11).fault, undefined);
  assert.equal(f.cache.mapperCount, 1);
  // Split into three: the PTEs move with their pages, and each piece is reachable.
  assert.equal(mm.mprotect(BigInt(a + P), BigInt(P), PROT_READ, caller()), 0);
  assert.equal(mm.tree.size, 3);
  assert.equal(f.cache.mapperCount, 3);
  // A child gets no PTEs of a shared file mapping at fork (copy_page_range
  // skips it); the page it touches maps it too.
  const child = mm.fork(caller(101));
  assert.equal(child.rssShmem, 0);
  assert.equal(f.cache.mapperCount, 3);
  assert.equal(child.fill(a + 3 * P, 1, 0x22).fault, undefined);
  assert.equal(mm.rssShmem, 4);
  assert.equal(child.rssShmem, 1);
  assert.equal(f.cache.mapperCount, 4);
  // MADV_REMOVE in the parent drops page 3's PTEs in both processes.
  assert.equal(mm.madvise(BigInt(a + 2 * P), BigInt(2 * P), MADV_REMOVE, caller()), 0);
  assert.equal(mm.rssShmem, 2);
  assert.equal(child.rssShmem, 0);
  assert.deepEqual([...mm.read(a + 3 * P, 1).data], [0], 'the hole reads as zeros');
  // Freed VMAs leave the reverse map.
  assert.equal(mm.munmap(a, 4 * P, caller()), 0);
  assert.equal(f.cache.mapperCount, child.tree.toArray().filter((v) => v.filePtes !== null).length);
  child.teardown(caller(101));
  assert.equal(f.cache.mapperCount, 0);
});

test('reverse map: PTEs moved by mremap stay reachable at their new address', () => {
  const mm = newMm();
  const f = hookedFile(mm, 2 * P);
  const a = mm.mmap(0n, BigInt(2 * P), RW, MAP_SHARED, f, 0n, caller());
  assert.ok(a > 0);
  assert.equal(mm.fill(a, 2 * P, 0x33).fault, undefined);
  // Something right above, so that growing has to move the mapping.
  assert.ok(mm.mmap(BigInt(a + 2 * P), BigInt(P), RW, PRIV | MAP_FIXED, null, 0n, caller()) > 0);
  const b = mm.mremap(BigInt(a), BigInt(2 * P), BigInt(3 * P), MREMAP_MAYMOVE, 0n, caller());
  assert.ok(b > 0 && b !== a);
  assert.equal(mm.rssShmem, 2);
  assert.equal(f.cache.mapperCount, 1);
  assert.equal(mm.madvise(BigInt(b), BigInt(P), MADV_REMOVE, caller()), 0);
  assert.equal(mm.rssShmem, 1);
  assert.deepEqual([...mm.read(b, 1).data], [0]);
  assert.deepEqual([...mm.read(b + P, 1).data], [0x33]);
});
