/**
 * struct mm_struct: one process's address space, with the system calls that
 * change it (mmap, munmap, mprotect, mremap, madvise), fork (dup_mmap), exit
 * (exit_mmap), memory accesses with their page faults, and the statistics
 * procfs shows. It mirrors Linux 6.18 on x86_64 (4-level paging, ASLR off):
 * mm/mmap.c, mm/vma.c, mm/mprotect.c, mm/mremap.c, mm/madvise.c,
 * mm/memory.c, mm/gup.c, kernel/fork.c and arch/x86/kernel/sys_x86_64.c.
 *
 * System-call entry points take the raw 64-bit arguments as bigint (size_t,
 * addresses, unsigned long) and C ints as numbers, and return a number: the
 * result (>= 0) or a negative errno. They never throw for guest input.
 *
 * This file holds the state (the class), the lookups, the PTE books and the
 * statistics; the work of each system call is a free function over the
 * AddressSpace in the file of its Linux source: mmap.ts, placement.ts,
 * munmap.ts, vma-merge.ts, mprotect.ts, mremap.ts, madvise.ts, fault.ts,
 * access.ts and fork.ts (which import the class as a type only). The public
 * methods call them directly.
 */
import { MMAP_BASE, RLIMIT_STACK_DEFAULT } from '../abi/constants.js';
import type { PageAllocator } from './page-allocator.js';
import { VmaTree } from './vma-tree.js';
import {
  AnonPage, Vma, type MappedFile, type MmCaller, type PteOwner, VM_ACCOUNT, VM_EXEC, VM_LOCKED, VM_MAYEXEC,
  VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_SHARED, VM_STACK, VM_WRITE,
} from './vma.js';
import { PAGE, PMD_SIZE, PUD_SIZE, P4D_SIZE, TASK_SIZE_N, ZERO_PAGE, pageDown, keysIn, filePtesOf } from './internal.js';
import { readN, writeN, fillN, read, write, fill } from './access.js';
import { tryFork, teardown } from './fork.js';
import { madvise } from './madvise.js';
import { mmap, mmapAnon } from './mmap.js';
import { mprotect } from './mprotect.js';
import { mremap } from './mremap.js';
import { munmap, unmapRange, unmapVma } from './munmap.js';
import { getUnmappedArea } from './placement.js';

export { EOPNOTSUPP } from './internal.js';
export { ShmemFile, createShmemFile, type ShmemFileOptions } from './shmem-file.js';

/** Result of read/write/fill (the shape of the scenario backend's AccessResult). */
export interface AccessResult {
  /** Bytes read before the access stopped (empty for writes). */
  data: Uint8Array;
  /** The signal and the offset from the start address of the first byte that could not be accessed. */
  fault?: { signal: 'SIGSEGV' | 'SIGBUS'; offset: bigint };
}

export interface AddressSpaceOptions {
  /** mm->mmap_base (0x7ffff7fff000). */
  mmapBase?: number;
  /** Create a "[stack]" VM_GROWSDOWN VMA ending at TASK_SIZE (132 KiB like a fresh process); default false. */
  stack?: boolean;
  /** RLIMIT_STACK in bytes (8 MiB). */
  rlimitStack?: number;
  /** Align anonymous private mappings of a multiple of 2 MiB to 2 MiB (CONFIG_TRANSPARENT_HUGEPAGE); default true. */
  thpAlign?: boolean;
}

/** Per-VMA statistics for smaps. */
export interface SmapsStats {
  rss: number; pss: number; pssDirty: number; pssAnon: number; pssFile: number; pssShmem: number;
  sharedClean: number; sharedDirty: number; privateClean: number; privateDirty: number;
  referenced: number; anonymous: number; lazyFree: number; locked: number;
}

/** Memory statistics of /proc/PID/status and statm, in pages. */
export interface MmStats {
  totalVm: number; hiwaterVm: number; lockedVm: number; pinnedVm: number;
  rssAnon: number; rssFile: number; rssShmem: number; hiwaterRss: number;
  dataVm: number; stackVm: number; execVm: number; textPages: number; libPages: number;
  pteBytes: number; swapPages: number; mapCount: number;
}
export class AddressSpace implements PteOwner {
  readonly allocator: PageAllocator;
  readonly tree = new VmaTree();
  readonly mmapBase: number;
  readonly taskSize = TASK_SIZE_N;
  /** mmap_legacy_base (bottom-up fallback): TASK_UNMAPPED_BASE with ASLR off. */
  readonly mmapLegacyBase: number;
  readonly rlimitStack: number;
  readonly thpAlign: boolean;
  /** mm->start_stack (0 without a stack). */
  startStack = 0;
  /** mm->locked_vm, pages. */
  lockedVm = 0;
  hiwaterVm = 0;
  hiwaterRss = 0;
  rssAnon = 0;
  rssShmem = 0;
  /** @internal */
  dead = false;
  /** One-entry VMA cache for accesses. @internal */
  lastVma: Vma | null = null;
  /** Bytes do_mmap() asks its caller to populate (its *populate out-parameter); 0 otherwise. @internal */
  populateLen = 0;

  constructor(allocator: PageAllocator, opts: AddressSpaceOptions = {}) {
    this.allocator = allocator;
    this.mmapBase = opts.mmapBase ?? Number(MMAP_BASE);
    this.rlimitStack = opts.rlimitStack ?? Number(RLIMIT_STACK_DEFAULT);
    this.thpAlign = opts.thpAlign ?? true;
    this.mmapLegacyBase = pageDown(Math.floor(TASK_SIZE_N / 3) + PAGE - 1);
    if (opts.stack) {
      const end = TASK_SIZE_N;
      const start = end - 33 * PAGE;
      const v = new Vma(start, end, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_STACK | VM_ACCOUNT, start / PAGE, null);
      allocator.acctMemory(v.pages);
      this.tree.insert(v);
      this.startStack = end - PAGE;
    }
  }

  // ---------------------------------------------------------------- lookups

  /** vm.max_map_count. */
  get maxMapCount(): number { return this.allocator.sysctl.maxMapCount; }
  /** mm->map_count. */
  get mapCount(): number { return this.tree.size; }

  /** find_vma(): the first VMA whose end is above addr, or null. */
  findVma(addr: number): Vma | null { return this.tree.find(addr); }
  /** vma_lookup(): the VMA containing addr, or null. */
  lookupVma(addr: number): Vma | null { return this.tree.lookup(addr); }
  /** VMAs in address order, starting at the first VMA whose end is above addr. */
  vmasFrom(addr: number): IterableIterator<Vma> { return this.tree.from(addr); }
  /** Every VMA in address order. */
  vmas(): Vma[] { return this.tree.toArray(); }

  // ------------------------------------------------------------- PTE books

  private anonMap(vma: Vma): Map<number, AnonPage> {
    return vma.anonPages ?? (vma.anonPages = new Map());
  }


  /** @internal */
  installAnon(vma: Vma, lin: number, page: AnonPage): void {
    this.anonMap(vma).set(lin, page);
    this.rssAnon++;
  }

  /** @internal */
  dropAnonPage(page: AnonPage): void {
    if (--page.mapcount === 0) this.allocator.free(1);
    if (page.mapcount < 0) throw new Error('AnonPage mapcount underflow');
  }

  private removeAnon(vma: Vma, lin: number): void {
    const page = vma.anonPages!.get(lin)!;
    vma.anonPages!.delete(lin);
    this.noteRssDrop();
    this.rssAnon--;
    this.dropAnonPage(page);
  }

  /** @internal */
  installFile(vma: Vma, idx: number, dirty: boolean): void {
    const ptes = filePtesOf(vma, this);
    if (ptes.set(idx, dirty)) {
      vma.file!.cache.incMapcount(idx);
      this.rssShmem++;
    }
  }

  /** @internal */
  removeFile(vma: Vma, idx: number): void {
    const dirty = vma.filePtes!.delete(idx);
    const cache = vma.file!.cache;
    if (dirty) cache.markDirty(idx);
    cache.decMapcount(idx);
    this.noteRssDrop();
    this.rssShmem--;
  }

  private noteRssDrop(): void {
    const rss = this.rssAnon + this.rssShmem;
    if (rss > this.hiwaterRss) this.hiwaterRss = rss;
  }

  /** @internal */
  noteVmDrop(): void {
    const t = this.totalVmPages();
    if (t > this.hiwaterVm) this.hiwaterVm = t;
  }

  /** zap_page_range_single(): drops the PTEs of [start, end) of a VMA. @internal */
  zapRange(vma: Vma, start: number, end: number): void {
    if (!vma.anonPages?.size && !vma.filePtes?.size) return;
    const lo = vma.linear(start);
    const hi = vma.linear(end);
    for (const k of keysIn(vma.anonPages, lo, hi)) this.removeAnon(vma, k);
    if (vma.filePtes) for (const k of vma.filePtes.keysIn(lo, hi)) this.removeFile(vma, k);
  }

  /** PteOwner: the file's reverse map drops this VMA's PTEs of file pages [first, last) (zap_page_range_single). */
  zapFilePtes(vma: Vma, first: number, last: number): void {
    const lo = Math.max(first, vma.pgoff);
    const hi = Math.min(last, vma.pgoff + vma.pages);
    if (lo >= hi || !vma.filePtes) return;
    for (const k of vma.filePtes.keysIn(lo, hi)) this.removeFile(vma, k);
  }

  /** Takes a VMA off its file's reverse map, if it is on it (it is once it has file PTEs: filePtesOf). */
  private unregisterMapper(vma: Vma): void {
    if (vma.owner !== null) vma.file!.cache.unlinkMapper(vma);
  }

  /** Links a new VMA (vma_link). It joins its file's reverse map with its first PTE (filePtesOf). @internal */
  linkVma(vma: Vma): void {
    this.tree.insert(vma);
  }

  /** Frees a VMA that was already closed and unlinked from the tree (remove_vma after close). @internal */
  freeVma(vma: Vma): void {
    this.zapRange(vma, vma.start, vma.end);
    this.unregisterMapper(vma);
    if (vma.file) vma.file.put?.();
    if (this.lastVma === vma) this.lastVma = null;
  }

  /** Unlinks a VMA merged away (its pages were moved to the survivor first). @internal */
  dropMergedVma(vma: Vma): void {
    if (vma.anonCount || vma.fileCount) throw new Error('dropMergedVma: VMA still maps pages');
    this.tree.remove(vma);
    this.unregisterMapper(vma);
    if (vma.file) vma.file.put?.();
    if (this.lastVma === vma) this.lastVma = null;
  }

  // ------------------------------------------------------------- unmapping
  // (munmap.ts)

  /**
   * munmap(2) (__vm_munmap -> do_vmi_munmap): an unaligned start, a range
   * reaching beyond TASK_SIZE or an empty length is EINVAL. A bigint word is
   * at least 2^53, so always beyond TASK_SIZE.
   */
  munmap(addrIn: number | bigint, lenIn: number | bigint, caller: MmCaller): number {
    return munmap(this, addrIn, lenIn, caller);
  }

  /** do_munmap() of exactly [start, end), page aligned bounds of VMAs. Returns 0 or a negative errno. */
  unmapRange(start: number, end: number, caller: MmCaller): number {
    return unmapRange(this, start, end, caller);
  }

  /**
   * do_munmap(mm, vma->vm_start, vma->vm_end - vma->vm_start) of one VMA of
   * this address space (shmdt): the range is the VMA, so nothing splits and
   * the gather is the VMA itself.
   */
  unmapVma(vma: Vma, caller: MmCaller): void {
    unmapVma(this, vma, caller);
  }

  // ------------------------------------------------------------- placement
  // (placement.ts)

  /**
   * __get_unmapped_area(): returns the address or a negative errno. `addr`
   * and `len` are numbers (len page aligned and <= 2^53).
   */
  getUnmappedArea(file: MappedFile | null, addr: number, len: number, flags: number, caller: MmCaller): number {
    return getUnmappedArea(this, file, addr, len, flags, caller);
  }

  // ------------------------------------------------------------------- mmap
  // (mmap.ts)

  /**
   * mmap(2) (ksys_mmap_pgoff + vm_mmap_pgoff + do_mmap). `file` is used when
   * MAP_ANONYMOUS is not given (fd -1 without a file gives EBADF); `pgoff` is
   * the file offset in pages. The 64-bit arguments may be numbers or bigints
   * (reduced modulo 2^64); see abi/word.ts.
   */
  mmap(addrIn: number | bigint, lenIn: number | bigint, prot: number, flags: number, file: MappedFile | null,
    pgoffIn: number | bigint, caller: MmCaller): number {
    return mmap(this, addrIn, lenIn, prot, flags, file, pgoffIn, caller);
  }

  /**
   * mmap(2) with fd -1 and a byte offset, as the x86_64 system call takes it:
   * an offset that is not page aligned is EINVAL; without MAP_ANONYMOUS the
   * missing file descriptor is EBADF.
   */
  mmapAnon(addr: number | bigint, len: number | bigint, prot: number, flags: number, offsetIn: number | bigint, caller: MmCaller): number {
    return mmapAnon(this, addr, len, prot, flags, offsetIn, caller);
  }

  // --------------------------------------------------------- access walk
  //
  // The CPU's loads and stores. The walk is number-only and allocates
  // nothing on its common path (an address below TASK_SIZE, pages already
  // known): the kernel's raw read/write/fill call it once per access.
  // (access.ts; the faults are in fault.ts)

  /** The signal of the fault that stopped the last short readN/writeN/fillN. */
  accessSignal: 'SIGSEGV' | 'SIGBUS' = 'SIGSEGV';
  /** Where the page of the last successful faultPage() is: its bytes and the page's offset in them. @internal */
  pgBytes: Uint8Array = ZERO_PAGE;
  /** @internal */
  pgOff = 0;
  /** The destination of the read walk in progress (grown as it goes). @internal */
  readBuf: Uint8Array = ZERO_PAGE;

  /**
   * Reads up to `len` bytes at `addr` (an integer >= 0; `len` >= 0, any
   * size) in ascending order, stopping at the first byte the process cannot
   * read. Returns the bytes read: fewer than `len` means the byte at that
   * offset faulted, with `accessSignal`.
   */
  readN(addr: number, len: number): Uint8Array {
    return readN(this, addr, len);
  }

  /**
   * Writes src[srcOff, srcOff + len) at `addr` (an integer >= 0) in
   * ascending order, stopping at the first fault. Returns the number of
   * bytes written: fewer than `len` means the byte at that offset faulted,
   * with `accessSignal`.
   */
  writeN(addr: number, src: Uint8Array, srcOff: number, len: number): number {
    return writeN(this, addr, src, srcOff, len);
  }

  /** Writes `len` (any size) copies of `byte` at `addr`, like writeN. */
  fillN(addr: number, len: number, byte: number): number {
    return fillN(this, addr, len, byte);
  }

  /** Reads len bytes at addr in ascending order, stopping at the first fault. */
  read(addr: number | bigint, len: number | bigint, caller?: MmCaller): AccessResult {
    return read(this, addr, len, caller);
  }

  /** Writes bytes at addr in ascending order, stopping at the first fault. */
  write(addr: number | bigint, bytes: Uint8Array, caller?: MmCaller): AccessResult {
    return write(this, addr, bytes, caller);
  }

  /** Writes len copies of byte at addr in ascending order, stopping at the first fault. */
  fill(addr: number | bigint, len: number | bigint, byte: number, caller?: MmCaller): AccessResult {
    return fill(this, addr, len, byte, caller);
  }

  // -------------------------------------------------------------- mprotect
  // (mprotect.ts)

  /** mprotect(2) (do_mprotect_pkey with pkey -1). */
  mprotect(startB: bigint, lenB: bigint, prot: number, caller: MmCaller): number {
    return mprotect(this, startB, lenB, prot, caller);
  }

  // ---------------------------------------------------------------- mremap
  // (mremap.ts)

  /** mremap(2). `newAddr` is only used with MREMAP_FIXED or MREMAP_DONTUNMAP. */
  mremap(addrB: bigint, oldLenB: bigint, newLenB: bigint, flagsIn: number | bigint, newAddrB: bigint, caller: MmCaller): number {
    return mremap(this, addrB, oldLenB, newLenB, flagsIn, newAddrB, caller);
  }

  // --------------------------------------------------------------- madvise
  // (madvise.ts)

  /** madvise(2). */
  madvise(startB: bigint, lenB: bigint, advice: number, caller: MmCaller): number {
    return madvise(this, startB, lenB, advice, caller);
  }

  // ----------------------------------------------------------- fork / exit
  // (fork.ts)

  /** dup_mmap(): the child's address space, or a negative errno (overcommit). */
  tryFork(caller: MmCaller): AddressSpace | number {
    const child = new AddressSpace(this.allocator, {
      mmapBase: this.mmapBase, rlimitStack: this.rlimitStack, thpAlign: this.thpAlign,
    });
    return tryFork(this, child, caller);
  }

  /** fork(): dup_mmap(); hooks run in the parent's (caller's) context. */
  fork(caller: MmCaller): AddressSpace {
    const r = this.tryFork(caller);
    if (typeof r === 'number') throw new Error(`fork: dup_mmap failed with errno ${-r}`);
    return r;
  }

  /** exit_mmap(): unmaps everything; close hooks run for every VMA, in address order. */
  teardown(caller: MmCaller): void {
    teardown(this, caller);
  }

  // ------------------------------------------------------------- statistics

  /** mm->total_vm. */
  totalVmPages(): number {
    return this.tree.totalBytes / PAGE;
  }

  /** The memory statistics of /proc/PID/status and statm. */
  stats(): MmStats {
    let total = 0, data = 0, stack = 0, exec = 0;
    const pmds = new Set<number>(), puds = new Set<number>(), p4ds = new Set<number>();
    for (const v of this.tree) {
      const p = v.pages;
      total += p;
      const f = v.flags;
      if ((f & (VM_EXEC | VM_WRITE | VM_STACK)) === VM_EXEC) exec += p;
      else if ((f & VM_STACK) === VM_STACK) stack += p;
      else if ((f & (VM_WRITE | VM_SHARED | VM_STACK)) === VM_WRITE) data += p;
      const note = (lin: number) => {
        const a = v.start + (lin - v.pgoff) * PAGE;
        pmds.add(Math.floor(a / PMD_SIZE)); puds.add(Math.floor(a / PUD_SIZE)); p4ds.add(Math.floor(a / P4D_SIZE));
      };
      if (v.anonPages) for (const k of v.anonPages.keys()) note(k);
      if (v.filePtes) for (const k of v.filePtes.keys()) note(k);
    }
    const rss = this.rssAnon + this.rssShmem;
    return {
      totalVm: total, hiwaterVm: Math.max(this.hiwaterVm, total), lockedVm: this.lockedVm, pinnedVm: 0,
      rssAnon: this.rssAnon, rssFile: 0, rssShmem: this.rssShmem, hiwaterRss: Math.max(this.hiwaterRss, rss),
      dataVm: data, stackVm: stack, execVm: exec, textPages: 0, libPages: exec,
      pteBytes: (pmds.size + puds.size + p4ds.size) * PAGE, swapPages: 0, mapCount: this.mapCount,
    };
  }

  /** Per-VMA smaps figures, in bytes (Pss with the kernel's fixed point, rounded down). */
  smaps(vma: Vma): SmapsStats {
    const PSS_SHIFT = 12n;
    let rss = 0, anonymous = 0, lazyFree = 0, sc = 0, sd = 0, pc = 0, pd = 0;
    let pss = 0n, pssDirty = 0n, pssAnon = 0n, pssShmem = 0n;
    const full = BigInt(PAGE) << PSS_SHIFT;
    const acc = (mapcount: number, dirty: boolean, anon: boolean) => {
      const p = mapcount >= 2 ? full / BigInt(mapcount) : full;
      pss += p;
      if (anon) pssAnon += p; else pssShmem += p;
      const priv = mapcount < 2;
      if (dirty) { pssDirty += p; if (priv) pd += PAGE; else sd += PAGE; } else if (priv) pc += PAGE; else sc += PAGE;
    };
    if (vma.anonPages) {
      for (const p of vma.anonPages.values()) {
        rss += PAGE; anonymous += PAGE;
        if (p.lazyFree && !p.dirty) lazyFree += PAGE;
        acc(p.mapcount, p.dirty, true);
      }
    }
    if (vma.filePtes && vma.file) {
      const cache = vma.file.cache;
      const ptes = vma.filePtes;
      for (const k of ptes.keys()) {
        rss += PAGE;
        acc(cache.mapcount(k), ptes.isDirty(k) || cache.isDirty(k), false);
      }
    }
    const toBytes = (x: bigint) => Number(x >> PSS_SHIFT);
    return {
      rss, pss: toBytes(pss), pssDirty: toBytes(pssDirty), pssAnon: toBytes(pssAnon), pssFile: 0,
      pssShmem: toBytes(pssShmem), sharedClean: sc, sharedDirty: sd, privateClean: pc, privateDirty: pd,
      referenced: rss, anonymous, lazyFree, locked: (vma.flags & VM_LOCKED) ? rss : 0,
    };
  }

  /** Whether exit_mmap ran. */
  get isDead(): boolean { return this.dead; }
}
