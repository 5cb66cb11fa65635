/**
 * Constants and small helpers shared by the files of the address space
 * (address-space.ts and the system calls split out of it): errno values,
 * page-table sizes, limits, the shared zero page, and the helpers that move
 * a VMA's PTE books (used by split, merge and mremap's move).
 */
import { Errno } from '../abi/errno.js';
import {
  Capability, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE,
  MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_STACK, PAGE_SIZE, TASK_SIZE,
} from '../abi/constants.js';
import { modPow2 } from '../abi/word.js';
import { FilePtes } from './file-ptes.js';
import { PageRangeSet, Vma, type PteOwner } from './vma.js';

export const EOPNOTSUPP = 95;
export const EPERM = -Errno.EPERM;
export const EBADF = -Errno.EBADF;
export const EAGAIN = -Errno.EAGAIN;
export const ENOMEM = -Errno.ENOMEM;
export const EACCES = -Errno.EACCES;
export const EFAULT = -Errno.EFAULT;
export const EEXIST = -Errno.EEXIST;
export const EINVAL = -Errno.EINVAL;
export const EOVERFLOW = -Errno.EOVERFLOW;

export const PAGE = PAGE_SIZE;
export const PMD_SIZE = 2 * 1024 * 1024;
export const PUD_SIZE = 1024 * 1024 * 1024;
export const P4D_SIZE = 512 * PUD_SIZE;
/** stack_guard_gap: 256 pages. */
export const STACK_GUARD_GAP = 256 * PAGE;
export const U64 = (1n << 64n) - 1n;
export const TASK_SIZE_N = Number(TASK_SIZE);
/** MAX_LFS_FILESIZE in pages: the highest file offset a mapping may reach. */
export const MAX_LFS_PAGES = 2 ** 51;
/** File offsets (pages) up to which do_mmap's number path is exact. */
export const PGOFF_FAST_MAX = 2 ** 40;
export const CAP_IPC_LOCK = Capability.CAP_IPC_LOCK;
export const CAP_SYS_ADMIN = Capability.CAP_SYS_ADMIN;
export const CAP_SYS_RAWIO = Capability.CAP_SYS_RAWIO;
/** Flags of mmap that are not "legacy" (LEGACY_MAP_MASK complement). */
export const LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | 0x0800 /* DENYWRITE */
  | 0x1000 /* EXECUTABLE */ | 0x0040 /* 32BIT */ | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE
  | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB;
export const ZERO_PAGE = new Uint8Array(PAGE);

export function isErr(x: number): boolean { return x < 0; }
export function pageAlign64(x: bigint): bigint { return (x + 4095n) & ~4095n & U64; }
export function pageDown(x: number): number { return x - modPow2(x, PAGE); }

/** Keys of `m` in [lo, hi), in no particular order (iterating the cheaper side). */
export function keysIn(m: { size: number; has(k: number): boolean; keys(): IterableIterator<number> } | null, lo: number, hi: number): number[] {
  const out: number[] = [];
  if (!m || m.size === 0 || lo >= hi) return out;
  if (hi - lo <= m.size) {
    for (let k = lo; k < hi; k++) if (m.has(k)) out.push(k);
  } else {
    for (const k of m.keys()) if (k >= lo && k < hi) out.push(k);
  }
  return out;
}

/**
 * The file PTE table of `vma`, mapped by `owner`, created on its first PTE.
 * That is also when the VMA joins its file's reverse map: the reverse map
 * exists to find the PTEs of a file page (unmap_mapping_range), so a VMA
 * is on it exactly while it has a table, and an attach that never touches
 * its pages (shmat + shmdt) never links or unlinks. Linux links every VMA
 * at mmap (vma_link_file); it also uses i_mmap for what this model has not.
 */
export function filePtesOf(vma: Vma, owner: PteOwner): FilePtes {
  let t = vma.filePtes;
  if (t === null) {
    t = vma.filePtes = new FilePtes();
    vma.file!.cache.linkMapper(vma, owner);
  }
  return t;
}

/** Moves the PTEs with linear index in [lo, hi) from one VMA to another (split, merge, move). */
export function movePtes(src: Vma, dst: Vma, lo: number, hi: number): void {
  if (src === dst) return;
  const ks = keysIn(src.anonPages, lo, hi);
  if (ks.length) {
    const d = dst.anonPages ?? (dst.anonPages = new Map());
    for (const k of ks) { d.set(k, src.anonPages!.get(k)!); src.anonPages!.delete(k); }
  }
  if (src.filePtes?.size) src.filePtes.moveTo(filePtesOf(dst, src.owner!), lo, hi);
  if (src.guards?.intersects(lo, hi)) {
    src.guards.moveTo(dst.guards ?? (dst.guards = new PageRangeSet()), lo, hi);
  }
}
