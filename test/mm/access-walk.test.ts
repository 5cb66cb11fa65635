/**
 * The number-only access walk (AddressSpace.readN/writeN/fillN and the raw
 * read/write/fill system calls on top): an access of n bytes behaves like n
 * one-byte accesses in ascending order stopped at the first fault, whatever
 * the walk coalesces; addresses and lengths of any size fault where Linux's
 * would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressSpace } from '../../src/mm/address-space.js';
import { PageAllocator } from '../../src/mm/page-allocator.js';
import { Kernel, constants as C } from '../../src/index.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, P, PRIV, PROT_NONE, PROT_READ, RW, caller, hookedFile, mmap, newMm,
} from './helpers.js';

const TASK_SIZE = 0x7ffffffff000;
const BASE = 0x40000000;
const SLOTS = 8;

type Access = { k: 'read' | 'write' | 'fill'; off: number; len: number; byte: number };

/** A world: one page per slot of a kind (see below) and file page offset, a file mapped shared and private, and a forked child sharing the private pages. */
function world(kinds: [number, number][]) {
  const mm = newMm();
  const c = caller();
  const f = hookedFile(mm, 2 * P + 100);
  kinds.forEach(([kind, off], i) => {
    const a = BASE + i * P;
    const pgoff = BigInt(off);
    switch (kind) {
      case 0: break;
      case 1: mmap(mm, a, P, RW, PRIV | MAP_FIXED); break;
      case 2: mmap(mm, a, P, PROT_READ, PRIV | MAP_FIXED); break;
      case 3: mmap(mm, a, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED); break;
      case 4: mm.mmap(BigInt(a), BigInt(P), RW, MAP_SHARED | MAP_FIXED, f, pgoff, c); break;
      case 5: mm.mmap(BigInt(a), BigInt(P), RW, MAP_PRIVATE | MAP_FIXED, f, pgoff, c); break;
      case 6: mmap(mm, a, P, PROT_NONE, PRIV | MAP_FIXED); break;
      case 7: mm.mmap(BigInt(a), BigInt(P), PROT_READ, MAP_SHARED | MAP_FIXED, f, pgoff, c); break;
    }
  });
  // Some content, and private pages shared with a child (copy-on-write).
  for (let i = 0; i < SLOTS; i += 2) mm.fill(BASE + i * P + 100, 50, 0x10 + i);
  const child = mm.fork(c);
  return { mm, f, child };
}

function dump(mm: AddressSpace): string {
  const out: string[] = [];
  for (let i = 0; i < SLOTS; i++) {
    const r = mm.read(BASE + i * P, P);
    out.push(r.fault ? `${r.fault.signal}@${r.fault.offset}` : Buffer.from(r.data).toString('base64'));
  }
  return out.join(' ');
}

function source(n: number, seed: number): Uint8Array {
  const s = new Uint8Array(n);
  for (let i = 0; i < n; i++) s[i] = (i * 31 + seed) & 0xff;
  return s;
}

/** The access itself. */
function whole(mm: AddressSpace, o: Access) {
  const addr = BASE + o.off;
  if (o.k === 'read') return mm.read(addr, o.len);
  if (o.k === 'write') return mm.write(addr, source(o.len, o.byte));
  return mm.fill(addr, o.len, o.byte);
}

/** The same access one byte at a time. */
function bytewise(mm: AddressSpace, o: Access) {
  const addr = BASE + o.off;
  const src = source(o.len, o.byte);
  const data: number[] = [];
  for (let k = 0; k < o.len; k++) {
    const r = o.k === 'read' ? mm.read(addr + k, 1) : o.k === 'write' ? mm.write(addr + k, src.subarray(k, k + 1)) : mm.fill(addr + k, 1, o.byte);
    if (r.fault) return { data: new Uint8Array(o.k === 'read' ? data : []), fault: { signal: r.fault.signal, offset: BigInt(k) } };
    if (o.k === 'read') data.push(r.data[0]!);
  }
  return { data: new Uint8Array(o.k === 'read' ? data : []) };
}

test('an access of n bytes is n one-byte accesses in ascending order (fast-check)', () => {
  const access = fc.record({
    k: fc.constantFrom('read' as const, 'write' as const, 'fill' as const),
    off: fc.oneof(fc.integer({ min: 0, max: SLOTS * P }), fc.integer({ min: 1, max: SLOTS }).map((i) => i * P - 2)),
    len: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 3 * P })),
    byte: fc.integer({ min: 0, max: 255 }),
  });
  // File mappings, shared and private, of few pages are the interesting neighbours.
  const kind = fc.oneof({ arbitrary: fc.constantFrom(4, 5), weight: 2 }, { arbitrary: fc.integer({ min: 0, max: 7 }), weight: 2 });
  const slot = fc.tuple(kind, fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 2 }), weight: 1 }));
  fc.assert(fc.property(fc.array(slot, { minLength: SLOTS, maxLength: SLOTS }), fc.array(access, { minLength: 1, maxLength: 4 }), (kinds, accesses) => {
    const a = world(kinds), b = world(kinds);
    for (const o of accesses) {
      const ra = whole(a.mm, o), rb = bytewise(b.mm, o);
      assert.deepEqual({ data: [...ra.data], fault: ra.fault }, { data: [...rb.data], fault: rb.fault }, JSON.stringify(o));
    }
    assert.equal(dump(a.mm), dump(b.mm));
    assert.equal(dump(a.child), dump(b.child));
    assert.deepEqual([a.mm.rssAnon, a.mm.rssShmem, a.mm.allocator.allocatedPages, a.f.cache.residentPages],
      [b.mm.rssAnon, b.mm.rssShmem, b.mm.allocator.allocatedPages, b.f.cache.residentPages]);
  }), { numRuns: 300 });
});

test('a write across a shared and a private mapping of one file page: the COW copy sees the earlier bytes', () => {
  const mm = newMm();
  const c = caller();
  const f = hookedFile(mm, P);
  mm.mmap(BigInt(BASE), BigInt(P), RW, MAP_SHARED | MAP_FIXED, f, 0n, c);
  mm.mmap(BigInt(BASE + P), BigInt(P), RW, MAP_PRIVATE | MAP_FIXED, f, 0n, c);
  assert.equal(mm.write(BASE + P - 2, new Uint8Array([1, 2, 3, 4])).fault, undefined);
  // The private page was copied from the file page after bytes 1 and 2 went in.
  assert.deepEqual([...mm.read(BASE + 2 * P - 2, 2).data], [1, 2]);
  assert.deepEqual([...mm.read(BASE + P, 2).data], [3, 4]);
  assert.deepEqual([...mm.read(BASE, 2).data], [0, 0]);
});

test('accesses reaching TASK_SIZE fault there, whatever the length', () => {
  const mm = new AddressSpace(new PageAllocator({ totalRamPages: 1 << 20 }), { stack: true });
  const top = TASK_SIZE - P;
  assert.deepEqual(mm.write(top, new Uint8Array(2 * P).fill(7)).fault, { signal: 'SIGSEGV', offset: BigInt(P) });
  assert.deepEqual([...mm.read(TASK_SIZE - 2, 2).data], [7, 7]);
  for (const len of [BigInt(P) + 1n, 1n << 53n, (1n << 64n) - 1n]) {
    assert.deepEqual(mm.fill(BigInt(top), len, 1).fault, { signal: 'SIGSEGV', offset: BigInt(P) });
    const r = mm.read(BigInt(top), len);
    assert.equal(r.data.length, P);
    assert.deepEqual(r.fault, { signal: 'SIGSEGV', offset: BigInt(P) });
  }
  assert.deepEqual(mm.read(TASK_SIZE, 1).fault, { signal: 'SIGSEGV', offset: 0n });
  assert.deepEqual(mm.read(2 ** 53, 1).fault, { signal: 'SIGSEGV', offset: 0n });
  assert.equal(mm.read(TASK_SIZE, 0).fault, undefined);
  assert.equal(mm.allocator.allocatedPages, 1);
  assert.equal(mm.readN(top, 2 * P).length, P);
  assert.equal(mm.writeN(top + 10, new Uint8Array(3), 0, 3), 3);
  assert.equal(mm.fillN(top + P - 1, 2, 0), 1);
  assert.equal(mm.accessSignal, 'SIGSEGV');
});

test('raw read/write/fill: u64 arguments as C converts them; a completed write allocates no result', () => {
  const kernel = new Kernel();
  const p = kernel.spawn();
  const a = p.sys.mmap(0, 2 * P, C.PROT_READ | C.PROT_WRITE, C.MAP_PRIVATE | C.MAP_ANONYMOUS);
  assert.ok(a > 0);
  const w1 = p.sys.write(a, new Uint8Array([1]));
  const w2 = p.sys.write(BigInt(a) + 1n, new Uint8Array([2]));
  assert.equal(w1, w2, 'one shared result object');
  assert.ok(Object.isFrozen(w1));
  assert.equal(w1.fault, undefined);
  assert.deepEqual([...p.sys.read(a + 0.9, 3).data], [1, 2, 0], 'a fractional address truncates');
  assert.deepEqual(p.sys.read(-1, 1).fault, { signal: 'SIGSEGV', offset: 0n }, '-1 is 2^64 - 1');
  assert.deepEqual(p.sys.write(2 ** 60, new Uint8Array(1)).fault, { signal: 'SIGSEGV', offset: 0n });
  assert.deepEqual(p.sys.fill((1n << 64n) - 1n, 1, 0).fault, { signal: 'SIGSEGV', offset: 0n });
  assert.deepEqual(p.sys.fill(a + 2, (1n << 64n) - 1n, 9).fault, { signal: 'SIGSEGV', offset: BigInt(2 * P - 2) });
  assert.deepEqual(p.sys.fill(a + 2, -1, 9).fault, { signal: 'SIGSEGV', offset: BigInt(2 * P - 2) });
  assert.equal(p.sys.read(a, 0).data.length, 0);
  assert.equal(p.sys.read(-1, 0).fault, undefined);
  const big = p.sys.read(a, 2 * P);
  assert.equal(big.data[2], 9);
  assert.equal(big.data[2 * P - 1], 9);
  assert.equal(p.sys.read(a, 1.5).data.length, 1, 'a fractional length truncates');
  kernel.shutdown();
  assert.equal(kernel.allocator.allocatedPages, 0);
});
