/**
 * Where a new mapping goes: mm/mmap.c __get_unmapped_area,
 * unmapped_area / unmapped_area_topdown (vm_unmapped_area),
 * arch/x86/kernel/sys_x86_64.c arch_get_unmapped_area[_topdown], and
 * mm/huge_memory.c __thp_get_unmapped_area. Free functions over the AddressSpace.
 */
import type { AddressSpace } from './address-space.js';
import { MAP_FIXED, MAP_SHARED, MAP_32BIT, MAP_ABOVE4G } from '../abi/constants.js';
import { modPow2 } from '../abi/word.js';
import { fileHugePageSize } from './hugetlb.js';
import { Vma, type MappedFile, type MmCaller, VM_GROWSDOWN } from './vma.js';
import {
  EPERM, ENOMEM, EINVAL, PAGE, PMD_SIZE, STACK_GUARD_GAP, TASK_SIZE_N, CAP_SYS_RAWIO, isErr, pageDown,
} from './internal.js';

export function vmStartGap(mm: AddressSpace, v: Vma): number {
  let gap = v.start;
  if (v.flags & VM_GROWSDOWN) {
    gap -= STACK_GUARD_GAP;
    if (gap > v.start) gap = 0;
  }
  return Math.max(gap, 0);
}

/**
 * unmapped_area_topdown(). `alignMask` is info->align_mask (align_offset
 * is always 0 here): the search asks for length + align_mask bytes, then
 * aligns the top-most fit down.
 */
export function unmappedAreaTopdown(mm: AddressSpace, length: number, lowLimit: number, highLimit: number, alignMask = 0): number {
  let low = Math.max(lowLimit, mm.allocator.effectiveMmapMinAddr);
  let high = highLimit;
  for (;;) {
    const gapEnd = mm.tree.highestGapEnd(length + alignMask, low, high);
    if (gapEnd < 0) return ENOMEM;
    let gap = gapEnd - length;
    // gap -= (gap - align_offset) & align_mask (gap is page aligned, the mask a power of two less a page)
    if (alignMask) gap -= modPow2(gap, alignMask + PAGE);
    // vma_find(&vmi, gap_end): the search left it in gapAbove.
    const tmp = mm.tree.gapAbove;
    if (tmp && (tmp.flags & VM_GROWSDOWN)) {
      if (vmStartGap(mm, tmp) < gapEnd) { high = vmStartGap(mm, tmp); continue; }
    }
    return gap;
  }
}

/** unmapped_area() (bottom-up), with info->align_mask as in unmappedAreaTopdown. */
export function unmappedArea(mm: AddressSpace, length: number, lowLimit: number, highLimit: number, alignMask = 0): number {
  let low = Math.max(lowLimit, mm.allocator.effectiveMmapMinAddr);
  const high = highLimit;
  const searchLen = length + alignMask;
  for (;;) {
    const gs = mm.tree.lowestGapStart(searchLen, low, high);
    if (gs < 0) return ENOMEM;
    // gap += (align_offset - gap) & align_mask
    const gap = alignMask ? gs + modPow2(alignMask + PAGE - modPow2(gs, alignMask + PAGE), alignMask + PAGE) : gs;
    const tmp = mm.tree.find(gs);
    if (tmp && (tmp.flags & VM_GROWSDOWN)) {
      if (vmStartGap(mm, tmp) < gap + searchLen - 1) { low = tmp.end; continue; }
    }
    return gap;
  }
}

/** mmap_address_hint_valid(). */
export function hintValid(addr: number, len: number): boolean {
  if (TASK_SIZE_N - len < addr) return false;
  return (addr > TASK_SIZE_N) === (addr + len > TASK_SIZE_N);
}

/**
 * arch_get_unmapped_area() (x86_64 bottom-up, the top-down fallback).
 * `alignMask` is get_align_mask(filp): non-zero only for hugetlb files.
 */
export function archGetUnmappedArea(mm: AddressSpace, addr: number, len: number, flags: number, alignMask = 0): number {
  let begin = mm.mmapLegacyBase, end = TASK_SIZE_N;
  if (flags & MAP_32BIT) { begin = 0x40000000; end = 0x80000000; }
  if (len > end) return ENOMEM;
  if (flags & MAP_FIXED) return addr;
  if (addr) {
    addr = pageDown(addr + PAGE - 1);
    const vma = mm.tree.find(addr);
    if (end - len >= addr && (!vma || addr + len <= vmStartGap(mm, vma))) return addr;
  }
  return unmappedArea(mm, len, begin, end, alignMask);
}

/**
 * arch_get_unmapped_area_topdown() (x86_64). `alignMask` is
 * get_align_mask(filp): for a hugetlb file huge_page_mask_align() (the
 * huge page size less one page), else 0 (ASLR is off, so no va_align).
 */
export function archGetUnmappedAreaTopdown(mm: AddressSpace, addr0: number, len: number, flags: number, alignMask = 0): number {
  if (len > TASK_SIZE_N) return ENOMEM;
  if (flags & MAP_FIXED) return addr0;
  if (flags & MAP_32BIT) return archGetUnmappedArea(mm, addr0, len, flags, alignMask);
  let addr = addr0;
  if (addr) {
    addr = pageDown(addr);
    if (hintValid(addr, len)) {
      const vma = mm.tree.find(addr);
      if (!vma || addr + len <= vmStartGap(mm, vma)) return addr;
    }
  }
  const low = (flags & MAP_ABOVE4G) ? 0x100000000 : PAGE;
  const r = unmappedAreaTopdown(mm, len, low, mm.mmapBase, alignMask);
  if (!isErr(r)) return r;
  return archGetUnmappedArea(mm, addr0, len, flags, alignMask);
}

/** __thp_get_unmapped_area() for an anonymous mapping (off = 0, size = PMD_SIZE). */
export function thpGetUnmappedArea(mm: AddressSpace, addr: number, len: number, flags: number): number {
  const size = PMD_SIZE;
  if (len < size) return 0;
  const lenPad = len + size;
  const ret = archGetUnmappedAreaTopdown(mm, addr, lenPad, flags);
  if (isErr(ret)) return 0;
  if (ret === addr) return addr;
  const offSub = modPow2(size - modPow2(ret, size), size);
  if (!offSub) return ret + size;
  return ret + offSub;
}

/**
 * f_op->get_unmapped_area of hugetlbfs (also through SysV's
 * shm_get_unmapped_area): hugetlb_get_unmapped_area() checks the length
 * and a fixed address, rounds a hint up to a huge page, and searches with
 * align_mask = huge_page_mask_align(file). Out of line: the common path
 * stays small enough to inline.
 */
function hugetlbGetUnmappedArea(mm: AddressSpace, addr: number, len: number, flags: number, hs: number): number {
  if (modPow2(len, hs)) return EINVAL;
  if ((flags & MAP_FIXED) && modPow2(addr, hs)) return EINVAL;
  const addr0 = addr ? Math.ceil(addr / hs) * hs : 0;
  return archGetUnmappedAreaTopdown(mm, addr0, len, flags, hs - PAGE);
}

/**
 * __get_unmapped_area(): returns the address or a negative errno. `addr`
 * and `len` are numbers (len page aligned and <= 2^53).
 */
export function getUnmappedArea(mm: AddressSpace, file: MappedFile | null, addr: number, len: number, flags: number, caller: MmCaller): number {
  if (len > TASK_SIZE_N) return ENOMEM;
  let a: number;
  const shared = file !== null || (flags & MAP_SHARED) !== 0;
  const hs = fileHugePageSize(file);
  if (hs) {
    a = hugetlbGetUnmappedArea(mm, addr, len, flags, hs);
  } else if (!shared && mm.thpAlign && addr === 0 && modPow2(len, PMD_SIZE) === 0) {
    a = thpGetUnmappedArea(mm, addr, len, flags);
    if (a === 0) a = archGetUnmappedAreaTopdown(mm, addr, len, flags, 0);
  } else {
    a = archGetUnmappedAreaTopdown(mm, addr, len, flags, 0);
  }
  if (isErr(a)) return a;
  if (a > TASK_SIZE_N - len) return ENOMEM;
  if (modPow2(a, PAGE)) return EINVAL;
  if (a < mm.allocator.sysctl.mmapMinAddr && !caller.capable(CAP_SYS_RAWIO)) return EPERM;
  return a;
}
