/** Shared helpers for the memory-manager tests. */
import { AddressSpace, createShmemFile, type ShmemFile } from '../../src/mm/address-space.js';
import { PageAllocator } from '../../src/mm/page-allocator.js';
import type { MmCaller, Vma, VmaOperations } from '../../src/mm/vma.js';

export const PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000, MAP_FIXED_NOREPLACE = 0x100000;
export const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
export const PRIV = MAP_PRIVATE | MAP_ANONYMOUS;
export const RW = PROT_READ | PROT_WRITE;
export const BASE = 0x7ffff7fff000;
export const P = 4096;

export function caller(pid = 100, caps: 'all' | number[] = 'all'): MmCaller {
  return {
    pid,
    capable: (c: number) => caps === 'all' || caps.includes(c),
    rlimitMemlock: () => 8n << 20n,
  };
}

export function newMm(opts: { maxMapCount?: number } = {}): AddressSpace {
  const a = new PageAllocator({ totalRamPages: 6_000_000, sysctl: opts.maxMapCount ? { maxMapCount: opts.maxMapCount } : {} });
  return new AddressSpace(a);
}

/** A SysV-like attach file whose hooks count VMAs (nattch) and remember who called them. */
export interface HookedFile extends ShmemFile {
  nattch: number;
  opens: number;
  closes: number;
  lastPid: number;
}

export function hookedFile(mm: AddressSpace, sizeBytes: number, key = 0x4d2, ino = 0): HookedFile {
  let self!: HookedFile;
  const ops: VmaOperations = {
    open(_v: Vma, cur: MmCaller) { self.nattch++; self.opens++; self.lastPid = cur.pid; },
    close(_v: Vma, cur: MmCaller) { self.nattch--; self.closes++; self.lastPid = cur.pid; },
  };
  // Like SysV: the segment's file owns the pages, the attach file maps them.
  const path = `/SYSV${(key >>> 0).toString(16).padStart(8, '0')} (deleted)`;
  const segment = createShmemFile({ allocator: mm.allocator, sizeBytes, ino, path });
  const f = createShmemFile({
    allocator: mm.allocator, sizeBytes, vmOps: ops, ino, path, cache: segment.cache,
  }) as HookedFile;
  f.nattch = 0; f.opens = 0; f.closes = 0; f.lastPid = 0;
  self = f;
  return f;
}

/** mmap with numbers; returns the address or a negative errno. */
export function mmap(mm: AddressSpace, addr: number, len: number, prot: number, flags: number, c = caller()): number {
  return mm.mmap(BigInt(addr), BigInt(len), prot, flags, null, 0n, c);
}

/** "start-end perms" of the VMAs intersecting [lo, hi). */
export function layout(mm: AddressSpace, lo = 0, hi = 2 ** 47): string[] {
  const out: string[] = [];
  for (const v of mm.vmasFrom(lo)) {
    if (v.start >= hi) break;
    const f = v.flags;
    out.push(`${v.start.toString(16)}-${v.end.toString(16)} ${f & 1 ? 'r' : '-'}${f & 2 ? 'w' : '-'}${f & 4 ? 'x' : '-'}${f & 0x80 ? 's' : 'p'}`);
  }
  return out;
}

export const hex = (n: number) => n.toString(16);
