import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PageAllocator } from '../../src/mm/page-allocator.js';
import { CHUNK_PAGES, CONTIGUOUS_LIMIT_PAGES, PageCache } from '../../src/mm/page-cache.js';
import { StoragePool, newPageStorage, STORAGE_POOL_BYTES_DEFAULT } from '../../src/mm/storage-pool.js';
import { MAP_SHARED, RW, caller, hookedFile, newMm } from './helpers.js';

const P = 4096;
// The one chunk of a file up to 1 GiB (a private field: looking at it changes nothing, unlike storage()).
const bufferOf = (c: PageCache): SharedArrayBuffer => (c as unknown as { lastChunk: { buf: SharedArrayBuffer } }).lastChunk.buf;
const allZero = (b: SharedArrayBuffer): boolean => new Uint8Array(b).every((x) => x === 0);

test('a destroyed file\'s storage backs the next file of its size, zeroed', () => {
  const a = new PageAllocator();
  assert.equal(a.storagePool.maxBytes, STORAGE_POOL_BYTES_DEFAULT);
  const c1 = new PageCache(a, 8);
  for (let i = 1; i <= 4; i++) c1.fill(i, i === 1 ? 10 : 0, i === 4 ? 10 : P - (i === 1 ? 10 : 0), 0xaa);
  c1.write(7, P - 1, new Uint8Array([9]), 0, 1);
  const used = bufferOf(c1);
  c1.destroy();
  assert.equal(a.allocatedPages, 0);
  assert.equal(a.storagePool.size, 1);
  assert.ok(allZero(used), 'zeroed when the file was destroyed');
  const c2 = new PageCache(a, 8);
  assert.equal(c2.isResident(1), false);
  const got = new Uint8Array(4);
  c2.read(1, 10, got, 0, 4);
  assert.deepEqual([...got], [0, 0, 0, 0]);
  assert.equal(bufferOf(c2), used, 'the same buffer, already faulted in');
  assert.equal(c2.residentPages, 1);
  assert.equal(a.storagePool.size, 0);
  // Another size gets a buffer of its own.
  const c3 = new PageCache(a, 9);
  c3.fill(0, 0, 1, 1);
  assert.notEqual(bufferOf(c3), used);
  c2.destroy();
  c3.destroy();
  assert.equal(a.allocatedPages, 0);
  assert.equal(a.storagePool.size, 2);
});

test('storage handed out by storage() or pageView() is never recycled', () => {
  const a = new PageAllocator();
  const c1 = new PageCache(a, 2);
  const st = c1.storage(0, 2)!;
  c1.destroy();
  const c2 = new PageCache(a, 2);
  c2.pageView(1, true)[0] = 5;
  c2.destroy();
  assert.equal(a.storagePool.size, 0);
  const c3 = new PageCache(a, 2);
  assert.notEqual(c3.storage(0, 2)!.buffer, st.buffer);
  c3.destroy();
});

test('files over 1 GiB recycle their 64 MiB chunks; the pool is bounded', () => {
  const a = new PageAllocator({ storagePoolBytes: 128 << 20 });
  const big = new PageCache(a, CONTIGUOUS_LIMIT_PAGES + 1);
  big.fill(5, 0, P, 1);
  big.fill(CHUNK_PAGES + 5, 0, P, 2);
  big.fill(2 * CHUNK_PAGES + 5, 0, P, 3);
  big.destroy();
  assert.equal(a.storagePool.size, 2, 'three 64 MiB chunks, room for two');
  assert.equal(a.storagePool.bytes, 128 << 20);
  const none = new PageAllocator({ storagePoolBytes: 0 });
  const c = new PageCache(none, 1);
  c.fill(0, 0, 1, 1);
  c.destroy();
  assert.equal(none.storagePool.size, 0);
});

test('StoragePool: the newest of a size is taken, the oldest of all evicted (fast-check)', () => {
  fc.assert(fc.property(fc.array(fc.record({ give: fc.boolean(), pages: fc.integer({ min: 1, max: 4 }) }), { maxLength: 60 }), (ops) => {
    const pool = new StoragePool(8 * P);
    // The model: the pooled storages in pool order, oldest first.
    let model: { pages: number; s: ReturnType<typeof newPageStorage> }[] = [];
    for (const o of ops) {
      if (o.give) {
        const s = newPageStorage(o.pages);
        assert.equal(pool.give(s), true);
        model.push({ pages: o.pages, s });
        let bytes = model.reduce((n, m) => n + m.pages * P, 0);
        while (bytes > 8 * P) { bytes -= model[0]!.pages * P; model = model.slice(1); }
      } else {
        const s = pool.take(o.pages);
        let i = -1;
        for (let k = model.length - 1; k >= 0; k--) if (model[k]!.pages === o.pages) { i = k; break; }
        assert.equal(s, i < 0 ? null : model[i]!.s);
        if (i >= 0) model.splice(i, 1);
      }
      assert.equal(pool.size, model.length);
      assert.equal(pool.bytes, model.reduce((n, m) => n + m.pages * P, 0));
    }
    pool.clear();
    assert.equal(pool.size, 0);
    assert.equal(pool.bytes, 0);
  }));
});

test('whatever was written, recycled storage comes back all zero (fast-check)', () => {
  const write = fc.record({
    k: fc.integer({ min: 0, max: 4 }), off: fc.integer({ min: 0, max: 6 * P }), len: fc.integer({ min: 1, max: 2 * P }),
    byte: fc.integer({ min: 1, max: 255 }),
  });
  fc.assert(fc.property(fc.array(write, { maxLength: 8 }), (ws) => {
    const mm = newMm();
    const c = caller();
    const f = hookedFile(mm, 6 * P);
    const at = mm.mmap(0n, BigInt(6 * P), RW, MAP_SHARED, f, 0n, c);
    for (const w of ws) {
      const page = Math.min(5, Math.floor(w.off / P)), inPage = w.off % P, n = Math.min(w.len, P - inPage);
      switch (w.k) {
        case 0: mm.write(at + w.off, new Uint8Array(w.len).fill(w.byte)); break;
        case 1: mm.fill(at + w.off, w.len, w.byte); break;
        case 2: f.cache.write(page, inPage, new Uint8Array(n).fill(w.byte), 0, n); break;
        case 3: f.cache.fill(page, inPage, n, w.byte); break;
        case 4: f.cache.punchHole(page, page + 1); break;
      }
    }
    mm.teardown(c);
    f.cache.destroy();
    assert.equal(mm.allocator.allocatedPages, 0);
    const s = mm.allocator.storagePool.take(6);
    // A write through the mapping at or past its end faults before touching anything.
    if (ws.some((w) => w.k === 2 || w.k === 3 || (w.k < 2 && w.off < 6 * P))) assert.ok(s, 'pooled');
    if (s) {
      assert.ok(s.bytes.every((x) => x === 0));
      assert.ok(s.flags.every((x) => x === 0));
      assert.ok(!s.mapcount || s.mapcount.every((x) => x === 0));
      assert.deepEqual([s.resident, s.wLo, s.wHi], [0, 6 * P, 0]);
    }
  }), { numRuns: 200 });
});
