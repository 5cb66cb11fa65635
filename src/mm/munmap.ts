/**
 * Unmapping (mm/vma.c do_vmi_munmap, vms_gather_munmap_vmas,
 * vms_complete_munmap_vmas; mm/mmap.c __vm_munmap, do_munmap): munmap(2)
 * and the kernel-internal unmaps. Free functions over the AddressSpace.
 */
import type { AddressSpace } from './address-space.js';
import { modPow2, word } from '../abi/word.js';
import { Vma, type MmCaller, VM_ACCOUNT, VM_LOCKED } from './vma.js';
import { ENOMEM, EINVAL, PAGE, TASK_SIZE_N } from './internal.js';
import { splitVmaChecked } from './vma-merge.js';

/**
 * vms_gather_munmap_vmas(): splits the VMAs at start and end so that the
 * ones inside [start, end) are exactly `first` to the returned last one
 * (still linked, consecutive in the VMA chain). A failed split (a hugetlb
 * VMA cut off a huge page boundary) returns its errno; a split already
 * done at the start stays, as on Linux (abort_munmap_vmas reattaches the
 * pieces without merging them back).
 */
export function gatherMunmap(mm: AddressSpace, first: Vma, start: number, end: number, caller: MmCaller): Vma | number {
  if (start > first.start) {
    if (end < first.end && mm.mapCount >= mm.maxMapCount) return ENOMEM;
    const r = splitVmaChecked(mm, first, start, true, caller);
    if (typeof r === 'number') return r;
  }
  let last = first;
  for (let v: Vma | null = first; v && v.start < end; v = v.next) {
    if (v.end > end) {
      const r = splitVmaChecked(mm, v, end, false, caller);
      if (typeof r === 'number') return r;
    }
    last = v;
  }
  return last;
}

/** The gathered VMAs first..last (mmap_region keeps them after they leave the chain). */
export function gathered(first: Vma, last: Vma): Vma[] {
  const out: Vma[] = [];
  for (let v: Vma | null = first; v; v = v === last ? null : v.next) out.push(v);
  return out;
}

/**
 * vms_complete_munmap_vmas(): close hooks (vms_clear_ptes), unlink, free
 * pages, unaccount; for the gathered VMAs first..last.
 */
export function completeMunmap(mm: AddressSpace, first: Vma, last: Vma, caller: MmCaller): void {
  mm.noteVmDrop();
  let accounted = 0;
  for (let v: Vma | null = first; v; v = v === last ? null : v.next) {
    if (v.flags & VM_LOCKED) mm.lockedVm -= v.pages;
    if (v.flags & VM_ACCOUNT) accounted += v.pages;
    if (v.file?.vmOps) v.file.vmOps.close(v, caller);
  }
  for (let v: Vma | null = first; v;) {
    const next: Vma | null = v === last ? null : v.next;
    mm.tree.remove(v);
    mm.freeVma(v);
    v = next;
  }
  if (accounted) mm.allocator.unacctMemory(accounted);
}

/** do_vmi_munmap() with validated numbers. */
export function doMunmapRange(mm: AddressSpace, start: number, end: number, caller: MmCaller): number {
  const first = mm.tree.intersection(start, end);
  if (!first) return 0;
  const last = gatherMunmap(mm, first, start, end, caller);
  if (typeof last === 'number') return last;
  completeMunmap(mm, first, last, caller);
  return 0;
}

/**
 * munmap(2) (__vm_munmap -> do_vmi_munmap): an unaligned start, a range
 * reaching beyond TASK_SIZE or an empty length is EINVAL. A bigint word is
 * at least 2^53, so always beyond TASK_SIZE.
 */
export function munmap(mm: AddressSpace, addrIn: number | bigint, lenIn: number | bigint, caller: MmCaller): number {
  const start = word(addrIn);
  const len = word(lenIn);
  if (typeof start !== 'number' || typeof len !== 'number') return EINVAL;
  if (modPow2(start, PAGE) !== 0 || start > TASK_SIZE_N || len > TASK_SIZE_N - start) return EINVAL;
  if (len === 0) return EINVAL;
  return doMunmapRange(mm, start, start + Math.ceil(len / PAGE) * PAGE, caller);
}

/** do_munmap() of exactly [start, end), page aligned bounds of VMAs. Returns 0 or a negative errno. */
export function unmapRange(mm: AddressSpace, start: number, end: number, caller: MmCaller): number {
  if (modPow2(start, PAGE) !== 0 || modPow2(end, PAGE) !== 0 || !(start < end) || end > TASK_SIZE_N) throw new Error(`unmapRange: bad range ${start}-${end}`);
  return doMunmapRange(mm, start, end, caller);
}

/**
 * do_munmap(mm, vma->vm_start, vma->vm_end - vma->vm_start) of one VMA of
 * this address space (shmdt): the range is the VMA, so nothing splits and
 * the gather is the VMA itself.
 */
export function unmapVma(mm: AddressSpace, vma: Vma, caller: MmCaller): void {
  if (!mm.tree.has(vma)) throw new Error(`unmapVma: ${vma} is not mapped here`);
  completeMunmap(mm, vma, vma, caller);
}
