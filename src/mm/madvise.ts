/**
 * madvise(2): mm/madvise.c (madvise_walk_vmas, madvise_vma_behavior,
 * madvise_populate). Free functions over the AddressSpace.
 */
import type { AddressSpace } from './address-space.js';
import { Errno } from '../abi/errno.js';
import {
  MADV_COLD, MADV_COLLAPSE, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED,
  MADV_DONTNEED_LOCKED, MADV_FREE, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, MADV_HUGEPAGE, MADV_HWPOISON,
  MADV_KEEPONFORK, MADV_MERGEABLE, MADV_NOHUGEPAGE, MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ,
  MADV_POPULATE_WRITE, MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_SOFT_OFFLINE, MADV_UNMERGEABLE, MADV_WILLNEED,
  MADV_WIPEONFORK, TASK_SIZE,
} from '../abi/constants.js';
import { modPow2 } from '../abi/word.js';
import { vmaKernelPageSize } from './hugetlb.js';
import {
  PageRangeSet, Vma, vmFlags, type MmCaller, VM_DONTCOPY, VM_DONTDUMP, VM_DONTEXPAND, VM_HUGEPAGE, VM_HUGETLB, VM_IO,
  VM_LOCKED, VM_MAYSHARE, VM_MAYWRITE, VM_MERGEABLE, VM_MIXEDMAP, VM_NOHUGEPAGE, VM_PFNMAP, VM_RAND_READ, VM_READ,
  VM_SEQ_READ, VM_SHARED, VM_SPECIAL, VM_WIPEONFORK, VM_WRITE,
} from './vma.js';
import {
  EPERM, EAGAIN, ENOMEM, EACCES, EFAULT, EINVAL, PAGE, U64, TASK_SIZE_N, CAP_SYS_ADMIN, pageAlign64, keysIn,
} from './internal.js';
import { anonVmaPrepare, faultPage } from './fault.js';
import { vmaModifyFlags } from './vma-merge.js';

export function madviseBehaviorValid(b: number): boolean {
  switch (b) {
    case MADV_DOFORK: case MADV_DONTFORK: case MADV_NORMAL: case MADV_SEQUENTIAL: case MADV_RANDOM:
    case MADV_REMOVE: case MADV_WILLNEED: case MADV_DONTNEED: case MADV_DONTNEED_LOCKED: case MADV_FREE:
    case MADV_COLD: case MADV_PAGEOUT: case MADV_POPULATE_READ: case MADV_POPULATE_WRITE:
    case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE:
    case MADV_COLLAPSE: case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK: case MADV_KEEPONFORK:
    case MADV_GUARD_INSTALL: case MADV_GUARD_REMOVE: case MADV_HWPOISON: case MADV_SOFT_OFFLINE:
      return true;
    default:
      return false;
  }
}

/** madvise(2). */
export function madvise(mm: AddressSpace, startB: bigint, lenB: bigint, advice: number, caller: MmCaller): number {
  startB = BigInt.asUintN(64, startB);
  const lenIn = BigInt.asUintN(64, lenB);
  advice = advice | 0;
  if (!madviseBehaviorValid(advice)) return EINVAL;
  if (startB & 4095n) return EINVAL;
  const len = pageAlign64(lenIn);
  if (lenIn !== 0n && len === 0n) return EINVAL;
  if (startB + len > U64) return EINVAL;
  const endB = startB + len;
  if (endB === startB) return 0;
  if (advice === MADV_HWPOISON || advice === MADV_SOFT_OFFLINE) {
    if (!caller.capable(CAP_SYS_ADMIN)) return EPERM;
    return EINVAL; // memory-failure injection is not modelled
  }
  const start = startB >= TASK_SIZE ? TASK_SIZE_N : Number(startB);
  const end = endB >= TASK_SIZE ? TASK_SIZE_N + PAGE : Number(endB);
  if (advice === MADV_POPULATE_READ || advice === MADV_POPULATE_WRITE) {
    return madvisePopulate(mm, start, end, advice === MADV_POPULATE_WRITE);
  }
  return madviseWalk(mm, start, end, advice, caller);
}

/** madvise_walk_vmas(). */
export function madviseWalk(mm: AddressSpace, start: number, end: number, behavior: number, caller: MmCaller): number {
  let unmappedError = 0;
  let vma = mm.tree.find(start);
  let rstart = start;
  for (;;) {
    if (!vma) return ENOMEM;
    if (rstart < vma.start) {
      unmappedError = ENOMEM;
      rstart = vma.start;
      if (rstart >= end) break;
    }
    const rend = Math.min(vma.end, end);
    const r = madviseVmaBehavior(mm, vma, rstart, rend, behavior, caller);
    if (typeof r === 'number') return r;
    rstart = rend;
    if (r && rstart < r.end) rstart = r.end;
    if (rstart >= end) break;
    vma = mm.tree.find(r ? r.end : rstart);
  }
  return unmappedError;
}

/** madvise_vma_behavior(): the VMA now covering [start, ...), null (lock dropped) or an errno. */
export function madviseVmaBehavior(mm: AddressSpace, vma: Vma, start: number, end: number, behavior: number, caller: MmCaller): Vma | null | number {
  let nf = vma.flags;
  switch (behavior) {
    case MADV_REMOVE: {
      if (vma.flags & VM_LOCKED) return EINVAL;
      const f = vma.file;
      if (!f) return EINVAL;
      if ((vma.flags & (VM_SHARED | VM_MAYWRITE)) !== (VM_SHARED | VM_MAYWRITE)) return EACCES;
      if (f.writable === false) return -Errno.EBADF;
      f.cache.punchHole(vma.linear(start), vma.linear(end));
      return null;
    }
    case MADV_WILLNEED:
      return vma;
    case MADV_COLD:
    case MADV_PAGEOUT:
      if (vma.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)) return EINVAL;
      return vma;
    case MADV_FREE:
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED: {
      // madvise_dontneed_free_valid_vma()
      if (vma.flags & VM_HUGETLB) {
        // Only DONTNEED, from a huge page boundary; the end is rounded
        // down to one ("avoid unexpected data loss"), possibly to nothing.
        if (behavior !== MADV_DONTNEED && behavior !== MADV_DONTNEED_LOCKED) return EINVAL;
        const hs = vmaKernelPageSize(vma);
        if (modPow2(start, hs)) return EINVAL;
        end -= modPow2(end, hs);
        if (end === start) return vma;
      } else {
        let forbidden = VM_PFNMAP;
        if (behavior !== MADV_DONTNEED_LOCKED) forbidden |= VM_LOCKED;
        if (vma.flags & forbidden) return EINVAL;
      }
      if (behavior === MADV_FREE) {
        if (!vma.isAnonymous) return EINVAL;
        const lo = vma.linear(start), hi = vma.linear(end);
        for (const k of keysIn(vma.anonPages, lo, hi)) {
          const p = vma.anonPages!.get(k)!;
          if (p.mapcount === 1) { p.dirty = false; p.lazyFree = true; }
        }
      } else {
        mm.zapRange(vma, start, end);
      }
      return vma;
    }
    case MADV_COLLAPSE:
      // The reference host refuses every collapse (EINVAL), whatever the
      // VMA (THP "madvise" mode, MADV_HUGEPAGE or not); huge pages are
      // not modelled.
      return EINVAL;
    case MADV_GUARD_INSTALL: {
      if (vma.flags & (VM_SPECIAL | VM_HUGETLB | VM_LOCKED)) return EINVAL;
      if (vma.isAnonymous) anonVmaPrepare(mm, vma);
      mm.zapRange(vma, start, end);
      (vma.guards ?? (vma.guards = new PageRangeSet())).addRange(vma.linear(start), vma.linear(end));
      return vma;
    }
    case MADV_GUARD_REMOVE: {
      if (vma.flags & (VM_SPECIAL | VM_HUGETLB)) return EINVAL;
      vma.guards?.deleteRange(vma.linear(start), vma.linear(end));
      return vma;
    }
    case MADV_NORMAL: nf = nf & ~VM_RAND_READ & ~VM_SEQ_READ; break;
    case MADV_SEQUENTIAL: nf = (nf & ~VM_RAND_READ) | VM_SEQ_READ; break;
    case MADV_RANDOM: nf = (nf & ~VM_SEQ_READ) | VM_RAND_READ; break;
    case MADV_DONTFORK: nf |= VM_DONTCOPY; break;
    case MADV_DOFORK:
      if (nf & VM_IO) return EINVAL;
      nf &= ~VM_DONTCOPY;
      break;
    case MADV_WIPEONFORK:
      if (vma.file || (nf & VM_SHARED)) return EINVAL;
      nf |= VM_WIPEONFORK;
      break;
    case MADV_KEEPONFORK: nf &= ~VM_WIPEONFORK; break;
    case MADV_DONTDUMP: nf |= VM_DONTDUMP; break;
    case MADV_DODUMP:
      // hugetlb VMAs are VM_DONTEXPAND (special) yet may be dumped again.
      if (!(vma.flags & VM_HUGETLB) && (nf & VM_SPECIAL)) return EINVAL;
      nf &= ~VM_DONTDUMP;
      break;
    case MADV_MERGEABLE:
      if (nf & (VM_MERGEABLE | VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP)) return vma;
      nf |= VM_MERGEABLE;
      break;
    case MADV_UNMERGEABLE:
      if (!(nf & VM_MERGEABLE)) return vma;
      nf &= ~VM_MERGEABLE;
      break;
    case MADV_HUGEPAGE: nf = (nf & ~VM_NOHUGEPAGE) | VM_HUGEPAGE; break;
    case MADV_NOHUGEPAGE: nf = (nf & ~VM_HUGEPAGE) | VM_NOHUGEPAGE; break;
    default:
      return EINVAL;
  }
  nf = vmFlags(nf);
  // madvise_update_vma()
  if (nf === vma.flags) return vma;
  const r = vmaModifyFlags(mm, vma, start, end, nf, caller);
  if (typeof r === 'number') return r === ENOMEM ? EAGAIN : r;
  r.flags = nf;
  return r;
}

/** madvise_populate(). */
export function madvisePopulate(mm: AddressSpace, start: number, end: number, write: boolean): number {
  let a = start;
  while (a < end) {
    const vma = mm.tree.lookup(a);
    if (!vma) return ENOMEM;
    if (vma.flags & (VM_IO | VM_PFNMAP)) return EINVAL;
    if (write ? !(vma.flags & VM_WRITE) : !(vma.flags & VM_READ)) return EINVAL;
    const e = Math.min(end, vma.end);
    for (; a < e; a += PAGE) {
      if (faultPage(mm, vma, a, write) !== 0) return EFAULT;
    }
  }
  return 0;
}
