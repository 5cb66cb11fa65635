import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSpace, createShmemFile } from '../../src/mm/address-space.js';
import { PageAllocator } from '../../src/mm/page-allocator.js';
import { formatStatm, formatStatusMemory, mapsLine, smapsEntry } from '../../src/proc/task-mmu.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_SHARED, P, PRIV, PROT_EXEC, PROT_NONE, PROT_READ, RW,
  caller, mmap, newMm,
} from './helpers.js';

// Lines copied from /proc/self/maps of Linux 6.18 (static test programs, ASLR off).
const REAL = {
  sysvRx: '7ffff7ff3000-7ffff7ff5000 r-xs 00000000 00:01 0                          /SYSV000004d2 (deleted)',
  sysvRw: '7ffff7ff5000-7ffff7ff7000 rw-s 00000000 00:01 0                          /SYSV000004d2 (deleted)',
  devZero: '7ffff7ff7000-7ffff7ffa000 rw-s 00000000 00:01 1031                       /dev/zero (deleted)',
  anon: '7ffff7ffa000-7ffff7fff000 rw-p 00000000 00:00 0 ',
  none: '7ffff7ff2000-7ffff7ff3000 ---p 00000000 00:00 0 ',
  low: '20000000-20010000 r-xp 00000000 00:00 0 ',
  stack: '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]',
  adjacent: '36001000-36002000 rw-s 00000000 00:01 1034                               /dev/zero (deleted)',
};

/** Rebuilds the address space of the host experiment sm.c (see the report). */
function smScenario() {
  const allocator = new PageAllocator({ totalRamPages: 6_000_000 });
  const mm = new AddressSpace(allocator, { stack: true });
  const c = caller();
  const a = mmap(mm, 0, 5 * P, RW, PRIV, c);
  mm.write(a, new Uint8Array([1]));
  mm.write(a + 2 * P, new Uint8Array([1]));
  mm.read(a + 3 * P, 1);
  const s = mmap(mm, 0, 3 * P, RW, MAP_SHARED | MAP_ANONYMOUS, c);
  mm.write(s, new Uint8Array([1]));
  mm.read(s + P, 1);
  const seg = createShmemFile({ allocator, sizeBytes: 6000, path: '/SYSV000004d2 (deleted)', ino: 0 });
  const rwAttach = createShmemFile({ allocator, sizeBytes: 6000, path: seg.path, ino: 0, cache: seg.cache, vmOps: { open() {}, close() {} } });
  const m = mm.mmap(0n, 6000n, RW, MAP_SHARED, rwAttach, 0n, c);
  mm.write(m, new Uint8Array([1]));
  const roAttach = createShmemFile({ allocator, sizeBytes: 6000, path: seg.path, ino: 0, cache: seg.cache, writable: false, vmOps: { open() {}, close() {} } });
  const r = mm.mmap(0n, 6000n, PROT_READ | PROT_EXEC, MAP_SHARED, roAttach, 0n, c);
  const n = mmap(mm, 0, P, PROT_NONE, PRIV | MAP_NORESERVE, c);
  const x = mmap(mm, 0x20000000, 16 * P, PROT_READ | PROT_EXEC, PRIV | MAP_FIXED, c);
  return { mm, a, s, m, r, n, x };
}

test('maps lines match the kernel byte for byte', () => {
  const { mm, a, s, m, r, n, x } = smScenario();
  assert.deepEqual([a, s, m, r, n, x], [0x7ffff7ffa000, 0x7ffff7ff7000, 0x7ffff7ff5000, 0x7ffff7ff3000, 0x7ffff7ff2000, 0x20000000]);
  const line = (addr: number) => mapsLine(mm, mm.lookupVma(addr)!);
  assert.equal(line(a), REAL.anon);
  assert.equal(line(n), REAL.none);
  assert.equal(line(x), REAL.low);
  assert.equal(line(m), REAL.sysvRw);
  assert.equal(line(r), REAL.sysvRx);
  assert.equal(line(s).replace(/ 00:01 \d+ +/, ' 00:01 INO '), REAL.devZero.replace(/ 00:01 \d+ +/, ' 00:01 INO '));
  assert.equal(line(0x7ffffffde000), REAL.stack);
  // The padding depends on the inode width: check the name column.
  assert.equal(line(s).indexOf('/dev/zero'), 73);
  // Two adjacent shared anonymous mappings are two files: no merge.
  const mm2 = newMm();
  mmap(mm2, 0x36000000, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
  mmap(mm2, 0x36001000, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
  assert.equal(mm2.mapCount, 2);
  const adj = mapsLine(mm2, mm2.lookupVma(0x36001000)!);
  assert.equal(adj.replace(/00:01 \d+ +/, 'X'), REAL.adjacent.replace(/00:01 \d+ +/, 'X'));
  // A fragment shows its file offset.
  const mm3 = newMm();
  const d = mmap(mm3, 0x36000000, 3 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
  mm3.mprotect(BigInt(d + P), 4096n, PROT_READ, caller());
  assert.match(mapsLine(mm3, mm3.lookupVma(d + P)!), /^36001000-36002000 r--s 00001000 00:01 \d+ +\/dev\/zero \(deleted\)$/);
});

test('smaps entries match the kernel for the observed shapes', () => {
  const { mm, a, s, m, r, n } = smScenario();
  const fields = (addr: number) => smapsEntry(mm, mm.lookupVma(addr)!).split('\n').slice(1).join('\n');
  const block = (rss: number, pss: number, pssDirty: number, pc: number, pd: number, anon: number, flags: string) =>
    [`Size:           `, `KernelPageSize:        4 kB`, `MMUPageSize:           4 kB`].length && [
      `Rss:             ${String(rss).padStart(7)} kB`,
      `Pss:             ${String(pss).padStart(7)} kB`,
      `Pss_Dirty:       ${String(pssDirty).padStart(7)} kB`,
      'Shared_Clean:          0 kB', 'Shared_Dirty:          0 kB',
      `Private_Clean:   ${String(pc).padStart(7)} kB`,
      `Private_Dirty:   ${String(pd).padStart(7)} kB`,
      `Referenced:      ${String(rss).padStart(7)} kB`,
      `Anonymous:       ${String(anon).padStart(7)} kB`,
      'KSM:                   0 kB', 'LazyFree:              0 kB', 'AnonHugePages:         0 kB',
      'ShmemPmdMapped:        0 kB', 'FilePmdMapped:         0 kB', 'Shared_Hugetlb:        0 kB',
      'Private_Hugetlb:       0 kB', 'Swap:                  0 kB', 'SwapPss:               0 kB',
      'Locked:                0 kB', 'THPeligible:           0', `VmFlags: ${flags}`, '',
    ].join('\n');
  const body = (addr: number) => fields(addr).split('\n').slice(3).join('\n');
  assert.equal(body(a), block(8, 8, 8, 0, 8, 8, 'rd wr mr mw me ac '));
  assert.equal(body(s), block(8, 8, 4, 4, 4, 0, 'rd wr sh mr mw me ms '));
  assert.equal(body(m), block(4, 4, 4, 0, 4, 0, 'rd wr sh mr mw me ms '));
  assert.equal(body(r), block(0, 0, 0, 0, 0, 0, 'rd ex mr me ms '));
  assert.equal(body(n), block(0, 0, 0, 0, 0, 0, 'mr mw me nr '));
  assert.equal(fields(a).split('\n')[0], 'Size:                 20 kB');
  assert.equal(fields(a).split('\n')[1], 'KernelPageSize:        4 kB');
});

test('statm and status memory lines have the kernel format', () => {
  const { mm } = smScenario();
  const st = formatStatusMemory(mm);
  assert.match(st, /^VmPeak:\t +\d+ kB\nVmSize:\t +\d+ kB\nVmLck:\t +0 kB\nVmPin:\t +0 kB\nVmHWM:\t +\d+ kB\nVmRSS:\t +\d+ kB\nRssAnon:\t +8 kB\nRssFile:\t +0 kB\nRssShmem:\t +12 kB\nVmData:\t +\d+ kB\nVmStk:\t +132 kB\nVmExe:\t +0 kB\nVmLib:\t +\d+ kB\nVmPTE:\t +\d+ kB\nVmSwap:\t +0 kB\nHugetlbPages:\t +0 kB\n$/);
  assert.ok(st.includes('VmRSS:\t      20 kB\n'));
  const [size, res, shared, text, lib, data, dt] = formatStatm(mm).trim().split(' ').map(Number);
  assert.equal(size, mm.totalVmPages());
  assert.equal(res, 5);
  assert.equal(shared, 3);
  assert.deepEqual([text, lib, dt], [0, 0, 0]);
  assert.equal(data, 5 + 33);
});
