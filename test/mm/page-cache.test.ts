import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PageAllocator } from '../../src/mm/page-allocator.js';
import { PageCache, CONTIGUOUS_LIMIT_PAGES } from '../../src/mm/page-cache.js';

const rssKiB = () => Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4;

test('pages are allocated on first touch and freed by hole punching and destroy', () => {
  const a = new PageAllocator();
  const c = new PageCache(a, 10);
  assert.equal(c.residentPages, 0);
  const buf = new Uint8Array(3);
  c.read(4, 100, buf, 0, 3);
  assert.equal(c.isResident(4), true);
  assert.equal(a.allocatedPages, 1);
  c.write(5, 0, new Uint8Array([1, 2, 3]), 0, 3);
  c.fill(9, 4090, 6, 0xff);
  assert.equal(c.residentPages, 3);
  assert.equal(a.shmemPages, 3);
  c.punchHole(5, 9);
  assert.equal(c.isResident(5), false);
  assert.equal(c.residentPages, 2);
  c.read(5, 0, buf, 0, 3);
  assert.deepEqual([...buf], [0, 0, 0], 'a punched page comes back zeroed');
  c.destroy();
  assert.equal(a.allocatedPages, 0);
});

test('contiguous storage up to 1 GiB, chunked beyond; lazily created', () => {
  const a = new PageAllocator();
  const small = new PageCache(a, 3);
  const st = small.storage(0, 3)!;
  assert.equal(st.buffer.byteLength, 3 * 4096);
  assert.equal(small.storage(1, 3)!.byteOffset, 4096);
  const big = new PageCache(a, CONTIGUOUS_LIMIT_PAGES * 1024); // 1 TiB
  big.fill(123456789, 0, 4096, 1);
  assert.equal(big.residentPages, 1);
  assert.equal(big.storage(0, CONTIGUOUS_LIMIT_PAGES), null);
  assert.equal(big.storage(16384, 16384 * 2)!.buffer.byteLength, 64 << 20);
  big.destroy();
  small.destroy();
  assert.equal(a.allocatedPages, 0);
});

test('a 1 GiB file with one touched page costs almost no RSS', () => {
  const a = new PageAllocator();
  const before = rssKiB();
  const c = new PageCache(a, CONTIGUOUS_LIMIT_PAGES);
  c.fill(200000, 0, 4096, 0x42);
  const after = rssKiB();
  assert.equal(c.storage(0, CONTIGUOUS_LIMIT_PAGES)!.buffer.byteLength, 1 << 30);
  assert.ok(after - before < 256, `RSS grew by ${after - before} KiB`);
  c.destroy();
});
