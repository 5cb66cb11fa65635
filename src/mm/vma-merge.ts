/**
 * Splitting and merging VMAs (mm/vma.c): __split_vma / split_vma,
 * vma_merge_new_range, vma_merge_existing_range, vma_modify and
 * vma_modify_flags. Free functions over the AddressSpace (mm_struct).
 */
import type { AddressSpace } from './address-space.js';
import { hugetlbMaySplit } from './hugetlb.js';
import { AnonVma, Vma, vmFlags, type MappedFile, type MmCaller, VM_SOFTDIRTY, VM_SPECIAL } from './vma.js';
import { ENOMEM, PAGE, movePtes } from './internal.js';

/** The state vma_merge_new_range / vma_merge_existing_range work on (struct vma_merge_struct). */
export interface Vmg {
  prev: Vma | null;
  next: Vma | null;
  middle: Vma | null;
  start: number;
  end: number;
  flags: number;
  pgoff: number;
  file: MappedFile | null;
  anonVma: AnonVma | null;
  copiedFrom: Vma | null;
  justExpand: boolean;
}

/**
 * __split_vma(): splits at addr; the new VMA is the part below addr when
 * newBelow, else the part above. vm_ops->open runs on the new VMA.
 */
export function splitVmaRaw(mm: AddressSpace, vma: Vma, addr: number, newBelow: boolean, caller: MmCaller): Vma {
  if (!(vma.start < addr && addr < vma.end)) throw new Error(`splitVma: ${addr.toString(16)} outside ${vma}`);
  const nv = new Vma(0, 0, vma.flags, vma.pgoff, vma.file);
  nv.anonVma = vma.anonVma;
  nv.anonForked = vma.anonForked;
  const cut = vma.linear(addr);
  if (newBelow) {
    nv.start = vma.start; nv.end = addr; nv.pgoff = vma.pgoff;
    movePtes(vma, nv, vma.pgoff, cut);
    mm.tree.setRange(vma, addr, vma.end);
    vma.pgoff = cut;
  } else {
    nv.start = addr; nv.end = vma.end; nv.pgoff = cut;
    movePtes(vma, nv, cut, vma.linear(vma.end));
    mm.tree.setRange(vma, vma.start, addr);
  }
  if (nv.file) nv.file.get?.();
  if (nv.file?.vmOps) nv.file.vmOps.open(nv, caller);
  mm.linkVma(nv);
  return nv;
}

/** split_vma(): fails with ENOMEM when map_count >= vm.max_map_count. */
export function splitVma(mm: AddressSpace, vma: Vma, addr: number, newBelow: boolean, caller: MmCaller): Vma | number {
  if (mm.mapCount >= mm.maxMapCount) return ENOMEM;
  return splitVmaChecked(mm, vma, addr, newBelow, caller);
}

/**
 * __split_vma(): asks vm_ops->may_split first. Only hugetlb VMAs (directly
 * or, for SysV, through shm_may_split) refuse: hugetlb_vm_op_split() wants
 * a huge page boundary, else EINVAL.
 */
export function splitVmaChecked(mm: AddressSpace, vma: Vma, addr: number, newBelow: boolean, caller: MmCaller): Vma | number {
  const e = hugetlbMaySplit(vma, addr);
  if (e) return e;
  return splitVmaRaw(mm, vma, addr, newBelow, caller);
}

export function hadUncowedParents(v: Vma | null): boolean {
  return v !== null && v.anonVma !== null && v.anonForked;
}

export function isMergeableVma(vmg: Vmg, tgt: Vma): boolean {
  if (((tgt.flags ^ vmg.flags) & ~VM_SOFTDIRTY) !== 0) return false;
  return tgt.file === vmg.file;
}

export function isMergeableAnonVma(vmg: Vmg, tgt: Vma): boolean {
  const tgtAnon = tgt.anonVma;
  const srcAnon = vmg.anonVma;
  if (!tgtAnon && srcAnon) return !hadUncowedParents(vmg.middle);
  if (tgtAnon && !srcAnon) return !hadUncowedParents(tgt);
  return srcAnon === tgtAnon;
}

/** can_merge_remove_vma(): a VMA whose vm_ops has close is never deleted by a merge. */
export function canMergeRemove(v: Vma): boolean {
  return !(v.file && v.file.vmOps);
}

export function canMergeBefore(vmg: Vmg): boolean {
  const next = vmg.next!;
  const pglen = (vmg.end - vmg.start) / PAGE;
  return isMergeableVma(vmg, next) && isMergeableAnonVma(vmg, next)
    && next.pgoff === vmg.pgoff + pglen;
}

export function canMergeAfter(vmg: Vmg): boolean {
  const prev = vmg.prev!;
  return isMergeableVma(vmg, prev) && isMergeableAnonVma(vmg, prev)
    && prev.pgoff + prev.pages === vmg.pgoff;
}

export function canMergeLeft(vmg: Vmg): boolean {
  return vmg.prev !== null && vmg.prev.end === vmg.start && canMergeAfter(vmg);
}

export function canMergeRight(vmg: Vmg, canLeft: boolean): boolean {
  const next = vmg.next;
  if (!next || vmg.end !== next.start || !canMergeBefore(vmg)) return false;
  if (!canLeft) return true;
  const prev = vmg.prev!;
  return !prev.anonVma || !next.anonVma || prev.anonVma === next.anonVma;
}

/** dup_anon_vma(): dst takes src's anon_vma when it has none. */
export function dupAnonVma(dst: Vma, src: Vma | null): void {
  if (src && src.anonVma && !dst.anonVma) {
    dst.anonVma = src.anonVma;
    dst.anonForked = src.anonForked;
  }
}

/** vma_merge_new_range(): merges a new range [start, end) into prev and/or next. */
export function vmaMergeNewRange(mm: AddressSpace, vmg: Vmg): Vma | null {
  const { prev, next } = vmg;
  if ((vmg.flags & VM_SPECIAL) || (!prev && !next)) return null;
  const canLeft = canMergeLeft(vmg);
  const canRight = !vmg.justExpand && canMergeRight(vmg, canLeft);
  let target: Vma | null = null;
  let start = vmg.start, end = vmg.end, pgoff = vmg.pgoff;
  if (canRight) { end = next!.end; target = next; }
  if (canLeft) {
    start = prev!.start; target = prev; pgoff = prev!.pgoff;
    if (canRight && !canMergeRemove(next!)) end = vmg.end;
  }
  if (!target) return null;
  // vma_expand()
  const removeNext = next !== null && target !== next && end === next.end;
  if (removeNext) dupAnonVma(target, next);
  if (vmg.copiedFrom) dupAnonVma(target, vmg.copiedFrom);
  if (removeNext) {
    movePtes(next!, target, next!.pgoff, next!.pgoff + next!.pages);
    mm.dropMergedVma(next!);
  }
  mm.tree.setRange(target, start, end);
  target.pgoff = pgoff;
  return target;
}

/** vma_merge_existing_range(): a flag change on [start, end) of vmg.middle may merge it with its neighbours. */
export function vmaMergeExistingRange(mm: AddressSpace, vmg: Vmg): Vma | null {
  const middle = vmg.middle!;
  const prev = vmg.prev;
  const start = vmg.start, end = vmg.end;
  const leftSide = start === middle.start;
  const rightSide = end === middle.end;
  if ((vmg.flags & VM_SPECIAL) || (!leftSide && !rightSide)) return null;
  const mergeLeft0 = leftSide ? canMergeLeft(vmg) : false;
  let next: Vma | null = null;
  let mergeRight = false;
  if (rightSide) {
    next = vmg.next = middle.next;
    mergeRight = canMergeRight(vmg, mergeLeft0);
  }
  const mergeLeft = mergeLeft0;
  if (!mergeLeft && !mergeRight) return null;
  let mergeBoth = mergeLeft && mergeRight;
  const removeMiddle = leftSide && rightSide;
  if (removeMiddle && !canMergeRemove(middle)) return null;
  let removeNext = mergeBoth;
  if (removeNext && !canMergeRemove(next!)) {
    removeNext = false; mergeRight = false; mergeBoth = false;
  }
  const pglen = (end - start) / PAGE;
  if (mergeBoth) {
    const p = prev!, n = next!;
    dupAnonVma(p, n.anonVma ? n : middle);
    movePtes(middle, p, middle.pgoff, middle.pgoff + middle.pages);
    movePtes(n, p, n.pgoff, n.pgoff + n.pages);
    const newEnd = n.end;
    mm.dropMergedVma(middle);
    mm.dropMergedVma(n);
    mm.tree.setRange(p, p.start, newEnd);
    return p;
  }
  if (mergeLeft) {
    const p = prev!;
    dupAnonVma(p, middle);
    movePtes(middle, p, middle.linear(start), middle.linear(end));
    if (removeMiddle) {
      mm.dropMergedVma(middle);
    } else {
      middle.pgoff = middle.linear(end);
      mm.tree.setRange(middle, end, middle.end);
    }
    mm.tree.setRange(p, p.start, end);
    return p;
  }
  // merge right
  const n = next!;
  dupAnonVma(n, middle);
  movePtes(middle, n, middle.linear(start), middle.linear(end));
  if (removeMiddle) {
    mm.dropMergedVma(middle);
  } else {
    mm.tree.setRange(middle, middle.start, start);
  }
  mm.tree.setRange(n, start, n.end);
  n.pgoff = n.pgoff - pglen;
  return n;
}

/** vma_modify(): merge, or split off the parts outside [start, end). */
export function vmaModify(mm: AddressSpace, vmg: Vmg, caller: MmCaller): Vma | number {
  const merged = vmaMergeExistingRange(mm, vmg);
  if (merged) return merged;
  const vma = vmg.middle!;
  if (vma.start < vmg.start) {
    const r = splitVma(mm, vma, vmg.start, true, caller);
    if (typeof r === 'number') return r;
  }
  if (vma.end > vmg.end) {
    const r = splitVma(mm, vma, vmg.end, false, caller);
    if (typeof r === 'number') return r;
  }
  return vma;
}

/** vma_modify_flags(). */
export function vmaModifyFlags(mm: AddressSpace, vma: Vma, start: number, end: number, newFlags: number, caller: MmCaller): Vma | number {
  const prev = start > vma.start ? vma : vma.prev;
  return vmaModify(mm, {
    prev, next: null, middle: vma, start, end, flags: vmFlags(newFlags), pgoff: vma.linear(start),
    file: vma.file, anonVma: vma.anonVma, copiedFrom: null, justExpand: false,
  }, caller);
}
