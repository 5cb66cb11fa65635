/**
 * fork and exit of an address space: kernel/fork.c dup_mmap and
 * mm/mmap.c exit_mmap. Free functions over the AddressSpace.
 */
import type { AddressSpace } from './address-space.js';
import {
  AnonVma, Vma, type MmCaller, VM_ACCOUNT, VM_COPY_ON_FORK, VM_DONTCOPY, VM_LOCKED_MASK, VM_SHARED, VM_WIPEONFORK,
} from './vma.js';
import { ENOMEM, CAP_SYS_ADMIN } from './internal.js';

/**
 * dup_mmap(): the child's address space, or a negative errno (overcommit).
 * `child` is the fresh address space AddressSpace.tryFork made for it (as
 * dup_mm() allocates the new mm before dup_mmap() fills it).
 */
export function tryFork(mm: AddressSpace, child: AddressSpace, caller: MmCaller): AddressSpace | number {
  child.startStack = mm.startStack;
  child.hiwaterVm = mm.hiwaterVm;
  child.hiwaterRss = mm.hiwaterRss;
  // The copies, in address order: linked into the child's tree in one
  // O(n) pass at the end (or before the teardown of a failed fork).
  const copies: Vma[] = [];
  for (let mp = mm.tree.first; mp; mp = mp.next) {
    if (mp.flags & VM_DONTCOPY) continue;
    if (mp.flags & VM_ACCOUNT) {
      if (mm.allocator.vmEnoughMemory(mp.pages, caller.capable(CAP_SYS_ADMIN), mm.totalVmPages())) {
        child.tree.buildSorted(copies);
        teardown(child, caller);
        return ENOMEM;
      }
    }
    const t = new Vma(mp.start, mp.end, mp.flags & ~VM_LOCKED_MASK, mp.pgoff, mp.file);
    const wipe = (mp.flags & VM_WIPEONFORK) !== 0;
    if (!wipe && mp.anonVma) { t.anonVma = new AnonVma(); t.anonForked = true; }
    copies.push(t);
    if (t.file) t.file.get?.();
    if (t.file?.vmOps) t.file.vmOps.open(t, caller);
    // Guard markers are inherited, also by file mappings (observed on 6.18).
    if (!wipe && mp.guards?.size) t.guards = mp.guards.clone();
    // copy_page_range() when vma_needs_copy().
    if (!wipe && ((mp.flags & VM_COPY_ON_FORK) || mp.anonVma)) {
      if (mp.anonPages) {
        for (const [k, p] of mp.anonPages) { p.mapcount++; child.installAnon(t, k, p); }
      }
      if (mp.filePtes) {
        const shared = (mp.flags & VM_SHARED) !== 0;
        const ptes = mp.filePtes;
        for (const k of ptes.keys()) child.installFile(t, k, !shared && ptes.isDirty(k));
      }

    }
  }
  child.tree.buildSorted(copies);
  return child;
}

/** exit_mmap(): unmaps everything; close hooks run for every VMA, in address order. */
export function teardown(mm: AddressSpace, caller: MmCaller): void {
  if (mm.dead) return;
  mm.noteVmDrop();
  let accounted = 0;
  // Two walks of the VMA chain, which nothing below changes (the close
  // hooks and freeVma touch the reverse map, not the tree; it goes as a
  // whole after), without an array of them: every PTE is gone before the
  // first close, as unmap_vmas() precedes remove_vma() in exit_mmap().
  const first = mm.tree.first;
  for (let v = first; v; v = v.next) mm.zapRange(v, v.start, v.end);
  for (let v = first; v; v = v.next) {
    if (v.flags & VM_ACCOUNT) accounted += v.pages;
    if (v.file?.vmOps) v.file.vmOps.close(v, caller);
    mm.freeVma(v);
  }
  // remove_vma() of every VMA: the tree goes as a whole.
  mm.tree.clear();
  if (accounted) mm.allocator.unacctMemory(accounted);
  mm.lockedVm = 0;
  mm.dead = true;
}
