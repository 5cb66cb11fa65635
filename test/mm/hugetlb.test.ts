/**
 * hugetlb VMAs (MappedFile.hugePageSize): SysV SHM_HUGETLB attaches and
 * anonymous MAP_HUGETLB mappings, with the values observed on Linux 6.18
 * (x86_64, 2 MiB and 1 GiB huge page sizes, no huge pages, ASLR off).
 * The same cases run against the kernel in conformance/shmat/023-024 and
 * conformance/mm/029-031, and smaps in hugetlb-smaps-oracle.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/index.js';
import {
  IPC_CREAT, IPC_STAT, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_FREE,
  MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_REMOVE, MAP_ANONYMOUS, MAP_FIXED, MAP_HUGETLB, MAP_LOCKED,
  MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE,
  SHM_HUGETLB, SHM_NORESERVE, SHM_REMAP, SHM_RND,
} from '../../src/abi/constants.js';
import { Errno } from '../../src/abi/errno.js';
import { AddressSpace } from '../../src/mm/address-space.js';
import { PageAllocator } from '../../src/mm/page-allocator.js';
import { AnonHugetlbFile, hstateSizelog, hugetlbfsDev, hugetlbMaySplit } from '../../src/mm/hugetlb.js';
import { VM_DONTEXPAND, VM_HUGETLB, VM_LOCKED, VM_NORESERVE, type Vma } from '../../src/mm/vma.js';
import { smapsEntry } from '../../src/proc/task-mmu.js';
import { caller } from './helpers.js';

const M2 = 2 << 20;
const G1 = 1 << 30;
const SHM_HUGE_1GB = 30 << 26;
const HUGE = SHM_HUGETLB | SHM_NORESERVE | IPC_CREAT | 0o600;
const RW = PROT_READ | PROT_WRITE;
const ANON_HUGE = MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE;
const EINVAL = -Errno.EINVAL;

function setup() {
  const kernel = new Kernel({ totalRamPages: 6_000_000 });
  const p = kernel.spawn({ name: 'p0' });
  return { kernel, p };
}

function vmaAt(p: { mm: AddressSpace }, addr: number): Vma {
  const v = p.mm.lookupVma(addr);
  assert.ok(v, `no VMA at ${addr.toString(16)}`);
  return v;
}

/** start-end of the VMAs meeting [lo, hi), in hex. */
function ranges(mm: AddressSpace, lo: number, hi: number): string[] {
  const out: string[] = [];
  for (const v of mm.vmasFrom(lo)) {
    if (v.start >= hi) break;
    out.push(`${v.start.toString(16)}-${v.end.toString(16)}`);
  }
  return out;
}

function nattch(p: ReturnType<typeof setup>['p'], id: number): number {
  const buf = new Uint8Array(112);
  assert.equal(p.sys.shmctl(id, IPC_STAT, buf), 0);
  return Number(new DataView(buf.buffer).getBigUint64(88, true));
}

test('hstate_sizelog / hugetlbfs devices: 2 MiB is the default (00:11), 1 GiB the second mount (00:12)', () => {
  const pool = new PageAllocator().hugetlb;
  assert.deepEqual(pool.sizes, [M2, G1]);
  assert.equal(hstateSizelog(pool, 0), M2);
  assert.equal(hstateSizelog(pool, 21), M2);
  assert.equal(hstateSizelog(pool, 30), G1);
  assert.equal(hstateSizelog(pool, 22), 0);
  assert.equal(hugetlbfsDev(pool, M2), '00:11');
  assert.equal(hugetlbfsDev(pool, G1), '00:12');
});

test('hugetlb_get_unmapped_area: a SysV hugetlb attach at 0 is huge-page aligned (observed 0x7ffff7c00000, 1 GiB at 0x7fff80000000)', () => {
  const { p } = setup();
  const id = p.sys.shmget(0x10, 5000, HUGE);
  const a = p.sys.shmat(id, 0, 0);
  assert.equal(a, 0x7ffff7c00000);
  assert.deepEqual(ranges(p.mm, a, a + 1), ['7ffff7c00000-7ffff7e00000']);
  const g = p.sys.shmat(p.sys.shmget(0x11, 5000, HUGE | SHM_HUGE_1GB), 0, 0);
  assert.equal(g, 0x7fff80000000);
  assert.equal(vmaAt(p, g).end - g, G1);
  // The flags hugetlbfs_file_mmap adds; the VMA is special (never merges).
  const f = vmaAt(p, a).flags;
  assert.equal(f & (VM_HUGETLB | VM_DONTEXPAND), VM_HUGETLB | VM_DONTEXPAND);
  assert.equal(f & VM_NORESERVE, 0);
  // A normal mapping placed afterwards goes above it, in the gap under mmap_base.
  assert.equal(p.sys.mmap(0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS), 0x7ffff7ffe000);
  // Every touch is SIGBUS (empty pool).
  assert.equal(p.sys.read(a, 1).fault?.signal, 'SIGBUS');
  assert.equal(p.sys.write(g + G1 - 1, new Uint8Array([1])).fault?.signal, 'SIGBUS');
});

test('shmat of a hugetlb segment: a fixed address must be huge-page aligned (SHM_RND rounds to 4 KiB only)', () => {
  const { p } = setup();
  const id = p.sys.shmget(0x20, 5000, HUGE);
  assert.equal(p.sys.shmat(id, 0x20001000, 0), EINVAL);
  assert.equal(p.sys.shmat(id, 0x20001abc, SHM_RND), EINVAL);
  assert.equal(p.sys.shmat(id, 0x20100000, 0), EINVAL);
  assert.equal(nattch(p, id), 0);
  assert.equal(p.sys.shmat(id, 0x20200000, 0), 0x20200000);
  assert.equal(nattch(p, id), 1);
  // shmdt removes the whole 2 MiB VMA.
  assert.equal(p.sys.shmdt(0x20200000), 0);
  assert.deepEqual(ranges(p.mm, 0x20000000, 0x20600000), []);
  assert.equal(nattch(p, id), 0);
});

test('hugetlb_vm_op_split: munmap, mprotect, madvise and MAP_FIXED cannot cut a hugetlb VMA off a 2 MiB boundary', () => {
  const { p } = setup();
  const id = p.sys.shmget(0x30, 4 << 20, HUGE);
  assert.equal(p.sys.mmap(0x201fe000, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), 0x201fe000);
  const h = p.sys.shmat(id, 0x20200000, 0);
  assert.equal(h, 0x20200000);
  assert.equal(p.sys.munmap(h, 4096), EINVAL);
  assert.equal(p.sys.munmap(h + 4096, M2), EINVAL);
  assert.equal(p.sys.mprotect(h, 4096, PROT_READ), EINVAL);
  assert.equal(p.sys.madvise(h, 4096, MADV_DONTFORK), EINVAL);
  assert.equal(p.sys.mmap(h + 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), EINVAL);
  const s = p.sys.shmget(0x31, 4096, IPC_CREAT | 0o600);
  assert.equal(p.sys.shmat(s, h + 0x1ff000, SHM_REMAP), EINVAL);
  assert.deepEqual(ranges(p.mm, 0x201fe000, h + (4 << 20)), ['201fe000-20200000', '20200000-20600000']);
  // A split whose start is fine but whose end is not keeps the first split
  // (observed: mprotect at +2 MiB for one page leaves two VMAs, nattch 2).
  assert.equal(p.sys.mprotect(h + M2, 4096, PROT_READ), EINVAL);
  assert.deepEqual(ranges(p.mm, h, h + (4 << 20)), ['20200000-20400000', '20400000-20600000']);
  assert.equal(nattch(p, id), 2);
  // So does munmap: the anonymous VMA before the attach is split, then the hugetlb end split fails.
  assert.equal(p.sys.munmap(0x201ff000, 8192), EINVAL);
  assert.deepEqual(ranges(p.mm, 0x201fe000, h), ['201fe000-201ff000', '201ff000-20200000']);
  // Aligned: fine.
  assert.equal(p.sys.munmap(0x201ff000, 4096 + M2), 0);
  assert.deepEqual(ranges(p.mm, 0x201fe000, h + (4 << 20)), ['201fe000-201ff000', '20400000-20600000']);
  assert.equal(nattch(p, id), 1);
  assert.equal(p.sys.shmdt(h), 0);
  assert.equal(nattch(p, id), 0);
});

test('align_hugetlb: mremap of a hugetlb attach rounds lengths up, refuses growth and unaligned addresses, moves split VMAs together', () => {
  const { p } = setup();
  const id = p.sys.shmget(0x40, 5 << 20, HUGE);
  const h = p.sys.shmat(id, 0x30000000, 0);
  assert.equal(p.sys.mremap(h, 6 << 20, 8 << 20, MREMAP_MAYMOVE), EINVAL);
  assert.equal(p.sys.mremap(h, 4096, 4096, 0), h);
  assert.equal(p.sys.mremap(h + 4096, 4096, 4096, 0), EINVAL);
  assert.equal(p.sys.mremap(h, 6 << 20, 6 << 20, 0, 0x12345), EINVAL);
  assert.equal(p.sys.mremap(h, 0, M2, MREMAP_MAYMOVE), EINVAL);
  assert.equal(p.sys.mremap(h, 6 << 20, 6 << 20, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0x31000000), EINVAL);
  assert.equal(p.sys.mremap(h, M2, M2, MREMAP_MAYMOVE | MREMAP_FIXED, 0x31001000), EINVAL);
  // Shrink: 0x200001 rounds up to 4 MiB.
  assert.equal(p.sys.mremap(h, 6 << 20, 0x200001, 0), h);
  assert.deepEqual(ranges(p.mm, h, h + (6 << 20)), ['30000000-30400000']);
  assert.equal(p.sys.mprotect(h + M2, M2, PROT_READ), 0);
  // vma_multi_allowed(): hugetlb VMAs move as a batch.
  assert.equal(p.sys.mremap(h, 4 << 20, 4 << 20, MREMAP_MAYMOVE | MREMAP_FIXED, 0x32000000), 0x32000000);
  assert.deepEqual(ranges(p.mm, 0x30000000, 0x34000000), ['32000000-32200000', '32200000-32400000']);
  assert.equal(nattch(p, id), 2);
  // 4 KiB asked, 2 MiB moved.
  assert.equal(p.sys.mremap(0x32000000, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, 0x34000000), 0x34000000);
  assert.deepEqual(ranges(p.mm, 0x32000000, 0x34400000), ['32200000-32400000', '34000000-34200000']);
  assert.equal(vmaAt(p, 0x34000000).pgoff, 0);
  assert.equal(vmaAt(p, 0x32200000).pgoff, M2 / 4096);
});

test('madvise on hugetlb: DONTNEED from a huge page boundary (end rounded down), FREE EINVAL, populate EFAULT, DOFORK/DODUMP allowed', () => {
  const { p } = setup();
  const id = p.sys.shmget(0x50, 4 << 20, HUGE);
  const h = p.sys.shmat(id, 0x30000000, 0);
  assert.equal(p.sys.madvise(h, 4096, MADV_DONTNEED), 0);
  assert.equal(p.sys.madvise(h, M2 + 4096, MADV_DONTNEED), 0);
  assert.equal(p.sys.madvise(h + 4096, 4096, MADV_DONTNEED), EINVAL);
  assert.equal(p.sys.madvise(h, 4 << 20, MADV_FREE), EINVAL);
  assert.equal(p.sys.madvise(h, 4 << 20, MADV_POPULATE_READ), -Errno.EFAULT);
  assert.equal(p.sys.madvise(h, 4 << 20, MADV_POPULATE_WRITE), -Errno.EFAULT);
  assert.equal(p.sys.madvise(h, 4096, MADV_REMOVE), 0);
  assert.equal(p.sys.madvise(h + M2, M2, MADV_DONTFORK), 0);
  assert.equal(nattch(p, id), 2);
  const child = p.kernel.fork(p);
  assert.deepEqual(ranges(child.mm, h, h + (4 << 20)), ['30000000-30200000']);
  assert.equal(nattch(p, id), 3);
  p.kernel.exit(child);
  // DOFORK checks VM_IO only; DODUMP exempts hugetlb from the VM_SPECIAL check.
  assert.equal(p.sys.madvise(h, 4 << 20, MADV_DOFORK), 0);
  assert.equal(p.sys.madvise(h, 4 << 20, MADV_DONTDUMP), 0);
  assert.equal(p.sys.madvise(h, 4 << 20, MADV_DODUMP), 0);
  assert.equal(p.sys.shmdt(h), 0);
  assert.equal(nattch(p, id), 0);
});

test('anonymous MAP_HUGETLB: ENOMEM without MAP_NORESERVE; with it a 2 MiB-aligned hugetlbfs mapping whose touches are SIGBUS', () => {
  const { p } = setup();
  assert.equal(p.sys.mmap(0, 5000, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB), -Errno.ENOMEM);
  assert.equal(p.sys.mmap(0, 5000, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB), -Errno.ENOMEM);
  assert.equal(p.sys.mmap(0, 5000, RW, MAP_SHARED | ANON_HUGE | (22 << 26)), EINVAL);
  assert.equal(p.sys.mmap(0, 0, RW, MAP_SHARED | ANON_HUGE), EINVAL);
  const a = p.sys.mmap(0, 5000, RW, MAP_SHARED | ANON_HUGE);
  assert.equal(a, 0x7ffff7c00000);
  const v = vmaAt(p, a);
  assert.equal(v.end - v.start, M2);
  assert.ok(v.file instanceof AnonHugetlbFile);
  assert.equal(v.file.path, '/anon_hugepage (deleted)');
  assert.equal(v.file.dev, '00:11');
  assert.equal(v.flags & (VM_HUGETLB | VM_DONTEXPAND | VM_NORESERVE), VM_HUGETLB | VM_DONTEXPAND | VM_NORESERVE);
  assert.equal(p.sys.read(a, 1).fault?.signal, 'SIGBUS');
  assert.equal(p.sys.write(a + 4096, new Uint8Array([1])).fault?.signal, 'SIGBUS');
  const b = p.sys.mmap(0, 4096, RW, MAP_PRIVATE | ANON_HUGE);
  assert.equal(b, 0x7ffff7a00000);
  assert.equal(p.sys.write(b, new Uint8Array([1])).fault?.signal, 'SIGBUS');
  // A hint is rounded up to a huge page; a fixed address must be aligned.
  assert.equal(p.sys.mmap(0x30001000, 4096, RW, MAP_SHARED | ANON_HUGE | MAP_FIXED), EINVAL);
  assert.equal(p.sys.mmap(0x30001000, 4096, RW, MAP_SHARED | ANON_HUGE), 0x30200000);
  // 1 GiB pages (MAP_HUGE_1GB), on the second hugetlbfs mount.
  const g = p.sys.mmap(0, 4096, RW, MAP_SHARED | ANON_HUGE | (30 << 26));
  assert.equal(g, 0x7fff80000000);
  assert.equal(vmaAt(p, g).file!.dev, '00:12');
  // 1 GiB + 1 byte of 2 MiB pages.
  assert.equal(p.sys.mmap(0, G1 + 1, RW, MAP_PRIVATE | ANON_HUGE), 0x7fff80000000 - G1 - M2);
  // MAP_LOCKED: never mlocked (VmLck 0, no "lo").
  const l = p.sys.mmap(0, 4096, RW, MAP_SHARED | ANON_HUGE | MAP_LOCKED);
  assert.ok(l > 0);
  assert.equal(vmaAt(p, l).flags & VM_LOCKED, 0);
  assert.equal(p.mm.lockedVm, 0);
  // Nothing is committed for hugetlb mappings.
  assert.equal(p.mm.allocator.committedPages, 33); // the [stack] VMA
});

test('anonymous MAP_HUGETLB with MAP_FIXED and no reservation: ENOMEM after the old mapping is gone (a hole, observed)', () => {
  const { p } = setup();
  assert.equal(p.sys.mmap(0x40000000, M2, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), 0x40000000);
  assert.equal(p.sys.mmap(0x40000000, M2, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED), -Errno.ENOMEM);
  assert.deepEqual(ranges(p.mm, 0x40000000, 0x40400000), []);
});

test('smaps of hugetlb VMAs: KernelPageSize/MMUPageSize = the huge page size, VmFlags end "de ht" (SysV) or "de nr ht" (anonymous)', () => {
  const { kernel, p } = setup();
  const a = p.sys.shmat(p.sys.shmget(0x60, 5000, HUGE), 0, 0);
  const g = p.sys.shmat(p.sys.shmget(0x61, 5000, HUGE | SHM_HUGE_1GB), 0, 0);
  const s = p.sys.mmap(0, 5000, RW, MAP_SHARED | ANON_HUGE);
  const q = p.sys.mmap(0, 5000, RW, MAP_PRIVATE | ANON_HUGE);
  const entry = (addr: number) => smapsEntry(p.mm, vmaAt(p, addr)).split('\n');
  const field = (lines: string[], name: string) => lines.find((l) => l.startsWith(name + ':'));
  const ea = entry(a);
  assert.equal(ea[0], '7ffff7c00000-7ffff7e00000 rw-s 00000000 00:11 0                          /SYSV00000060 (deleted)');
  assert.equal(field(ea, 'Size'), 'Size:               2048 kB');
  assert.equal(field(ea, 'KernelPageSize'), 'KernelPageSize:     2048 kB');
  assert.equal(field(ea, 'MMUPageSize'), 'MMUPageSize:        2048 kB');
  assert.equal(field(ea, 'Rss'), 'Rss:                   0 kB');
  assert.equal(field(ea, 'VmFlags'), 'VmFlags: rd wr sh mr mw me ms de ht ');
  const eg = entry(g);
  assert.equal(eg[0], '7fff80000000-7fffc0000000 rw-s 00000000 00:12 1                          /SYSV00000061 (deleted)');
  assert.equal(field(eg, 'KernelPageSize'), 'KernelPageSize:  1048576 kB');
  assert.equal(field(eg, 'MMUPageSize'), 'MMUPageSize:     1048576 kB');
  assert.equal(field(entry(s), 'VmFlags'), 'VmFlags: rd wr sh mr mw me ms de nr ht ');
  assert.equal(field(entry(q), 'VmFlags'), 'VmFlags: rd wr mr mw me de nr ht ');
  assert.match(kernel.proc.readText(`/proc/${p.pid}/status`), /HugetlbPages:\s+0 kB/);
});

test('AddressSpace level: hugetlbMaySplit and a hand-made hugetlb file', () => {
  const allocator = new PageAllocator({ totalRamPages: 6_000_000 });
  const mm = new AddressSpace(allocator);
  const c = caller();
  const f = new AnonHugetlbFile(allocator, M2, M2);
  const a = mm.mmap(0n, BigInt(M2), RW, MAP_SHARED | MAP_NORESERVE, f, 0n, c);
  assert.equal(a, 0x7ffff7c00000);
  const v = mm.lookupVma(a)!;
  assert.equal(hugetlbMaySplit(v, a + 4096), EINVAL);
  assert.equal(hugetlbMaySplit(v, a + M2), 0);
  // A huge page offset that is not huge-page aligned is refused by hugetlbfs_file_mmap.
  const f2 = new AnonHugetlbFile(allocator, M2, M2);
  assert.equal(mm.mmap(0n, BigInt(M2), RW, MAP_SHARED | MAP_NORESERVE, f2, 1n, c), EINVAL);
  // A length that is not a multiple of the huge page size: hugetlb_get_unmapped_area says EINVAL.
  assert.equal(mm.mmap(0n, 4096n, RW, MAP_SHARED | MAP_NORESERVE, f2, 0n, c), EINVAL);
  mm.teardown(c);
  assert.equal(allocator.allocatedPages, 0);
});

test('the Kernel\'s hugetlb configuration reaches the memory manager (KernelOptions.hugetlb = PageAllocatorOptions.hugetlb)', () => {
  const kernel = new Kernel({ totalRamPages: 6_000_000, hugetlb: { sizes: [M2] } });
  const p = kernel.spawn({ name: 'p0' });
  assert.deepEqual(kernel.allocator.hugetlb.sizes, [M2]);
  assert.equal(p.sys.mmap(0, 4096, RW, MAP_SHARED | ANON_HUGE | (30 << 26)), EINVAL);
  assert.equal(p.sys.shmget(0x70, 4096, HUGE | SHM_HUGE_1GB), EINVAL);
  assert.equal(p.sys.mmap(0, 4096, RW, MAP_SHARED | ANON_HUGE | (21 << 26)), 0x7ffff7c00000);
});
