/**
 * mprotect(2): mm/mprotect.c do_mprotect_pkey and mprotect_fixup. Free
 * functions over the AddressSpace.
 */
import type { AddressSpace } from './address-space.js';
import {
  PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE, TASK_SIZE,
} from '../abi/constants.js';
import {
  Vma, vmFlags, type MmCaller, VM_ACCESS_FLAGS, VM_ACCOUNT, VM_GROWSDOWN, VM_HUGETLB, VM_LOCKED, VM_NORESERVE,
  VM_SHARED, VM_WRITE,
} from './vma.js';
import { ENOMEM, EACCES, EINVAL, PAGE, TASK_SIZE_N, CAP_SYS_ADMIN, pageAlign64 } from './internal.js';
import { mmPopulate } from './mmap.js';
import { vmaModifyFlags } from './vma-merge.js';

/** mprotect(2) (do_mprotect_pkey with pkey -1). */
export function mprotect(mm: AddressSpace, startB: bigint, lenB: bigint, prot: number, caller: MmCaller): number {
  startB = BigInt.asUintN(64, startB);
  lenB = BigInt.asUintN(64, lenB);
  prot = prot >>> 0;
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return EINVAL;
  if (startB & 4095n) return EINVAL;
  if (lenB === 0n) return 0;
  lenB = pageAlign64(lenB);
  const endB = BigInt.asUintN(64, startB + lenB);
  if (endB <= startB) return ENOMEM;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) return EINVAL;
  if (startB >= TASK_SIZE) return ENOMEM;
  let start = Number(startB);
  let end = endB > TASK_SIZE ? TASK_SIZE_N + PAGE : Number(endB);
  let vma = mm.tree.intersection(start, end);
  if (!vma) return ENOMEM;
  if (grows & PROT_GROWSDOWN) {
    if (vma.start >= end) return ENOMEM;
    start = vma.start;
    if (!(vma.flags & VM_GROWSDOWN)) return EINVAL;
  } else {
    if (vma.start > start) return ENOMEM;
    if (grows & PROT_GROWSUP) return EINVAL;
  }
  let nstart = start;
  let tmp = vma.start;
  let error = 0;
  let v: Vma | null = vma;
  while (v && v.start < end) {
    if (v.start !== tmp) { error = ENOMEM; break; }
    const newflags = vmFlags((prot & 7) | (v.flags & ~VM_ACCESS_FLAGS));
    if ((newflags & ~(newflags >>> 4)) & VM_ACCESS_FLAGS) { error = EACCES; break; }
    tmp = Math.min(v.end, end);
    const r = mprotectFixup(mm, v, nstart, tmp, newflags, caller);
    if (typeof r === 'number') { error = r; break; }
    tmp = r.end;
    nstart = tmp;
    v = r.next;
  }
  void vma;
  if (!error && tmp < end) error = ENOMEM;
  return error;
}

/** mprotect_fixup(). Returns the VMA now covering [start, ...) or an errno. */
export function mprotectFixup(mm: AddressSpace, vma: Vma, start: number, end: number, newflags: number, caller: MmCaller): Vma | number {
  const oldflags = vma.flags;
  if (newflags === oldflags) return vma;
  const nrpages = (end - start) / PAGE;
  let charged = 0;
  if (newflags & VM_WRITE) {
    if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
      charged = nrpages;
      if (mm.allocator.vmEnoughMemory(charged, caller.capable(CAP_SYS_ADMIN), mm.totalVmPages())) return ENOMEM;
      newflags = vmFlags(newflags | VM_ACCOUNT);
    }
  } else if ((oldflags & VM_ACCOUNT) && vma.isAnonymous && !vma.anonVma) {
    newflags = vmFlags(newflags & ~VM_ACCOUNT);
  }
  const r = vmaModifyFlags(mm, vma, start, end, newflags, caller);
  if (typeof r === 'number') {
    if (charged) mm.allocator.unacctMemory(charged);
    return r;
  }
  r.flags = newflags;
  if ((oldflags & VM_ACCOUNT) && !(newflags & VM_ACCOUNT)) mm.allocator.unacctMemory(nrpages);
  if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) === VM_LOCKED && (newflags & VM_WRITE)) {
    mmPopulate(mm, start, end);
  }
  return r;
}
