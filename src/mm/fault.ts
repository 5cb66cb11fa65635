/**
 * Page faults (mm/memory.c handle_mm_fault: do_anonymous_page,
 * do_shared_fault, do_wp_page), mm/rmap.c anon_vma_prepare and
 * mm/mmap.c expand_downwards (stack growth). Free functions over the
 * AddressSpace.
 */
import type { AddressSpace } from './address-space.js';
import {
  AnonPage, AnonVma, Vma, VM_ACCESS_FLAGS, VM_ACCOUNT, VM_GROWSDOWN, VM_LOCKED, VM_SHARED, VM_SOFTDIRTY,
} from './vma.js';
import { PAGE, STACK_GUARD_GAP, ZERO_PAGE, pageDown } from './internal.js';

/** anon_vma_prepare() / find_mergeable_anon_vma(). */
export function anonVmaPrepare(mm: AddressSpace, vma: Vma): void {
  if (vma.anonVma) return;
  const compatible = (a: Vma, b: Vma) => a.end === b.start && a.file === b.file
    && ((a.flags ^ b.flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) === 0
    && b.pgoff === a.pgoff + (b.start - a.start) / PAGE;
  const reusable = (old: Vma, a: Vma, b: Vma) => (compatible(a, b) && old.anonVma && !old.anonForked ? old.anonVma : null);
  let av: AnonVma | null = null;
  const next = vma.next;
  if (next && next.start === vma.end) av = reusable(next, vma, next);
  if (!av && vma.prev) av = reusable(vma.prev, vma.prev, vma);
  vma.anonVma = av ?? new AnonVma();
  vma.anonForked = false;
}

/**
 * Handles a fault on the page at pageAddr of vma (handle_mm_fault). The
 * access permission was checked by the caller unless `force`. Returns 0, 1
 * (SIGSEGV) or 2 (SIGBUS); on success the page is mapped, and pgBytes /
 * pgOff say where its bytes are for the access that faulted (the PTE's
 * page frame: the access walk needs no second lookup). A write says which
 * bytes of the page it will store to, [from, to) (the whole page unless
 * told), for the page cache's written extent.
 */
export function faultPage(mm: AddressSpace, vma: Vma, pageAddr: number, write: boolean, force = false, from = 0, to = PAGE): number {
  void force;
  const lin = vma.linear(pageAddr);
  if (vma.guards?.has(lin)) return 1;
  const file = vma.file;
  if (write) {
    if (vma.flags & VM_SHARED) {
      if (lin >= file!.sizePages) return 2;
      // do_shared_fault() / wp_page_shared(): the PTE becomes writable and
      // dirty, and fault_dirty_shared_page() marks the folio dirty
      // (folio_mark_dirty), which every other mapping of the page sees in
      // smaps (Shared_Dirty / Private_Dirty, Pss_Dirty).
      const cache = file!.cache;
      mm.pgBytes = cache.faultInWrite(lin, from, to);
      mm.pgOff = cache.pageOffset(lin);
      mm.installFile(vma, lin, true);
      return 0;
    }
    const page = vma.anonPages?.get(lin);
    if (page) {
      if (page.mapcount > 1) {
        const copy = new AnonPage(new Uint8Array(page.data));
        mm.allocator.alloc(1);
        vma.anonPages!.set(lin, copy);
        mm.dropAnonPage(page);
        mm.pgBytes = copy.data;
      } else {
        page.dirty = true;
        page.lazyFree = false;
        mm.pgBytes = page.data;
      }
      mm.pgOff = 0;
      return 0;
    }
    anonVmaPrepare(mm, vma);
    let data: Uint8Array | undefined;
    if (file) {
      if (lin >= file.sizePages) return 2;
      const bytes = file.cache.faultIn(lin);
      const off = file.cache.pageOffset(lin);
      data = bytes.slice(off, off + PAGE);
      if (vma.filePtes?.has(lin)) mm.removeFile(vma, lin);
    }
    mm.allocator.alloc(1);
    const fresh = new AnonPage(data);
    mm.installAnon(vma, lin, fresh);
    mm.pgBytes = fresh.data;
    mm.pgOff = 0;
    return 0;
  }
  const ap = vma.anonPages?.get(lin);
  if (ap) {
    mm.pgBytes = ap.data;
    mm.pgOff = 0;
    return 0;
  }
  if (file) {
    if (lin >= file.sizePages) return 2;
    const cache = file.cache;
    mm.pgBytes = cache.faultIn(lin);
    mm.pgOff = cache.pageOffset(lin);
    mm.installFile(vma, lin, false);
    return 0;
  }
  // Private anonymous memory never written: the shared zero page.
  mm.pgBytes = ZERO_PAGE;
  mm.pgOff = 0;
  return 0;
}

/** expand_downwards() for an access below a VM_GROWSDOWN VMA. */
export function expandDownwards(mm: AddressSpace, vma: Vma, address: number): boolean {
  if (!(vma.flags & VM_GROWSDOWN)) return false;
  address = pageDown(address);
  if (address < mm.allocator.effectiveMmapMinAddr) return false;
  const prev = vma.prev;
  if (prev && !(prev.flags & VM_GROWSDOWN) && (prev.flags & VM_ACCESS_FLAGS) && address - prev.end < STACK_GUARD_GAP) return false;
  anonVmaPrepare(mm, vma);
  const grow = (vma.start - address) / PAGE;
  if (grow > vma.pgoff) return false;
  const size = vma.end - address;
  if (size > mm.rlimitStack) return false;
  if ((vma.flags & VM_ACCOUNT) && mm.allocator.vmEnoughMemory(grow, true, mm.totalVmPages())) return false;
  if (vma.flags & VM_LOCKED) mm.lockedVm += grow;
  mm.tree.setRange(vma, address, vma.end);
  vma.pgoff -= grow;
  return true;
}

/** The VMA for an access at addr (with stack growth), or null. */
export function accessVma(mm: AddressSpace, addr: number): Vma | null {
  const c = mm.lastVma;
  if (c && c.start <= addr && addr < c.end && mm.tree.has(c)) return c;
  let v = mm.tree.find(addr);
  if (!v) return null;
  if (v.start > addr) {
    if (!(v.flags & VM_GROWSDOWN) || !expandDownwards(mm, v, addr)) return null;
  }
  mm.lastVma = v;
  return v;
}
