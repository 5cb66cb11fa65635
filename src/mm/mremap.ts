/**
 * mremap(2): mm/mremap.c (check_mremap_params, check_prep_vma,
 * mremap_to, mremap_at, expand_vma, move_vma) and mm/vma.c copy_vma.
 * Free functions over the AddressSpace.
 */
import type { AddressSpace } from './address-space.js';
import { MAP_FIXED, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, TASK_SIZE } from '../abi/constants.js';
import { fileHugePageSize, hugetlbMaySplit } from './hugetlb.js';
import {
  Vma, vmFlags, type MmCaller, VM_ACCOUNT, VM_DONTEXPAND, VM_HUGETLB, VM_LOCKED, VM_LOCKED_MASK, VM_MAYSHARE,
  VM_PFNMAP, VM_SHARED,
} from './vma.js';
import {
  EAGAIN, ENOMEM, EFAULT, EINVAL, PAGE, TASK_SIZE_N, CAP_SYS_ADMIN, isErr, pageAlign64, keysIn, movePtes,
} from './internal.js';
import { mlockFutureOk, mmPopulate } from './mmap.js';
import { munmap } from './munmap.js';
import { getUnmappedArea } from './placement.js';
import { vmaMergeNewRange } from './vma-merge.js';

/** mremap(2). `newAddr` is only used with MREMAP_FIXED or MREMAP_DONTUNMAP. */
export function mremap(mm: AddressSpace, addrB: bigint, oldLenB: bigint, newLenB: bigint, flagsIn: number | bigint, newAddrB: bigint, caller: MmCaller): number {
  const addr = BigInt.asUintN(64, addrB);
  const flags = BigInt.asUintN(64, BigInt(flagsIn));
  const newAddr = BigInt.asUintN(64, newAddrB);
  const oldLen = pageAlign64(BigInt.asUintN(64, oldLenB));
  const newLen = pageAlign64(BigInt.asUintN(64, newLenB));
  // check_mremap_params()
  if (flags & ~BigInt(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return EINVAL;
  if (addr & 4095n) return EINVAL;
  if (newLen === 0n) return EINVAL;
  if (newLen > TASK_SIZE) return EINVAL;
  const fl = Number(flags);
  const impliesNew = (fl & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
  if (impliesNew) {
    if (newAddr > TASK_SIZE - newLen) return EINVAL;
    if (newAddr & 4095n) return EINVAL;
    if (!(fl & MREMAP_MAYMOVE)) return EINVAL;
    if ((fl & MREMAP_DONTUNMAP) && oldLen !== newLen) return EINVAL;
    const endOld = BigInt.asUintN(64, addr + oldLen);
    const endNew = newAddr + newLen;
    if (endOld > newAddr && endNew > addr) return EINVAL;
    if (mm.mapCount + 2 >= mm.maxMapCount - 3) return ENOMEM;
  }
  const vrm: Vrm = {
    addr: 0, oldLen: 0, newLen: Number(newLen), flags: fl, newAddr: Number(newAddr), newAddrRaw: newAddr,
    vma: null, delta: 0, type: 'none', populate: false, caller,
  };
  let res: number;
  if ((fl & MREMAP_FIXED) && oldLen === newLen) {
    if (addr >= TASK_SIZE) return EFAULT;
    vrm.addr = Number(addr);
    vrm.oldLen = Number(oldLen);
    res = remapMove(mm, vrm);
  } else {
    if (addr >= TASK_SIZE) return EFAULT;
    vrm.addr = Number(addr);
    vrm.vma = mm.tree.lookup(vrm.addr);
    // old_len can be any 64-bit value here; it is bounded by the checks below.
    const e = checkPrepVma(mm, vrm, oldLen);
    if (e) return e;
    res = impliesNew ? mremapTo(mm, vrm) : mremapAt(mm, vrm, oldLen);
  }
  if (!isErr(res) && vrm.populate) mmPopulate(mm, vrm.newAddr + vrm.oldLen, vrm.newAddr + vrm.oldLen + vrm.delta);
  return res;
}

/** check_prep_vma(). Sets vrm.oldLen (bounded) on success. */
export function checkPrepVma(mm: AddressSpace, vrm: Vrm, oldLenB: bigint): number {
  const vma = vrm.vma;
  if (!vma) return EFAULT;
  const hs = (vma.flags & VM_HUGETLB) ? BigInt(fileHugePageSize(vma.file)) : 0n;
  if (hs) {
    // align_hugetlb(): both lengths round up to the huge page size; the
    // addresses (new_addr as passed, even when it is not used) must be
    // huge page aligned, and growing is refused (the reservation map
    // cannot be split).
    oldLenB = BigInt.asUintN(64, (oldLenB + hs - 1n) & ~(hs - 1n));
    const nl = (BigInt(vrm.newLen) + hs - 1n) & ~(hs - 1n);
    vrm.newLen = Number(nl);
    if (BigInt(vrm.addr) % hs) return EINVAL;
    if ((vrm.newAddrRaw ?? BigInt(vrm.newAddr)) % hs) return EINVAL;
    if (nl > oldLenB) return EINVAL;
  }
  const newLenB = BigInt(vrm.newLen);
  const deltaB = oldLenB > newLenB ? oldLenB - newLenB : newLenB - oldLenB;
  vrm.type = deltaB === 0n ? 'noresize' : oldLenB > newLenB ? 'shrink' : 'expand';
  const impliesNew = (vrm.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
  if (!impliesNew) vrm.newAddr = vrm.addr;
  const willMapNew = vrm.type === 'expand' || impliesNew;
  if (!willMapNew) {
    // Shrink or no-op in place: old_len may cross VMAs (the shrink munmap validates it).
    vrm.oldLenBig = oldLenB;
    vrm.oldLen = oldLenB > TASK_SIZE ? TASK_SIZE_N : Number(oldLenB);
    vrm.delta = deltaB > TASK_SIZE ? TASK_SIZE_N : Number(deltaB);
    return 0;
  }
  let oldLen = oldLenB;
  const newLen = newLenB;
  if (oldLenB === 0n && !(vma.flags & (VM_SHARED | VM_MAYSHARE))) return EINVAL;
  if ((vrm.flags & MREMAP_DONTUNMAP) && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP))) return EINVAL;
  if (vrm.type === 'shrink') oldLen = newLen;
  if (oldLen > BigInt(vma.end - vrm.addr)) return EFAULT;
  vrm.oldLenBig = oldLenB;
  vrm.oldLen = Number(oldLenB > TASK_SIZE ? TASK_SIZE : oldLenB);
  vrm.delta = Number(deltaB > TASK_SIZE ? TASK_SIZE : deltaB);
  if (newLen === oldLen) return 0;
  if (vma.flags & VM_LOCKED) vrm.populate = true;
  if (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return EFAULT;
  if (!mlockFutureOk(mm, vma.flags & VM_LOCKED, vrm.delta, vrm.caller)) return EAGAIN;
  return 0;
}

/** remap_move(): MREMAP_FIXED without resize, over possibly several VMAs. */
export function remapMove(mm: AddressSpace, vrm: Vrm): number {
  const start = vrm.addr;
  const end = vrm.addr + vrm.oldLen;
  let target = vrm.newAddr;
  let res = EFAULT;
  let seen = false;
  let lastEnd = 0;
  let pos = start;
  for (;;) {
    const vma = mm.tree.intersection(pos, end);
    if (!vma) break;
    const a = Math.max(vma.start, start);
    const len = Math.min(end, vma.end) - a;
    if (!seen && start < vma.start) return EFAULT;
    const offset = seen ? vma.start - lastEnd : 0;
    lastEnd = vma.end;
    const sub: Vrm = {
      addr: a, oldLen: len, newLen: len, flags: vrm.flags, newAddr: target + offset,
      vma, delta: 0, type: 'none', populate: false, caller: vrm.caller,
    };
    // vma_multi_allowed(): files with their own get_unmapped_area (SysV
    // attaches) move alone, unless hugetlb (known to obey MAP_FIXED).
    const multi = !vma.file || !vma.file.vmOps || (vma.flags & VM_HUGETLB) !== 0;
    if (!multi) {
      if (seen) return EFAULT;
      if (vma.end < end) return EFAULT;
    }
    let r = checkPrepVma(mm, sub, BigInt(len));
    if (!r) r = mremapTo(mm, sub);
    if (isErr(r)) return r;
    if (!seen) res = r;
    seen = true;
    // target_addr = res_vma + vrm->new_len (after align_hugetlb).
    target = r + sub.newLen;
    pos = a + len;
    if (pos >= end) break;
  }
  return res;
}

/** vrm_set_new_addr(). */
export function vrmSetNewAddr(mm: AddressSpace, vrm: Vrm): number {
  const vma = vrm.vma!;
  const impliesNew = (vrm.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
  let mapFlags = 0;
  if (vrm.flags & MREMAP_FIXED) mapFlags |= MAP_FIXED;
  if (vma.flags & VM_MAYSHARE) mapFlags |= MAP_SHARED;
  const r = getUnmappedArea(mm, vma.file, impliesNew ? vrm.newAddr : 0, vrm.newLen, mapFlags, vrm.caller);
  if (isErr(r)) return r;
  vrm.newAddr = r;
  return 0;
}

/** mremap_to(). */
export function mremapTo(mm: AddressSpace, vrm: Vrm): number {
  if (vrm.flags & MREMAP_FIXED) {
    const e = munmap(mm, BigInt(vrm.newAddr), BigInt(vrm.newLen), vrm.caller);
    vrm.vma = null;
    if (e) return e;
    vrm.vma = mm.tree.lookup(vrm.addr);
    if (!vrm.vma) return EFAULT;
  }
  if (vrm.type === 'shrink') {
    const e = shrinkVma(mm, vrm);
    if (e) return e;
    vrm.oldLen = vrm.newLen;
  }
  const e = vrmSetNewAddr(mm, vrm);
  if (e) return e;
  return moveVma(mm, vrm);
}

/** shrink_vma(): unmaps [addr + new_len, addr + old_len). */
export function shrinkVma(mm: AddressSpace, vrm: Vrm): number {
  const big = vrm.oldLenBig ?? BigInt(vrm.oldLen);
  const e = munmap(mm, BigInt(vrm.addr + vrm.newLen), big - BigInt(vrm.newLen), vrm.caller);
  vrm.vma = null;
  if (e) return e;
  vrm.vma = mm.tree.lookup(vrm.addr);
  if (!vrm.vma) return EFAULT;
  return 0;
}

/** mremap_at(). */
export function mremapAt(mm: AddressSpace, vrm: Vrm, oldLenB: bigint): number {
  void oldLenB;
  switch (vrm.type) {
    case 'noresize':
      return vrm.addr;
    case 'shrink': {
      const e = shrinkVma(mm, vrm);
      if (e) return e;
      return vrm.addr;
    }
    case 'expand':
      return expandVma(mm, vrm);
    default:
      throw new Error('mremap: bad state');
  }
}

/** vma_expandable(). */
export function vmaExpandable(mm: AddressSpace, vma: Vma, delta: number): boolean {
  const end = vma.end + delta;
  if (mm.tree.intersection(vma.end, end)) return false;
  if (end > TASK_SIZE_N) return false;
  if (vma.start < mm.allocator.sysctl.mmapMinAddr) return false;
  return true;
}

/** expand_vma(). */
export function expandVma(mm: AddressSpace, vrm: Vrm): number {
  const vma = vrm.vma!;
  if (vma.end - vrm.addr === vrm.oldLen && vmaExpandable(mm, vma, vrm.delta)) {
    // expand_vma_in_place()
    let charged = 0;
    if (vma.flags & VM_ACCOUNT) {
      if (mm.allocator.vmEnoughMemory(vrm.delta / PAGE, vrm.caller.capable(CAP_SYS_ADMIN), mm.totalVmPages())) return ENOMEM;
      charged = vrm.delta / PAGE;
    }
    const merged = vmaMergeNewRange(mm, {
      prev: vma, next: vma.next, middle: null, start: vma.end, end: vma.end + vrm.delta,
      flags: vma.flags, pgoff: vma.pgoff + vma.pages, file: vma.file, anonVma: vma.anonVma,
      copiedFrom: null, justExpand: false,
    });
    if (!merged) {
      if (charged) mm.allocator.unacctMemory(charged);
      return ENOMEM;
    }
    vrm.vma = merged;
    if (merged.flags & VM_LOCKED) mm.lockedVm += vrm.delta / PAGE;
    return vrm.addr;
  }
  if (!(vrm.flags & MREMAP_MAYMOVE)) return ENOMEM;
  const e = vrmSetNewAddr(mm, vrm);
  if (e) return e;
  return moveVma(mm, vrm);
}

/** copy_vma(): the VMA at the destination (merged into a neighbour or new). */
export function copyVma(mm: AddressSpace, vma: Vma, addr: number, len: number, pgoff: number, caller: MmCaller): Vma {
  if (vma.isAnonymous && !vma.anonVma) pgoff = addr / PAGE;
  const next = mm.tree.find(addr);
  if (next && next.start < addr + len) throw new Error('copyVma: destination not free');
  const prev = next ? next.prev : mm.tree.last;
  const merged = vmaMergeNewRange(mm, {
    prev, next, middle: null, start: addr, end: addr + len, flags: vma.flags, pgoff,
    file: vma.file, anonVma: vma.anonVma, copiedFrom: vma, justExpand: false,
  });
  if (merged) return merged;
  const nv = new Vma(addr, addr + len, vma.flags, pgoff, vma.file);
  nv.anonVma = vma.anonVma;
  nv.anonForked = vma.anonForked;
  if (nv.file) nv.file.get?.();
  if (nv.file?.vmOps) nv.file.vmOps.open(nv, caller);
  mm.linkVma(nv);
  return nv;
}

/** move_vma(). */
export function moveVma(mm: AddressSpace, vrm: Vrm): number {
  const caller = vrm.caller;
  let vma = vrm.vma!;
  // prep_move_vma()
  if (mm.mapCount >= mm.maxMapCount - 3) return ENOMEM;
  // vm_ops->may_split at both ends of the moved range (hugetlb_vm_op_split).
  let se = 0;
  if (vma.start !== vrm.addr) se = hugetlbMaySplit(vma, vrm.addr);
  if (!se && vma.end !== vrm.addr + vrm.oldLen) se = hugetlbMaySplit(vma, vrm.addr + vrm.oldLen);
  if (se) return se;
  // vrm_calc_charge()
  let charged = 0;
  if (vma.flags & VM_ACCOUNT) {
    const pages = (vrm.flags & MREMAP_DONTUNMAP) ? vrm.newLen / PAGE : vrm.delta / PAGE;
    if (mm.allocator.vmEnoughMemory(pages, caller.capable(CAP_SYS_ADMIN), mm.totalVmPages())) return ENOMEM;
    charged = pages;
  }
  void charged;
  const oldStart = vma.start;
  const oldEnd = vma.end;
  const srcLin = vma.linear(vrm.addr);
  const newPgoff = srcLin;
  const copied = copyVma(mm, vma, vrm.newAddr, vrm.newLen, newPgoff, caller);
  // move_page_tables(): the PTEs of [addr, addr+old_len) follow the VMA.
  if (vrm.oldLen) {
    const dstLin = copied.linear(vrm.newAddr);
    if (dstLin !== srcLin) {
      // Only an unfaulted anonymous VMA (no pages) gets a new pgoff.
      if (keysIn(vma.anonPages, srcLin, srcLin + vrm.oldLen / PAGE).length
        || vma.filePtes?.countIn(srcLin, srcLin + vrm.oldLen / PAGE)
        || vma.guards?.intersects(srcLin, srcLin + vrm.oldLen / PAGE)) {
        throw new Error('mremap: moving pages to a VMA with a different pgoff');
      }
    } else {
      movePtes(vma, copied, srcLin, srcLin + vrm.oldLen / PAGE);
    }
  }
  // A merge at the destination may have swallowed the (unfaulted) source.
  if (!mm.tree.has(vma)) vma = copied;
  vrm.vma = vma;
  const savedHiwater = mm.hiwaterVm;
  if (vma.flags & VM_LOCKED) mm.lockedVm += vrm.newLen / PAGE;
  if (vrm.flags & MREMAP_DONTUNMAP) {
    // dontunmap_complete(): the old VMA stays (as if freshly mapped,
    // still accounted) but is no longer locked; its anon_vma goes when
    // the whole VMA was moved.
    const start = vrm.addr, end = vrm.addr + vrm.oldLen;
    vma.flags = vmFlags(vma.flags & ~VM_LOCKED_MASK);
    if (copied !== vma && start === oldStart && end === oldEnd) {
      vma.anonVma = null;
      vma.anonForked = false;
    }
  } else {
    // unmap_source_vma()
    const accountable = (vma.flags & VM_ACCOUNT) !== 0;
    const vmStart = vma.start, vmEnd = vma.end;
    if (accountable) vma.flags = vmFlags(vma.flags & ~VM_ACCOUNT);
    const e = munmap(mm, BigInt(vrm.addr), BigInt(vrm.oldLen), caller);
    if (e) {
      mm.allocator.acctMemory(vrm.oldLen / PAGE);
    } else if (accountable) {
      const end = vrm.addr + vrm.oldLen;
      if (vmStart < vrm.addr) {
        const p = mm.tree.findPrev(vrm.addr);
        if (p) p.flags = vmFlags(p.flags | VM_ACCOUNT);
      }
      if (vmEnd > end) {
        const n = mm.tree.find(end);
        if (n) n.flags = vmFlags(n.flags | VM_ACCOUNT);
      }
    }
  }
  mm.hiwaterVm = savedHiwater;
  return vrm.newAddr;
}

/** The state threaded through mremap (struct vma_remap_struct). */
interface Vrm {
  addr: number;
  oldLen: number;
  oldLenBig?: bigint;
  newLen: number;
  flags: number;
  newAddr: number;
  /** new_addr as passed (64 bits), for align_hugetlb(); defaults to newAddr. */
  newAddrRaw?: bigint;
  vma: Vma | null;
  delta: number;
  type: 'none' | 'noresize' | 'shrink' | 'expand';
  populate: boolean;
  caller: MmCaller;
}
