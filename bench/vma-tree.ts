/**
 * Micro-benchmark (not a test): cost of mmap/munmap, mprotect split+merge,
 * a shmat-like shared file mapping and a page access, in an address space
 * holding 100 versus 60 000 VMAs. Run: node dist/test/mm/bench-vma-tree.js
 */
import { AddressSpace, createShmemFile } from '../src/mm/address-space.js';
import { PageAllocator } from '../src/mm/page-allocator.js';
import type { MmCaller } from '../src/mm/vma.js';

const MAP_PRIVATE = 0x02, MAP_SHARED = 0x01, MAP_ANONYMOUS = 0x20, MAP_FIXED = 0x10;
const caller: MmCaller = { pid: 1, capable: () => true, rlimitMemlock: () => 8n << 20n };

function setup(n: number): AddressSpace {
  const mm = new AddressSpace(new PageAllocator());
  // n separate VMAs: alternate protections so neighbours never merge, leave holes.
  for (let i = 0; i < n; i++) {
    const addr = 0x10000000 + i * 3 * 4096;
    const r = mm.mmap(BigInt(addr), 4096n, i % 2 ? 1 : 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0n, caller);
    if (r < 0) throw new Error(`setup failed: ${r}`);
  }
  // Some VMAs near the top too, so top-down placement walks a populated tree.
  for (let i = 0; i < Math.min(n, 1000); i++) {
    mm.mmap(0n, 4096n, i % 2 ? 1 : 3, MAP_PRIVATE | MAP_ANONYMOUS, null, 0n, caller);
  }
  return mm;
}

function time(name: string, iters: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(iters, 1000); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / iters;
  return ns;
}

const rows: string[] = [];
for (const n of [100, 60000]) {
  const mm = setup(n);
  const file = createShmemFile({ allocator: mm.allocator, sizeBytes: 8192, path: '/SYSV00000000 (deleted)', ino: 1 });
  const fixedBase = 0x10000000 + Math.floor(n / 2) * 3 * 4096 + 4096; // a hole in the middle
  const results: [string, number][] = [
    ['mmap+munmap (top-down)', time('', 20000, () => {
      const a = mm.mmap(0n, 8192n, 3, MAP_PRIVATE | MAP_ANONYMOUS, null, 0n, caller);
      mm.munmap(BigInt(a), 8192n, caller);
    })],
    ['mmap+munmap (fixed, mid)', time('', 20000, () => {
      mm.mmap(BigInt(fixedBase), 4096n, 1, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0n, caller);
      mm.munmap(BigInt(fixedBase), 4096n, caller);
    })],
    ['mprotect split+merge', time('', 20000, () => {
      const a = 0x10000000 + Math.floor(n / 4) * 2 * 3 * 4096;
      mm.mmap(BigInt(a + 4096), 4096n, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0n, caller);
      mm.mprotect(BigInt(a + 4096), 4096n, 1, caller);
      mm.mprotect(BigInt(a + 4096), 4096n, 3, caller);
      mm.munmap(BigInt(a + 4096), 4096n, caller);
    })],
    ['shmat-like map+unmap', time('', 20000, () => {
      const a = mm.mmap(0n, 8192n, 3, MAP_SHARED, file, 0n, caller);
      mm.unmapRange(a, a + 8192, caller);
    })],
    ['write 1 byte (fault path)', time('', 100000, (i) => {
      mm.write(0x10000000 + (i % n) * 3 * 4096, new Uint8Array([i & 0xff]));
    })],
  ];
  rows.push(`VMAs=${mm.mapCount}`);
  for (const [k, ns] of results) rows.push(`  ${k.padEnd(28)} ${ns.toFixed(0).padStart(8)} ns/op`);
  mm.teardown(caller);
}
console.log(rows.join('\n'));
