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
 */
import { Errno } from '../abi/errno.js';
import {
  Capability, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN,
  MAP_HUGETLB, MAP_HUGE_MASK, MAP_HUGE_SHIFT, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE,
  MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_SYNC, MAP_TYPE,
  MAP_32BIT, MAP_ABOVE4G, MADV_COLD, MADV_COLLAPSE, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP,
  MADV_DONTFORK, MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_GUARD_INSTALL,
  MADV_GUARD_REMOVE, MADV_HUGEPAGE, MADV_HWPOISON, MADV_KEEPONFORK, MADV_MERGEABLE,
  MADV_NOHUGEPAGE, MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE,
  MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_SOFT_OFFLINE, MADV_UNMERGEABLE,
  MADV_WILLNEED, MADV_WIPEONFORK, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, MMAP_BASE,
  PAGE_SIZE, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE,
  RLIMIT_STACK_DEFAULT, TASK_SIZE,
} from '../abi/constants.js';
import { lowBits, modPow2, word, wordBig, type Word } from '../abi/word.js';
import type { PageAllocator } from './page-allocator.js';
import {
  AnonHugetlbFile, fileHugePageSize, hstateSizelog, hugetlbMaySplit, vmaKernelPageSize,
} from './hugetlb.js';
import { PageCache } from './page-cache.js';
import { VmaTree } from './vma-tree.js';
import { copyBytes, fillBytes } from './bytes.js';
import { FilePtes } from './file-ptes.js';
import {
  AnonPage, AnonVma, PageRangeSet, Vma, vmFlags, type MappedFile, type MmCaller, type PteOwner, type VmaOperations,
  VM_ACCESS_FLAGS, VM_ACCOUNT, VM_COPY_ON_FORK, VM_DONTCOPY, VM_DONTDUMP, VM_DONTEXPAND,
  VM_EXEC, VM_GROWSDOWN, VM_HUGEPAGE, VM_HUGETLB, VM_IO, VM_LOCKED, VM_LOCKED_MASK,
  VM_LOCKONFAULT, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_MERGEABLE,
  VM_MIXEDMAP, VM_NOHUGEPAGE, VM_NORESERVE, VM_PFNMAP, VM_RAND_READ, VM_READ, VM_SEQ_READ,
  VM_SHARED, VM_SOFTDIRTY, VM_SPECIAL, VM_STACK, VM_SYNC, VM_WIPEONFORK, VM_WRITE,
} from './vma.js';

export const EOPNOTSUPP = 95;
const EPERM = -Errno.EPERM;
const EBADF = -Errno.EBADF;
const EAGAIN = -Errno.EAGAIN;
const ENOMEM = -Errno.ENOMEM;
const EACCES = -Errno.EACCES;
const EFAULT = -Errno.EFAULT;
const EEXIST = -Errno.EEXIST;
const EINVAL = -Errno.EINVAL;
const EOVERFLOW = -Errno.EOVERFLOW;

const PAGE = PAGE_SIZE;
const PMD_SIZE = 2 * 1024 * 1024;
const PUD_SIZE = 1024 * 1024 * 1024;
const P4D_SIZE = 512 * PUD_SIZE;
/** stack_guard_gap: 256 pages. */
const STACK_GUARD_GAP = 256 * PAGE;
const U64 = (1n << 64n) - 1n;
const TASK_SIZE_N = Number(TASK_SIZE);
/** MAX_LFS_FILESIZE in pages: the highest file offset a mapping may reach. */
const MAX_LFS_PAGES = 2 ** 51;
/** File offsets (pages) up to which do_mmap's number path is exact. */
const PGOFF_FAST_MAX = 2 ** 40;
const CAP_IPC_LOCK = Capability.CAP_IPC_LOCK;
const CAP_SYS_ADMIN = Capability.CAP_SYS_ADMIN;
const CAP_SYS_RAWIO = Capability.CAP_SYS_RAWIO;
/** Flags of mmap that are not "legacy" (LEGACY_MAP_MASK complement). */
const LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | 0x0800 /* DENYWRITE */
  | 0x1000 /* EXECUTABLE */ | 0x0040 /* 32BIT */ | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE
  | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB;
const ZERO_PAGE = new Uint8Array(PAGE);

function isErr(x: number): boolean { return x < 0; }
function pageAlign64(x: bigint): bigint { return (x + 4095n) & ~4095n & U64; }
function pageDown(x: number): number { return x - modPow2(x, PAGE); }

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

/** Options of a shmem file made by createShmemFile(). */
export interface ShmemFileOptions {
  allocator: PageAllocator;
  sizeBytes: number;
  path: string;
  dev?: string;
  ino?: number;
  vmOps?: VmaOperations | null;
  writable?: boolean;
  readable?: boolean;
  /** Called when the last reference is dropped (after the pages were freed). */
  onRelease?: () => void;
  /** An existing cache to share (a SysV attach file over the segment's pages); it is not destroyed on release. */
  cache?: PageCache;
}

let nextIno = 1024;

/**
 * A shmem file (shmem_file_setup): reference counted by get/put; when the
 * last reference goes, its pages are freed (unless it shares another file's
 * cache) and onRelease runs (e.g. to unaccount its size).
 */
export class ShmemFile implements MappedFile {
  readonly cache: PageCache;
  readonly sizePages: number;
  readonly path: string;
  readonly dev: string;
  readonly ino: number;
  readonly vmOps: VmaOperations | null;
  readonly writable: boolean;
  readonly readable: boolean;
  refs = 0;
  private readonly ownsCache: boolean;
  private readonly onRelease: (() => void) | undefined;

  constructor(o: ShmemFileOptions) {
    this.sizePages = Math.ceil(o.sizeBytes / PAGE);
    this.cache = o.cache ?? new PageCache(o.allocator, this.sizePages);
    this.ownsCache = !o.cache;
    this.path = o.path;
    this.dev = o.dev ?? '00:01';
    this.ino = o.ino ?? nextIno++;
    this.vmOps = o.vmOps ?? null;
    this.writable = o.writable ?? true;
    this.readable = o.readable ?? true;
    this.onRelease = o.onRelease;
  }

  get(): void { this.refs++; }

  put(): void {
    if (--this.refs > 0) return;
    if (this.refs < 0) throw new Error('ShmemFile: reference count underflow');
    if (this.ownsCache) this.cache.destroy();
    this.onRelease?.();
  }
}

/** Makes a shmem file (the factory shm uses for SysV segments and their attach files). */
export function createShmemFile(o: ShmemFileOptions): ShmemFile { return new ShmemFile(o); }

/** The state vma_merge_new_range / vma_merge_existing_range work on (struct vma_merge_struct). */
interface Vmg {
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
  private dead = false;
  /** One-entry VMA cache for accesses. */
  private lastVma: Vma | null = null;
  /** Bytes do_mmap() asks its caller to populate (its *populate out-parameter); 0 otherwise. */
  private populateLen = 0;

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


  private installAnon(vma: Vma, lin: number, page: AnonPage): void {
    this.anonMap(vma).set(lin, page);
    this.rssAnon++;
  }

  private dropAnonPage(page: AnonPage): void {
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

  private installFile(vma: Vma, idx: number, dirty: boolean): void {
    const ptes = vma.filePtes ?? (vma.filePtes = new FilePtes());
    if (ptes.set(idx, dirty)) {
      vma.file!.cache.incMapcount(idx);
      this.rssShmem++;
    }
  }

  private removeFile(vma: Vma, idx: number): void {
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

  private noteVmDrop(): void {
    const t = this.totalVmPages();
    if (t > this.hiwaterVm) this.hiwaterVm = t;
  }

  /** Keys of `m` in [lo, hi), in no particular order (iterating the cheaper side). */
  private static keysIn(m: { size: number; has(k: number): boolean; keys(): IterableIterator<number> } | null, lo: number, hi: number): number[] {
    const out: number[] = [];
    if (!m || m.size === 0 || lo >= hi) return out;
    if (hi - lo <= m.size) {
      for (let k = lo; k < hi; k++) if (m.has(k)) out.push(k);
    } else {
      for (const k of m.keys()) if (k >= lo && k < hi) out.push(k);
    }
    return out;
  }

  /** zap_page_range_single(): drops the PTEs of [start, end) of a VMA. */
  private zapRange(vma: Vma, start: number, end: number): void {
    if (!vma.anonPages?.size && !vma.filePtes?.size) return;
    const lo = vma.linear(start);
    const hi = vma.linear(end);
    for (const k of AddressSpace.keysIn(vma.anonPages, lo, hi)) this.removeAnon(vma, k);
    if (vma.filePtes) for (const k of vma.filePtes.keysIn(lo, hi)) this.removeFile(vma, k);
  }

  /** Moves the PTEs with linear index in [lo, hi) from one VMA to another (split, merge, move). */
  private static movePtes(src: Vma, dst: Vma, lo: number, hi: number): void {
    if (src === dst) return;
    const ks = AddressSpace.keysIn(src.anonPages, lo, hi);
    if (ks.length) {
      const d = dst.anonPages ?? (dst.anonPages = new Map());
      for (const k of ks) { d.set(k, src.anonPages!.get(k)!); src.anonPages!.delete(k); }
    }
    if (src.filePtes?.size) src.filePtes.moveTo(dst.filePtes ?? (dst.filePtes = new FilePtes()), lo, hi);
    if (src.guards?.intersects(lo, hi)) {
      src.guards.moveTo(dst.guards ?? (dst.guards = new PageRangeSet()), lo, hi);
    }
  }

  /** PteOwner: the file's reverse map drops this VMA's PTEs of file pages [first, last) (zap_page_range_single). */
  zapFilePtes(vma: Vma, first: number, last: number): void {
    const lo = Math.max(first, vma.pgoff);
    const hi = Math.min(last, vma.pgoff + vma.pages);
    if (lo >= hi || !vma.filePtes) return;
    for (const k of vma.filePtes.keysIn(lo, hi)) this.removeFile(vma, k);
  }

  private registerMapper(vma: Vma): void {
    if (vma.file) vma.file.cache.linkMapper(vma, this);
  }

  private unregisterMapper(vma: Vma): void {
    if (vma.file) vma.file.cache.unlinkMapper(vma);
  }

  /** Links a new VMA (vma_link): tree, rmap. */
  private linkVma(vma: Vma): void {
    this.tree.insert(vma);
    this.registerMapper(vma);
  }

  /** Frees a VMA that was already closed and unlinked from the tree (remove_vma after close). */
  private freeVma(vma: Vma): void {
    this.zapRange(vma, vma.start, vma.end);
    this.unregisterMapper(vma);
    if (vma.file) vma.file.put?.();
    if (this.lastVma === vma) this.lastVma = null;
  }

  /** Unlinks a VMA merged away (its pages were moved to the survivor first). */
  private dropMergedVma(vma: Vma): void {
    if (vma.anonCount || vma.fileCount) throw new Error('dropMergedVma: VMA still maps pages');
    this.tree.remove(vma);
    this.unregisterMapper(vma);
    if (vma.file) vma.file.put?.();
    if (this.lastVma === vma) this.lastVma = null;
  }

  // ------------------------------------------------------------- split/merge

  /**
   * __split_vma(): splits at addr; the new VMA is the part below addr when
   * newBelow, else the part above. vm_ops->open runs on the new VMA.
   */
  private splitVmaRaw(vma: Vma, addr: number, newBelow: boolean, caller: MmCaller): Vma {
    if (!(vma.start < addr && addr < vma.end)) throw new Error(`splitVma: ${addr.toString(16)} outside ${vma}`);
    const nv = new Vma(0, 0, vma.flags, vma.pgoff, vma.file);
    nv.anonVma = vma.anonVma;
    nv.anonForked = vma.anonForked;
    const cut = vma.linear(addr);
    if (newBelow) {
      nv.start = vma.start; nv.end = addr; nv.pgoff = vma.pgoff;
      AddressSpace.movePtes(vma, nv, vma.pgoff, cut);
      this.tree.setRange(vma, addr, vma.end);
      vma.pgoff = cut;
    } else {
      nv.start = addr; nv.end = vma.end; nv.pgoff = cut;
      AddressSpace.movePtes(vma, nv, cut, vma.linear(vma.end));
      this.tree.setRange(vma, vma.start, addr);
    }
    if (nv.file) nv.file.get?.();
    if (nv.file?.vmOps) nv.file.vmOps.open(nv, caller);
    this.linkVma(nv);
    return nv;
  }

  /** split_vma(): fails with ENOMEM when map_count >= vm.max_map_count. */
  private splitVma(vma: Vma, addr: number, newBelow: boolean, caller: MmCaller): Vma | number {
    if (this.mapCount >= this.maxMapCount) return ENOMEM;
    return this.splitVmaChecked(vma, addr, newBelow, caller);
  }

  /**
   * __split_vma(): asks vm_ops->may_split first. Only hugetlb VMAs (directly
   * or, for SysV, through shm_may_split) refuse: hugetlb_vm_op_split() wants
   * a huge page boundary, else EINVAL.
   */
  private splitVmaChecked(vma: Vma, addr: number, newBelow: boolean, caller: MmCaller): Vma | number {
    const e = hugetlbMaySplit(vma, addr);
    if (e) return e;
    return this.splitVmaRaw(vma, addr, newBelow, caller);
  }

  private static hadUncowedParents(v: Vma | null): boolean {
    return v !== null && v.anonVma !== null && v.anonForked;
  }

  private static isMergeableVma(vmg: Vmg, tgt: Vma): boolean {
    if (((tgt.flags ^ vmg.flags) & ~VM_SOFTDIRTY) !== 0) return false;
    return tgt.file === vmg.file;
  }

  private static isMergeableAnonVma(vmg: Vmg, tgt: Vma): boolean {
    const tgtAnon = tgt.anonVma;
    const srcAnon = vmg.anonVma;
    if (!tgtAnon && srcAnon) return !AddressSpace.hadUncowedParents(vmg.middle);
    if (tgtAnon && !srcAnon) return !AddressSpace.hadUncowedParents(tgt);
    return srcAnon === tgtAnon;
  }

  /** can_merge_remove_vma(): a VMA whose vm_ops has close is never deleted by a merge. */
  private static canMergeRemove(v: Vma): boolean {
    return !(v.file && v.file.vmOps);
  }

  private static canMergeBefore(vmg: Vmg): boolean {
    const next = vmg.next!;
    const pglen = (vmg.end - vmg.start) / PAGE;
    return AddressSpace.isMergeableVma(vmg, next) && AddressSpace.isMergeableAnonVma(vmg, next)
      && next.pgoff === vmg.pgoff + pglen;
  }

  private static canMergeAfter(vmg: Vmg): boolean {
    const prev = vmg.prev!;
    return AddressSpace.isMergeableVma(vmg, prev) && AddressSpace.isMergeableAnonVma(vmg, prev)
      && prev.pgoff + prev.pages === vmg.pgoff;
  }

  private static canMergeLeft(vmg: Vmg): boolean {
    return vmg.prev !== null && vmg.prev.end === vmg.start && AddressSpace.canMergeAfter(vmg);
  }

  private static canMergeRight(vmg: Vmg, canLeft: boolean): boolean {
    const next = vmg.next;
    if (!next || vmg.end !== next.start || !AddressSpace.canMergeBefore(vmg)) return false;
    if (!canLeft) return true;
    const prev = vmg.prev!;
    return !prev.anonVma || !next.anonVma || prev.anonVma === next.anonVma;
  }

  /** dup_anon_vma(): dst takes src's anon_vma when it has none. */
  private static dupAnonVma(dst: Vma, src: Vma | null): void {
    if (src && src.anonVma && !dst.anonVma) {
      dst.anonVma = src.anonVma;
      dst.anonForked = src.anonForked;
    }
  }

  /** vma_merge_new_range(): merges a new range [start, end) into prev and/or next. */
  private vmaMergeNewRange(vmg: Vmg): Vma | null {
    const { prev, next } = vmg;
    if ((vmg.flags & VM_SPECIAL) || (!prev && !next)) return null;
    const canLeft = AddressSpace.canMergeLeft(vmg);
    const canRight = !vmg.justExpand && AddressSpace.canMergeRight(vmg, canLeft);
    let target: Vma | null = null;
    let start = vmg.start, end = vmg.end, pgoff = vmg.pgoff;
    if (canRight) { end = next!.end; target = next; }
    if (canLeft) {
      start = prev!.start; target = prev; pgoff = prev!.pgoff;
      if (canRight && !AddressSpace.canMergeRemove(next!)) end = vmg.end;
    }
    if (!target) return null;
    // vma_expand()
    const removeNext = next !== null && target !== next && end === next.end;
    if (removeNext) AddressSpace.dupAnonVma(target, next);
    if (vmg.copiedFrom) AddressSpace.dupAnonVma(target, vmg.copiedFrom);
    if (removeNext) {
      AddressSpace.movePtes(next!, target, next!.pgoff, next!.pgoff + next!.pages);
      this.dropMergedVma(next!);
    }
    this.tree.setRange(target, start, end);
    target.pgoff = pgoff;
    return target;
  }

  /** vma_merge_existing_range(): a flag change on [start, end) of vmg.middle may merge it with its neighbours. */
  private vmaMergeExistingRange(vmg: Vmg): Vma | null {
    const middle = vmg.middle!;
    const prev = vmg.prev;
    const start = vmg.start, end = vmg.end;
    const leftSide = start === middle.start;
    const rightSide = end === middle.end;
    if ((vmg.flags & VM_SPECIAL) || (!leftSide && !rightSide)) return null;
    const mergeLeft0 = leftSide ? AddressSpace.canMergeLeft(vmg) : false;
    let next: Vma | null = null;
    let mergeRight = false;
    if (rightSide) {
      next = vmg.next = middle.next;
      mergeRight = AddressSpace.canMergeRight(vmg, mergeLeft0);
    }
    const mergeLeft = mergeLeft0;
    if (!mergeLeft && !mergeRight) return null;
    let mergeBoth = mergeLeft && mergeRight;
    const removeMiddle = leftSide && rightSide;
    if (removeMiddle && !AddressSpace.canMergeRemove(middle)) return null;
    let removeNext = mergeBoth;
    if (removeNext && !AddressSpace.canMergeRemove(next!)) {
      removeNext = false; mergeRight = false; mergeBoth = false;
    }
    const pglen = (end - start) / PAGE;
    if (mergeBoth) {
      const p = prev!, n = next!;
      AddressSpace.dupAnonVma(p, n.anonVma ? n : middle);
      AddressSpace.movePtes(middle, p, middle.pgoff, middle.pgoff + middle.pages);
      AddressSpace.movePtes(n, p, n.pgoff, n.pgoff + n.pages);
      const newEnd = n.end;
      this.dropMergedVma(middle);
      this.dropMergedVma(n);
      this.tree.setRange(p, p.start, newEnd);
      return p;
    }
    if (mergeLeft) {
      const p = prev!;
      AddressSpace.dupAnonVma(p, middle);
      AddressSpace.movePtes(middle, p, middle.linear(start), middle.linear(end));
      if (removeMiddle) {
        this.dropMergedVma(middle);
      } else {
        middle.pgoff = middle.linear(end);
        this.tree.setRange(middle, end, middle.end);
      }
      this.tree.setRange(p, p.start, end);
      return p;
    }
    // merge right
    const n = next!;
    AddressSpace.dupAnonVma(n, middle);
    AddressSpace.movePtes(middle, n, middle.linear(start), middle.linear(end));
    if (removeMiddle) {
      this.dropMergedVma(middle);
    } else {
      this.tree.setRange(middle, middle.start, start);
    }
    this.tree.setRange(n, start, n.end);
    n.pgoff = n.pgoff - pglen;
    return n;
  }

  /** vma_modify(): merge, or split off the parts outside [start, end). */
  private vmaModify(vmg: Vmg, caller: MmCaller): Vma | number {
    const merged = this.vmaMergeExistingRange(vmg);
    if (merged) return merged;
    const vma = vmg.middle!;
    if (vma.start < vmg.start) {
      const r = this.splitVma(vma, vmg.start, true, caller);
      if (typeof r === 'number') return r;
    }
    if (vma.end > vmg.end) {
      const r = this.splitVma(vma, vmg.end, false, caller);
      if (typeof r === 'number') return r;
    }
    return vma;
  }

  /** vma_modify_flags(). */
  private vmaModifyFlags(vma: Vma, start: number, end: number, newFlags: number, caller: MmCaller): Vma | number {
    const prev = start > vma.start ? vma : vma.prev;
    return this.vmaModify({
      prev, next: null, middle: vma, start, end, flags: vmFlags(newFlags), pgoff: vma.linear(start),
      file: vma.file, anonVma: vma.anonVma, copiedFrom: null, justExpand: false,
    }, caller);
  }

  // ------------------------------------------------------------- unmapping

  /**
   * vms_gather_munmap_vmas(): splits the VMAs at start and end so that the
   * ones inside [start, end) are exactly `first` to the returned last one
   * (still linked, consecutive in the VMA chain). A failed split (a hugetlb
   * VMA cut off a huge page boundary) returns its errno; a split already
   * done at the start stays, as on Linux (abort_munmap_vmas reattaches the
   * pieces without merging them back).
   */
  private gatherMunmap(first: Vma, start: number, end: number, caller: MmCaller): Vma | number {
    if (start > first.start) {
      if (end < first.end && this.mapCount >= this.maxMapCount) return ENOMEM;
      const r = this.splitVmaChecked(first, start, true, caller);
      if (typeof r === 'number') return r;
    }
    let last = first;
    for (let v: Vma | null = first; v && v.start < end; v = v.next) {
      if (v.end > end) {
        const r = this.splitVmaChecked(v, end, false, caller);
        if (typeof r === 'number') return r;
      }
      last = v;
    }
    return last;
  }

  /** The gathered VMAs first..last (mmap_region keeps them after they leave the chain). */
  private static gathered(first: Vma, last: Vma): Vma[] {
    const out: Vma[] = [];
    for (let v: Vma | null = first; v; v = v === last ? null : v.next) out.push(v);
    return out;
  }

  /**
   * vms_complete_munmap_vmas(): close hooks (vms_clear_ptes), unlink, free
   * pages, unaccount; for the gathered VMAs first..last.
   */
  private completeMunmap(first: Vma, last: Vma, caller: MmCaller): void {
    this.noteVmDrop();
    let accounted = 0;
    for (let v: Vma | null = first; v; v = v === last ? null : v.next) {
      if (v.flags & VM_LOCKED) this.lockedVm -= v.pages;
      if (v.flags & VM_ACCOUNT) accounted += v.pages;
      if (v.file?.vmOps) v.file.vmOps.close(v, caller);
    }
    for (let v: Vma | null = first; v;) {
      const next: Vma | null = v === last ? null : v.next;
      this.tree.remove(v);
      this.freeVma(v);
      v = next;
    }
    if (accounted) this.allocator.unacctMemory(accounted);
  }

  /** do_vmi_munmap() with validated numbers. */
  private doMunmapRange(start: number, end: number, caller: MmCaller): number {
    const first = this.tree.intersection(start, end);
    if (!first) return 0;
    const last = this.gatherMunmap(first, start, end, caller);
    if (typeof last === 'number') return last;
    this.completeMunmap(first, last, caller);
    return 0;
  }

  /**
   * munmap(2) (__vm_munmap -> do_vmi_munmap): an unaligned start, a range
   * reaching beyond TASK_SIZE or an empty length is EINVAL. A bigint word is
   * at least 2^53, so always beyond TASK_SIZE.
   */
  munmap(addrIn: number | bigint, lenIn: number | bigint, caller: MmCaller): number {
    const start = word(addrIn);
    const len = word(lenIn);
    if (typeof start !== 'number' || typeof len !== 'number') return EINVAL;
    if (modPow2(start, PAGE) !== 0 || start > TASK_SIZE_N || len > TASK_SIZE_N - start) return EINVAL;
    if (len === 0) return EINVAL;
    return this.doMunmapRange(start, start + Math.ceil(len / PAGE) * PAGE, caller);
  }

  /** do_munmap() of exactly [start, end), page aligned bounds of VMAs. Returns 0 or a negative errno. */
  unmapRange(start: number, end: number, caller: MmCaller): number {
    if (modPow2(start, PAGE) !== 0 || modPow2(end, PAGE) !== 0 || !(start < end) || end > TASK_SIZE_N) throw new Error(`unmapRange: bad range ${start}-${end}`);
    return this.doMunmapRange(start, end, caller);
  }

  /**
   * do_munmap(mm, vma->vm_start, vma->vm_end - vma->vm_start) of one VMA of
   * this address space (shmdt): the range is the VMA, so nothing splits and
   * the gather is the VMA itself.
   */
  unmapVma(vma: Vma, caller: MmCaller): void {
    if (!this.tree.has(vma)) throw new Error(`unmapVma: ${vma} is not mapped here`);
    this.completeMunmap(vma, vma, caller);
  }

  // ------------------------------------------------------------- placement

  private vmStartGap(v: Vma): number {
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
  private unmappedAreaTopdown(length: number, lowLimit: number, highLimit: number, alignMask = 0): number {
    let low = Math.max(lowLimit, this.allocator.effectiveMmapMinAddr);
    let high = highLimit;
    for (;;) {
      const gapEnd = this.tree.highestGapEnd(length + alignMask, low, high);
      if (gapEnd < 0) return ENOMEM;
      let gap = gapEnd - length;
      // gap -= (gap - align_offset) & align_mask (gap is page aligned, the mask a power of two less a page)
      if (alignMask) gap -= modPow2(gap, alignMask + PAGE);
      const tmp = this.tree.find(gapEnd);
      if (tmp && (tmp.flags & VM_GROWSDOWN)) {
        if (this.vmStartGap(tmp) < gapEnd) { high = this.vmStartGap(tmp); continue; }
      }
      return gap;
    }
  }

  /** unmapped_area() (bottom-up), with info->align_mask as in unmappedAreaTopdown. */
  private unmappedArea(length: number, lowLimit: number, highLimit: number, alignMask = 0): number {
    let low = Math.max(lowLimit, this.allocator.effectiveMmapMinAddr);
    const high = highLimit;
    const searchLen = length + alignMask;
    for (;;) {
      const gs = this.tree.lowestGapStart(searchLen, low, high);
      if (gs < 0) return ENOMEM;
      // gap += (align_offset - gap) & align_mask
      const gap = alignMask ? gs + modPow2(alignMask + PAGE - modPow2(gs, alignMask + PAGE), alignMask + PAGE) : gs;
      const tmp = this.tree.find(gs);
      if (tmp && (tmp.flags & VM_GROWSDOWN)) {
        if (this.vmStartGap(tmp) < gap + searchLen - 1) { low = tmp.end; continue; }
      }
      return gap;
    }
  }

  /** mmap_address_hint_valid(). */
  private static hintValid(addr: number, len: number): boolean {
    if (TASK_SIZE_N - len < addr) return false;
    return (addr > TASK_SIZE_N) === (addr + len > TASK_SIZE_N);
  }

  /**
   * arch_get_unmapped_area() (x86_64 bottom-up, the top-down fallback).
   * `alignMask` is get_align_mask(filp): non-zero only for hugetlb files.
   */
  private archGetUnmappedArea(addr: number, len: number, flags: number, alignMask = 0): number {
    let begin = this.mmapLegacyBase, end = TASK_SIZE_N;
    if (flags & MAP_32BIT) { begin = 0x40000000; end = 0x80000000; }
    if (len > end) return ENOMEM;
    if (flags & MAP_FIXED) return addr;
    if (addr) {
      addr = pageDown(addr + PAGE - 1);
      const vma = this.tree.find(addr);
      if (end - len >= addr && (!vma || addr + len <= this.vmStartGap(vma))) return addr;
    }
    return this.unmappedArea(len, begin, end, alignMask);
  }

  /**
   * arch_get_unmapped_area_topdown() (x86_64). `alignMask` is
   * get_align_mask(filp): for a hugetlb file huge_page_mask_align() (the
   * huge page size less one page), else 0 (ASLR is off, so no va_align).
   */
  private archGetUnmappedAreaTopdown(addr0: number, len: number, flags: number, alignMask = 0): number {
    if (len > TASK_SIZE_N) return ENOMEM;
    if (flags & MAP_FIXED) return addr0;
    if (flags & MAP_32BIT) return this.archGetUnmappedArea(addr0, len, flags, alignMask);
    let addr = addr0;
    if (addr) {
      addr = pageDown(addr);
      if (AddressSpace.hintValid(addr, len)) {
        const vma = this.tree.find(addr);
        if (!vma || addr + len <= this.vmStartGap(vma)) return addr;
      }
    }
    const low = (flags & MAP_ABOVE4G) ? 0x100000000 : PAGE;
    const r = this.unmappedAreaTopdown(len, low, this.mmapBase, alignMask);
    if (!isErr(r)) return r;
    return this.archGetUnmappedArea(addr0, len, flags, alignMask);
  }

  /** __thp_get_unmapped_area() for an anonymous mapping (off = 0, size = PMD_SIZE). */
  private thpGetUnmappedArea(addr: number, len: number, flags: number): number {
    const size = PMD_SIZE;
    if (len < size) return 0;
    const lenPad = len + size;
    const ret = this.archGetUnmappedAreaTopdown(addr, lenPad, flags);
    if (isErr(ret)) return 0;
    if (ret === addr) return addr;
    const offSub = modPow2(size - modPow2(ret, size), size);
    if (!offSub) return ret + size;
    return ret + offSub;
  }

  /**
   * __get_unmapped_area(): returns the address or a negative errno. `addr`
   * and `len` are numbers (len page aligned and <= 2^53).
   */
  getUnmappedArea(file: MappedFile | null, addr: number, len: number, flags: number, caller: MmCaller): number {
    if (len > TASK_SIZE_N) return ENOMEM;
    let a: number;
    const shared = file !== null || (flags & MAP_SHARED) !== 0;
    const hs = fileHugePageSize(file);
    if (hs) {
      // f_op->get_unmapped_area of hugetlbfs (also through SysV's
      // shm_get_unmapped_area): hugetlb_get_unmapped_area() checks the
      // length and a fixed address, rounds a hint up to a huge page, and
      // searches with align_mask = huge_page_mask_align(file).
      if (modPow2(len, hs)) return EINVAL;
      if ((flags & MAP_FIXED) && modPow2(addr, hs)) return EINVAL;
      const addr0 = addr ? Math.ceil(addr / hs) * hs : 0;
      a = this.archGetUnmappedAreaTopdown(addr0, len, flags, hs - PAGE);
    } else if (!shared && this.thpAlign && addr === 0 && modPow2(len, PMD_SIZE) === 0) {
      a = this.thpGetUnmappedArea(addr, len, flags);
      if (a === 0) a = this.archGetUnmappedAreaTopdown(addr, len, flags);
    } else {
      a = this.archGetUnmappedAreaTopdown(addr, len, flags);
    }
    if (isErr(a)) return a;
    if (a > TASK_SIZE_N - len) return ENOMEM;
    if (modPow2(a, PAGE)) return EINVAL;
    if (a < this.allocator.sysctl.mmapMinAddr && !caller.capable(CAP_SYS_RAWIO)) return EPERM;
    return a;
  }

  // ------------------------------------------------------------------- mmap

  private mlockFutureOk(flags: number, bytes: number, caller: MmCaller): boolean {
    if (!(flags & VM_LOCKED) || caller.capable(CAP_IPC_LOCK)) return true;
    const limit = caller.rlimitMemlock();
    const pages = BigInt(bytes / PAGE + this.lockedVm);
    return pages <= limit / BigInt(PAGE);
  }

  /** accountable_mapping(): hugetlb files are charged by their own reservations, never here. */
  private static accountable(file: MappedFile | null, flags: number): boolean {
    if (fileHugePageSize(file)) return false;
    return (flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE;
  }

  /**
   * mmap(2) (ksys_mmap_pgoff + vm_mmap_pgoff + do_mmap). `file` is used when
   * MAP_ANONYMOUS is not given (fd -1 without a file gives EBADF); `pgoff` is
   * the file offset in pages. The 64-bit arguments may be numbers or bigints
   * (reduced modulo 2^64); see abi/word.ts.
   */
  mmap(addrIn: number | bigint, lenIn: number | bigint, prot: number, flags: number, file: MappedFile | null,
    pgoffIn: number | bigint, caller: MmCaller): number {
    const addr = word(addrIn);
    let len = word(lenIn);
    const pgoff = word(pgoffIn);
    flags = flags >>> 0;
    prot = prot >>> 0;
    if (flags & MAP_ANONYMOUS) {
      file = null;
      if (flags & MAP_HUGETLB) {
        // ksys_mmap_pgoff(): an anonymous hugetlb mapping maps a fresh
        // hugetlbfs file of ALIGN(len, huge page) bytes, set up with
        // VM_NORESERVE (the reservation is taken, or not, by the file's
        // mmap hook: see mmapRegion).
        const hs = hstateSizelog(this.allocator.hugetlb, (flags >>> MAP_HUGE_SHIFT) & MAP_HUGE_MASK);
        if (!hs) return EINVAL;
        const hsB = BigInt(hs);
        len = word((wordBig(len) + hsB - 1n) & ~(hsB - 1n));
        file = new AnonHugetlbFile(this.allocator, hs, typeof len === 'number' && len <= TASK_SIZE_N ? len : 0);
      }
    } else {
      if (!file) return EBADF;
      if (flags & MAP_HUGETLB) return EINVAL;
    }
    const a = this.doMmap(file, addr, len, prot, flags, 0, pgoff, caller);
    if (isErr(a)) return a;
    const populate = this.populateLen;
    if (populate) { this.populateLen = 0; this.populate(a, a + populate); }
    return a;
  }

  /**
   * mmap(2) with fd -1 and a byte offset, as the x86_64 system call takes it:
   * an offset that is not page aligned is EINVAL; without MAP_ANONYMOUS the
   * missing file descriptor is EBADF.
   */
  mmapAnon(addr: number | bigint, len: number | bigint, prot: number, flags: number, offsetIn: number | bigint, caller: MmCaller): number {
    const offset = word(offsetIn);
    if (lowBits(offset, PAGE - 1)) return EINVAL;
    const pgoff = typeof offset === 'number' ? offset / PAGE : word(offset >> 12n);
    return this.mmap(addr, len, prot, flags, null, pgoff, caller);
  }

  /**
   * do_mmap(): the address, or a negative errno. Sets `populateLen` when the
   * caller must populate (mm_populate) the new range. The arguments are words
   * (abi/word.ts): the checks where values beyond 2^53 matter (page
   * alignment overflowing to 0, the file offset overflowing) take BigInt
   * only for such values; below, everything is a number.
   */
  private doMmap(file: MappedFile | null, addrW: Word, lenW: Word, prot: number, flags: number, vmFlagsIn: number, pgoffW: Word, caller: MmCaller): number {
    if (lenW === 0) return EINVAL;
    if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
    let addr: number, len: number, pgoff: number;
    /** pgoff + pages > MAX_LFS_FILESIZE pages (file_mmap_ok()). */
    let fileOverflow: boolean;
    if (typeof addrW === 'number' && typeof lenW === 'number' && typeof pgoffW === 'number' && pgoffW <= PGOFF_FAST_MAX) {
      // No value here can overflow: len < 2^53 pages up exactly, pgoff + pages < 2^52.
      addr = addrW;
      if (!(flags & MAP_FIXED)) {
        // round_hint_to_min()
        addr -= modPow2(addr, PAGE);
        const minAddr = this.allocator.effectiveMmapMinAddr;
        if (addr !== 0 && addr < minAddr) addr = minAddr;
      }
      len = lenW + PAGE - 1;
      len -= modPow2(len, PAGE);
      pgoff = pgoffW;
      if (this.mapCount > this.maxMapCount) return ENOMEM;
      if (len > TASK_SIZE_N) return ENOMEM;
      fileOverflow = pgoff + len / PAGE > MAX_LFS_PAGES;
    } else {
      let addrB = wordBig(addrW);
      let lenB = wordBig(lenW);
      const pgoffB = wordBig(pgoffW);
      if (!(flags & MAP_FIXED)) {
        addrB &= ~4095n;
        const minAddr = BigInt(this.allocator.effectiveMmapMinAddr);
        if (addrB !== 0n && addrB < minAddr) addrB = minAddr;
      }
      lenB = (lenB + 4095n) & ~4095n & U64;
      if (lenB === 0n) return ENOMEM;
      if (pgoffB + (lenB >> 12n) > U64) return EOVERFLOW;
      if (this.mapCount > this.maxMapCount) return ENOMEM;
      if (lenB > TASK_SIZE) return ENOMEM;
      len = Number(lenB);
      addr = addrB > TASK_SIZE ? TASK_SIZE_N : Number(addrB);
      fileOverflow = pgoffB + (lenB >> 12n) > BigInt(MAX_LFS_PAGES);
      pgoff = fileOverflow ? 0 : Number(pgoffB);
    }
    // A fixed address beyond the user address space fails in __get_unmapped_area.
    if ((flags & MAP_FIXED) && addr > TASK_SIZE_N - len) return ENOMEM;
    if (addr > TASK_SIZE_N) addr = TASK_SIZE_N; // a non-fixed hint that high is never valid
    addr = this.getUnmappedArea(file, addr, len, flags, caller);
    if (isErr(addr)) return addr;
    if (flags & MAP_FIXED_NOREPLACE) {
      if (this.tree.intersection(addr, addr + len)) return EEXIST;
    }
    let vmf = vmFlagsIn | (prot & (PROT_READ | PROT_WRITE | PROT_EXEC))
      | ((flags & MAP_GROWSDOWN) ? VM_GROWSDOWN : 0) | ((flags & MAP_LOCKED) ? VM_LOCKED : 0)
      | ((flags & MAP_SYNC) ? VM_SYNC : 0) | ((flags & MAP_STACK) ? VM_NOHUGEPAGE : 0)
      | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if (flags & MAP_LOCKED) {
      // can_do_mlock()
      if (caller.rlimitMemlock() === 0n && !caller.capable(CAP_IPC_LOCK)) return EPERM;
    }
    if ((vmf & VM_LOCKED) && !this.mlockFutureOk(vmf, len, caller)) return EAGAIN;
    if (file) {
      // file_mmap_ok(): shmem files take any offset below MAX_LFS_FILESIZE.
      if (fileOverflow) return EOVERFLOW;
      let f = flags;
      switch (flags & MAP_TYPE) {
        case MAP_SHARED:
        case MAP_SHARED_VALIDATE:
          if ((flags & MAP_TYPE) === MAP_SHARED) f &= LEGACY_MAP_MASK;
          if (f & ~LEGACY_MAP_MASK) return -EOPNOTSUPP;
          if (prot & PROT_WRITE) {
            if (file.writable === false) return EACCES;
          }
          vmf |= VM_SHARED | VM_MAYSHARE;
          if (file.writable === false) vmf &= ~(VM_MAYWRITE | VM_SHARED);
          if (file.readable === false) return EACCES;
          if (vmf & VM_GROWSDOWN) return EINVAL;
          break;
        case MAP_PRIVATE:
          if (file.readable === false) return EACCES;
          if (vmf & VM_GROWSDOWN) return EINVAL;
          break;
        default:
          return EINVAL;
      }
    } else {
      switch (flags & MAP_TYPE) {
        case MAP_SHARED:
          if (vmf & VM_GROWSDOWN) return EINVAL;
          pgoff = 0;
          vmf |= VM_SHARED | VM_MAYSHARE;
          break;
        case MAP_PRIVATE:
          pgoff = addr / PAGE;
          break;
        default:
          return EINVAL;
      }
    }
    if (flags & MAP_NORESERVE) {
      // We honor MAP_NORESERVE if allowed to overcommit.
      if (this.allocator.sysctl.overcommitMemory !== 2) vmf |= VM_NORESERVE;
      // hugetlb applies strict overcommit unless MAP_NORESERVE.
      if (fileHugePageSize(file)) vmf |= VM_NORESERVE;
    }
    const a = this.mmapRegion(file, addr, len, vmFlags(vmf), pgoff, caller);
    if (isErr(a)) return a;
    if ((vmf & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE) this.populateLen = len;
    return a;
  }

  /** mmap_region() / __mmap_region(). */
  private mmapRegion(file: MappedFile | null, addr: number, len: number, vmf: number, pgoff: number, caller: MmCaller): number {
    const end = addr + len;
    const pglen = len / PAGE;
    let prev: Vma | null, next: Vma | null;
    let detached: Vma[] | null = null;
    let nrAccounted = 0;
    next = this.tree.find(addr);
    if (next && next.start < end) {
      const last = this.gatherMunmap(next, addr, end, caller);
      if (typeof last === 'number') return last;
      const d = detached = AddressSpace.gathered(next, last);
      prev = d[0]!.prev;
      next = d[d.length - 1]!.next;
      for (const v of d) if (v.flags & VM_ACCOUNT) nrAccounted += v.pages;
    } else {
      prev = next ? next.prev : this.tree.last;
    }
    let charged = 0;
    let unaccountDetached = true;
    if (AddressSpace.accountable(file, vmf)) {
      charged = pglen - nrAccounted;
      if (charged) {
        const e = this.allocator.vmEnoughMemory(charged, caller.capable(CAP_SYS_ADMIN), this.totalVmPages());
        if (e) return e; // the VMAs stay (split), like reattach_vmas()
      }
      unaccountDetached = false;
      vmf = vmFlags(vmf | VM_ACCOUNT);
    }
    if (detached) {
      // vms_clean_up_area(): the old VMAs are closed and their pages zapped
      // before the new one exists; from here on a failure leaves a hole.
      for (const v of detached) if (v.file?.vmOps) v.file.vmOps.close(v, caller);
      for (const v of detached) this.zapRange(v, v.start, v.end);
      // The old VMAs leave the tree so the new range can be linked or merged.
      this.noteVmDrop();
      for (const v of detached) {
        if (v.flags & VM_LOCKED) this.lockedVm -= v.pages;
        this.tree.remove(v);
      }
    }
    const unaccount = unaccountDetached ? nrAccounted : 0;
    const hs = fileHugePageSize(file);
    if (hs) {
      // hugetlbfs_file_mmap(): the VMA becomes VM_HUGETLB | VM_DONTEXPAND
      // (special: it never merges). Its offset must be huge page aligned,
      // and the huge pages are reserved now unless VM_NORESERVE or the file
      // is a SysV segment's (S_PRIVATE: shmget reserved them). A failure
      // here comes after the old mappings are gone: it leaves a hole
      // (vms_abort_munmap_vmas, observed on 6.18).
      vmf = vmFlags(vmf | VM_HUGETLB | VM_DONTEXPAND);
      let e = 0;
      if (pgoff % (hs / PAGE)) e = EINVAL;
      else if (file instanceof AnonHugetlbFile && !(vmf & VM_NORESERVE)
        && pglen / (hs / PAGE) > this.allocator.hugetlb.freePages(hs)) e = ENOMEM;
      if (e) {
        if (charged) this.allocator.unacctMemory(charged);
        this.freeDetached(detached, unaccount);
        return e;
      }
    }
    let vma: Vma | null = null;
    // vma_merge_new_range() can only succeed next to a VMA of the same file
    // (is_mergeable_vma); a fresh SysV attach file never is.
    if ((prev && prev.end === addr && prev.file === file) || (next && next.start === end && next.file === file)) {
      vma = this.vmaMergeNewRange({
        prev, next, middle: null, start: addr, end, flags: vmf, pgoff, file,
        anonVma: null, copiedFrom: null, justExpand: false,
      });
    }
    if (!vma) {
      let f = file;
      if (!f && (vmf & VM_SHARED)) {
        // shmem_zero_setup(): a fresh shmem file, accounted unless VM_NORESERVE.
        if (!(vmf & VM_NORESERVE)) {
          const e = this.allocator.vmEnoughMemory(pglen, caller.capable(CAP_SYS_ADMIN), this.totalVmPages());
          if (e) {
            if (charged) this.allocator.unacctMemory(charged);
            this.freeDetached(detached, unaccount);
            return e;
          }
        }
        const allocator = this.allocator;
        const acct = (vmf & VM_NORESERVE) ? 0 : pglen;
        f = new ShmemFile({
          allocator, sizeBytes: len, path: '/dev/zero (deleted)',
          onRelease: () => { if (acct) allocator.unacctMemory(acct); },
        });
      }
      vma = new Vma(addr, end, vmf, pgoff, f);
      if (f) f.get?.();
      this.linkVma(vma);
      // f_op->mmap: shm_mmap() takes its attach reference (__shm_open) here.
      if (f && file && f.vmOps) f.vmOps.open(vma, caller);
    }
    this.freeDetached(detached, unaccount);
    if (vmf & VM_LOCKED) {
      // __mmap_complete(): special and hugetlb VMAs are never mlocked.
      if (vmf & (VM_SPECIAL | VM_HUGETLB)) vma.flags = vmFlags(vma.flags & ~VM_LOCKED_MASK);
      else this.lockedVm += pglen;
    }
    return addr;
  }

  /** vms_complete_munmap_vmas() for mmap_region(): frees the replaced VMAs and unaccounts `unaccount` pages. */
  private freeDetached(detached: Vma[] | null, unaccount: number): void {
    if (!detached) return;
    for (const v of detached) this.freeVma(v);
    if (unaccount) this.allocator.unacctMemory(unaccount);
  }

  // ------------------------------------------------------------- populate

  /** __mm_populate(start, len, ignore_errors = 1). */
  private populate(start: number, end: number): void {
    let nstart = start;
    while (nstart < end) {
      const vma = this.tree.intersection(nstart, end);
      if (!vma) break;
      nstart = Math.max(nstart, vma.start);
      const nend = Math.min(end, vma.end);
      if (!(vma.flags & (VM_IO | VM_PFNMAP)) && (vma.flags & VM_ACCESS_FLAGS) && !(vma.flags & VM_LOCKONFAULT)) {
        const write = (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
        for (let a = nstart; a < nend; a += PAGE) {
          if (this.faultPage(vma, a, write, true) !== 0) break;
        }
      }
      nstart = nend;
    }
  }

  // ------------------------------------------------------------- faults

  /** anon_vma_prepare() / find_mergeable_anon_vma(). */
  private anonVmaPrepare(vma: Vma): void {
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
  private faultPage(vma: Vma, pageAddr: number, write: boolean, force = false, from = 0, to = PAGE): number {
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
        this.pgBytes = cache.faultInWrite(lin, from, to);
        this.pgOff = cache.pageOffset(lin);
        this.installFile(vma, lin, true);
        return 0;
      }
      const page = vma.anonPages?.get(lin);
      if (page) {
        if (page.mapcount > 1) {
          const copy = new AnonPage(new Uint8Array(page.data));
          this.allocator.alloc(1);
          vma.anonPages!.set(lin, copy);
          this.dropAnonPage(page);
          this.pgBytes = copy.data;
        } else {
          page.dirty = true;
          page.lazyFree = false;
          this.pgBytes = page.data;
        }
        this.pgOff = 0;
        return 0;
      }
      this.anonVmaPrepare(vma);
      let data: Uint8Array | undefined;
      if (file) {
        if (lin >= file.sizePages) return 2;
        const bytes = file.cache.faultIn(lin);
        const off = file.cache.pageOffset(lin);
        data = bytes.slice(off, off + PAGE);
        if (vma.filePtes?.has(lin)) this.removeFile(vma, lin);
      }
      this.allocator.alloc(1);
      const fresh = new AnonPage(data);
      this.installAnon(vma, lin, fresh);
      this.pgBytes = fresh.data;
      this.pgOff = 0;
      return 0;
    }
    const ap = vma.anonPages?.get(lin);
    if (ap) {
      this.pgBytes = ap.data;
      this.pgOff = 0;
      return 0;
    }
    if (file) {
      if (lin >= file.sizePages) return 2;
      const cache = file.cache;
      this.pgBytes = cache.faultIn(lin);
      this.pgOff = cache.pageOffset(lin);
      this.installFile(vma, lin, false);
      return 0;
    }
    // Private anonymous memory never written: the shared zero page.
    this.pgBytes = ZERO_PAGE;
    this.pgOff = 0;
    return 0;
  }

  /** expand_downwards() for an access below a VM_GROWSDOWN VMA. */
  private expandDownwards(vma: Vma, address: number): boolean {
    if (!(vma.flags & VM_GROWSDOWN)) return false;
    address = pageDown(address);
    if (address < this.allocator.effectiveMmapMinAddr) return false;
    const prev = vma.prev;
    if (prev && !(prev.flags & VM_GROWSDOWN) && (prev.flags & VM_ACCESS_FLAGS) && address - prev.end < STACK_GUARD_GAP) return false;
    this.anonVmaPrepare(vma);
    const grow = (vma.start - address) / PAGE;
    if (grow > vma.pgoff) return false;
    const size = vma.end - address;
    if (size > this.rlimitStack) return false;
    if ((vma.flags & VM_ACCOUNT) && this.allocator.vmEnoughMemory(grow, true, this.totalVmPages())) return false;
    if (vma.flags & VM_LOCKED) this.lockedVm += grow;
    this.tree.setRange(vma, address, vma.end);
    vma.pgoff -= grow;
    return true;
  }

  /** The VMA for an access at addr (with stack growth), or null. */
  private accessVma(addr: number): Vma | null {
    const c = this.lastVma;
    if (c && c.start <= addr && addr < c.end && this.tree.has(c)) return c;
    let v = this.tree.find(addr);
    if (!v) return null;
    if (v.start > addr) {
      if (!(v.flags & VM_GROWSDOWN) || !this.expandDownwards(v, addr)) return null;
    }
    this.lastVma = v;
    return v;
  }

  // --------------------------------------------------------- access walk
  //
  // The CPU's loads and stores. The walk is number-only and allocates
  // nothing on its common path (an address below TASK_SIZE, pages already
  // known): the kernel's raw read/write/fill call it once per access.

  /** The signal of the fault that stopped the last short readN/writeN/fillN. */
  accessSignal: 'SIGSEGV' | 'SIGBUS' = 'SIGSEGV';
  /** Where the page of the last successful faultPage() is: its bytes and the page's offset in them. */
  private pgBytes: Uint8Array = ZERO_PAGE;
  private pgOff = 0;
  /** The destination of the read walk in progress (grown as it goes). */
  private readBuf: Uint8Array = ZERO_PAGE;

  /**
   * Reads up to `len` bytes at `addr` (an integer >= 0; `len` >= 0, any
   * size) in ascending order, stopping at the first byte the process cannot
   * read. Returns the bytes read: fewer than `len` means the byte at that
   * offset faulted, with `accessSignal`.
   */
  readN(addr: number, len: number): Uint8Array {
    this.readBuf = new Uint8Array(Math.min(len, TASK_SIZE_N - addr > 0 ? TASK_SIZE_N - addr : 0, 1 << 20));
    const got = this.walk(0, addr, len, ZERO_PAGE, 0, 0);
    const buf = this.readBuf;
    this.readBuf = ZERO_PAGE;
    return got === buf.length ? buf : buf.slice(0, got);
  }

  /**
   * Writes src[srcOff, srcOff + len) at `addr` (an integer >= 0) in
   * ascending order, stopping at the first fault. Returns the number of
   * bytes written: fewer than `len` means the byte at that offset faulted,
   * with `accessSignal`.
   */
  writeN(addr: number, src: Uint8Array, srcOff: number, len: number): number {
    return this.walk(1, addr, len, src, srcOff, 0);
  }

  /** Writes `len` (any size) copies of `byte` at `addr`, like writeN. */
  fillN(addr: number, len: number, byte: number): number {
    return this.walk(2, addr, len, ZERO_PAGE, 0, byte & 0xff);
  }

  /**
   * The access walk: visits [addr, addr + len) page by page in ascending
   * order (op 0 read into readBuf, 1 write from buf[bufOff...], 2 fill with
   * `byte`), checking the VMA's permission and faulting each page in, and
   * stops at the first byte that cannot be accessed. Everything at or above
   * TASK_SIZE faults (SIGSEGV). Returns the number of bytes accessed.
   *
   * The copies of consecutive pages that lie back to back in one buffer
   * (a segment's pages) are made as one copy after their faults. Only
   * faults that move no data are taken with a copy pending; a private write
   * fault may copy a page (COW), so the bytes before it are written first,
   * in order, as the CPU would have.
   */
  private walk(op: number, addr: number, len: number, buf: Uint8Array, bufOff: number, byte: number): number {
    let end = TASK_SIZE_N - addr;
    if (end < 0) end = 0;
    if (len < end) end = len;
    const write = op !== 0;
    let done = 0;
    // The pending copy: bytes [runOff, runOff + runLen) of runBytes, at offset runDone of the access.
    let runBytes: Uint8Array = ZERO_PAGE, runOff = 0, runDone = 0, runLen = 0;
    let signal: 'SIGSEGV' | 'SIGBUS' | null = null;
    while (done < end) {
      const a = addr + done;
      const vma = this.accessVma(a);
      if (vma === null || !(write ? vma.flags & VM_WRITE : vma.flags & VM_ACCESS_FLAGS)) { signal = 'SIGSEGV'; break; }
      // (Addresses pass 2^31: `%` would be a floating-point fmod call.)
      const pageAddr = Math.floor(a / PAGE) * PAGE;
      if (runLen !== 0 && write && !(vma.flags & VM_SHARED)) {
        this.runCopy(op, runBytes, runOff, runDone, runLen, buf, bufOff, byte);
        runLen = 0;
      }
      const inPage = pageAddr + PAGE - a;
      const n = end - done < inPage ? end - done : inPage;
      const r = this.faultPage(vma, pageAddr, write, false, a - pageAddr, a - pageAddr + n);
      if (r !== 0) { signal = r === 2 ? 'SIGBUS' : 'SIGSEGV'; break; }
      const pb = this.pgBytes;
      const po = this.pgOff + (a - pageAddr);
      if (runLen !== 0 && pb === runBytes && po === runOff + runLen) {
        runLen += n;
      } else {
        if (runLen !== 0) this.runCopy(op, runBytes, runOff, runDone, runLen, buf, bufOff, byte);
        runBytes = pb;
        runOff = po;
        runDone = done;
        runLen = n;
      }
      done += n;
    }
    if (runLen !== 0) this.runCopy(op, runBytes, runOff, runDone, runLen, buf, bufOff, byte);
    if (done < len) this.accessSignal = signal ?? 'SIGSEGV';
    return done;
  }

  /** One coalesced copy of the walk. */
  private runCopy(op: number, bytes: Uint8Array, off: number, done: number, n: number, buf: Uint8Array, bufOff: number, byte: number): void {
    if (op === 1) copyBytes(bytes, off, buf, bufOff + done, n);
    else if (op === 2) fillBytes(bytes, off, n, byte);
    else {
      let rb = this.readBuf;
      if (done + n > rb.length) {
        const nb = new Uint8Array(Math.max(rb.length * 2, done + n));
        nb.set(rb.subarray(0, done));
        this.readBuf = rb = nb;
      }
      // The zero page reads as the zeros the buffer already holds.
      if (bytes !== ZERO_PAGE) copyBytes(rb, done, bytes, off, n);
    }
  }

  /** A read/write/fill address or length as a number; anything above TASK_SIZE faults alike. */
  private static accessNumber(v: number | bigint): number {
    if (typeof v === 'number' && v >= 0 && Number.isSafeInteger(v)) return v;
    const b = BigInt.asUintN(64, BigInt(v));
    return b > TASK_SIZE ? TASK_SIZE_N + PAGE : Number(b);
  }

  /** What a write or fill that completed returns (shared and frozen: no allocation per access). */
  private static readonly WRITTEN: AccessResult = Object.freeze({ data: Object.freeze(new Uint8Array(0)) });

  private writeResult(got: number, len: number): AccessResult {
    if (got >= len) return AddressSpace.WRITTEN;
    return { data: new Uint8Array(0), fault: { signal: this.accessSignal, offset: BigInt(got) } };
  }

  /** Reads len bytes at addr in ascending order, stopping at the first fault. */
  read(addr: number | bigint, len: number | bigint, caller?: MmCaller): AccessResult {
    void caller;
    const n = AddressSpace.accessNumber(len);
    const data = this.readN(AddressSpace.accessNumber(addr), n);
    return data.length < n ? { data, fault: { signal: this.accessSignal, offset: BigInt(data.length) } } : { data };
  }

  /** Writes bytes at addr in ascending order, stopping at the first fault. */
  write(addr: number | bigint, bytes: Uint8Array, caller?: MmCaller): AccessResult {
    void caller;
    return this.writeResult(this.writeN(AddressSpace.accessNumber(addr), bytes, 0, bytes.length), bytes.length);
  }

  /** Writes len copies of byte at addr in ascending order, stopping at the first fault. */
  fill(addr: number | bigint, len: number | bigint, byte: number, caller?: MmCaller): AccessResult {
    void caller;
    const n = AddressSpace.accessNumber(len);
    return this.writeResult(this.fillN(AddressSpace.accessNumber(addr), n, byte), n);
  }

  // -------------------------------------------------------------- mprotect

  /** mprotect(2) (do_mprotect_pkey with pkey -1). */
  mprotect(startB: bigint, lenB: bigint, prot: number, caller: MmCaller): number {
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
    let vma = this.tree.intersection(start, end);
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
      const r = this.mprotectFixup(v, nstart, tmp, newflags, caller);
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
  private mprotectFixup(vma: Vma, start: number, end: number, newflags: number, caller: MmCaller): Vma | number {
    const oldflags = vma.flags;
    if (newflags === oldflags) return vma;
    const nrpages = (end - start) / PAGE;
    let charged = 0;
    if (newflags & VM_WRITE) {
      if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
        charged = nrpages;
        if (this.allocator.vmEnoughMemory(charged, caller.capable(CAP_SYS_ADMIN), this.totalVmPages())) return ENOMEM;
        newflags = vmFlags(newflags | VM_ACCOUNT);
      }
    } else if ((oldflags & VM_ACCOUNT) && vma.isAnonymous && !vma.anonVma) {
      newflags = vmFlags(newflags & ~VM_ACCOUNT);
    }
    const r = this.vmaModifyFlags(vma, start, end, newflags, caller);
    if (typeof r === 'number') {
      if (charged) this.allocator.unacctMemory(charged);
      return r;
    }
    r.flags = newflags;
    if ((oldflags & VM_ACCOUNT) && !(newflags & VM_ACCOUNT)) this.allocator.unacctMemory(nrpages);
    if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) === VM_LOCKED && (newflags & VM_WRITE)) {
      this.populate(start, end);
    }
    return r;
  }

  // ---------------------------------------------------------------- mremap

  /** mremap(2). `newAddr` is only used with MREMAP_FIXED or MREMAP_DONTUNMAP. */
  mremap(addrB: bigint, oldLenB: bigint, newLenB: bigint, flagsIn: number | bigint, newAddrB: bigint, caller: MmCaller): number {
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
      if (this.mapCount + 2 >= this.maxMapCount - 3) return ENOMEM;
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
      res = this.remapMove(vrm);
    } else {
      if (addr >= TASK_SIZE) return EFAULT;
      vrm.addr = Number(addr);
      vrm.vma = this.tree.lookup(vrm.addr);
      // old_len can be any 64-bit value here; it is bounded by the checks below.
      const e = this.checkPrepVma(vrm, oldLen);
      if (e) return e;
      res = impliesNew ? this.mremapTo(vrm) : this.mremapAt(vrm, oldLen);
    }
    if (!isErr(res) && vrm.populate) this.populate(vrm.newAddr + vrm.oldLen, vrm.newAddr + vrm.oldLen + vrm.delta);
    return res;
  }

  /** check_prep_vma(). Sets vrm.oldLen (bounded) on success. */
  private checkPrepVma(vrm: Vrm, oldLenB: bigint): number {
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
    if (!this.mlockFutureOk(vma.flags & VM_LOCKED, vrm.delta, vrm.caller)) return EAGAIN;
    return 0;
  }

  /** remap_move(): MREMAP_FIXED without resize, over possibly several VMAs. */
  private remapMove(vrm: Vrm): number {
    const start = vrm.addr;
    const end = vrm.addr + vrm.oldLen;
    let target = vrm.newAddr;
    let res = EFAULT;
    let seen = false;
    let lastEnd = 0;
    let pos = start;
    for (;;) {
      const vma = this.tree.intersection(pos, end);
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
      let r = this.checkPrepVma(sub, BigInt(len));
      if (!r) r = this.mremapTo(sub);
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
  private vrmSetNewAddr(vrm: Vrm): number {
    const vma = vrm.vma!;
    const impliesNew = (vrm.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
    let mapFlags = 0;
    if (vrm.flags & MREMAP_FIXED) mapFlags |= MAP_FIXED;
    if (vma.flags & VM_MAYSHARE) mapFlags |= MAP_SHARED;
    const r = this.getUnmappedArea(vma.file, impliesNew ? vrm.newAddr : 0, vrm.newLen, mapFlags, vrm.caller);
    if (isErr(r)) return r;
    vrm.newAddr = r;
    return 0;
  }

  /** mremap_to(). */
  private mremapTo(vrm: Vrm): number {
    if (vrm.flags & MREMAP_FIXED) {
      const e = this.munmap(BigInt(vrm.newAddr), BigInt(vrm.newLen), vrm.caller);
      vrm.vma = null;
      if (e) return e;
      vrm.vma = this.tree.lookup(vrm.addr);
      if (!vrm.vma) return EFAULT;
    }
    if (vrm.type === 'shrink') {
      const e = this.shrinkVma(vrm);
      if (e) return e;
      vrm.oldLen = vrm.newLen;
    }
    const e = this.vrmSetNewAddr(vrm);
    if (e) return e;
    return this.moveVma(vrm);
  }

  /** shrink_vma(): unmaps [addr + new_len, addr + old_len). */
  private shrinkVma(vrm: Vrm): number {
    const big = vrm.oldLenBig ?? BigInt(vrm.oldLen);
    const e = this.munmap(BigInt(vrm.addr + vrm.newLen), big - BigInt(vrm.newLen), vrm.caller);
    vrm.vma = null;
    if (e) return e;
    vrm.vma = this.tree.lookup(vrm.addr);
    if (!vrm.vma) return EFAULT;
    return 0;
  }

  /** mremap_at(). */
  private mremapAt(vrm: Vrm, oldLenB: bigint): number {
    void oldLenB;
    switch (vrm.type) {
      case 'noresize':
        return vrm.addr;
      case 'shrink': {
        const e = this.shrinkVma(vrm);
        if (e) return e;
        return vrm.addr;
      }
      case 'expand':
        return this.expandVma(vrm);
      default:
        throw new Error('mremap: bad state');
    }
  }

  /** vma_expandable(). */
  private vmaExpandable(vma: Vma, delta: number): boolean {
    const end = vma.end + delta;
    if (this.tree.intersection(vma.end, end)) return false;
    if (end > TASK_SIZE_N) return false;
    if (vma.start < this.allocator.sysctl.mmapMinAddr) return false;
    return true;
  }

  /** expand_vma(). */
  private expandVma(vrm: Vrm): number {
    const vma = vrm.vma!;
    if (vma.end - vrm.addr === vrm.oldLen && this.vmaExpandable(vma, vrm.delta)) {
      // expand_vma_in_place()
      let charged = 0;
      if (vma.flags & VM_ACCOUNT) {
        if (this.allocator.vmEnoughMemory(vrm.delta / PAGE, vrm.caller.capable(CAP_SYS_ADMIN), this.totalVmPages())) return ENOMEM;
        charged = vrm.delta / PAGE;
      }
      const merged = this.vmaMergeNewRange({
        prev: vma, next: vma.next, middle: null, start: vma.end, end: vma.end + vrm.delta,
        flags: vma.flags, pgoff: vma.pgoff + vma.pages, file: vma.file, anonVma: vma.anonVma,
        copiedFrom: null, justExpand: false,
      });
      if (!merged) {
        if (charged) this.allocator.unacctMemory(charged);
        return ENOMEM;
      }
      vrm.vma = merged;
      if (merged.flags & VM_LOCKED) this.lockedVm += vrm.delta / PAGE;
      return vrm.addr;
    }
    if (!(vrm.flags & MREMAP_MAYMOVE)) return ENOMEM;
    const e = this.vrmSetNewAddr(vrm);
    if (e) return e;
    return this.moveVma(vrm);
  }

  /** copy_vma(): the VMA at the destination (merged into a neighbour or new). */
  private copyVma(vma: Vma, addr: number, len: number, pgoff: number, caller: MmCaller): Vma {
    if (vma.isAnonymous && !vma.anonVma) pgoff = addr / PAGE;
    const next = this.tree.find(addr);
    if (next && next.start < addr + len) throw new Error('copyVma: destination not free');
    const prev = next ? next.prev : this.tree.last;
    const merged = this.vmaMergeNewRange({
      prev, next, middle: null, start: addr, end: addr + len, flags: vma.flags, pgoff,
      file: vma.file, anonVma: vma.anonVma, copiedFrom: vma, justExpand: false,
    });
    if (merged) return merged;
    const nv = new Vma(addr, addr + len, vma.flags, pgoff, vma.file);
    nv.anonVma = vma.anonVma;
    nv.anonForked = vma.anonForked;
    if (nv.file) nv.file.get?.();
    if (nv.file?.vmOps) nv.file.vmOps.open(nv, caller);
    this.linkVma(nv);
    return nv;
  }

  /** move_vma(). */
  private moveVma(vrm: Vrm): number {
    const caller = vrm.caller;
    let vma = vrm.vma!;
    // prep_move_vma()
    if (this.mapCount >= this.maxMapCount - 3) return ENOMEM;
    // vm_ops->may_split at both ends of the moved range (hugetlb_vm_op_split).
    let se = 0;
    if (vma.start !== vrm.addr) se = hugetlbMaySplit(vma, vrm.addr);
    if (!se && vma.end !== vrm.addr + vrm.oldLen) se = hugetlbMaySplit(vma, vrm.addr + vrm.oldLen);
    if (se) return se;
    // vrm_calc_charge()
    let charged = 0;
    if (vma.flags & VM_ACCOUNT) {
      const pages = (vrm.flags & MREMAP_DONTUNMAP) ? vrm.newLen / PAGE : vrm.delta / PAGE;
      if (this.allocator.vmEnoughMemory(pages, caller.capable(CAP_SYS_ADMIN), this.totalVmPages())) return ENOMEM;
      charged = pages;
    }
    void charged;
    const oldStart = vma.start;
    const oldEnd = vma.end;
    const srcLin = vma.linear(vrm.addr);
    const newPgoff = srcLin;
    const copied = this.copyVma(vma, vrm.newAddr, vrm.newLen, newPgoff, caller);
    // move_page_tables(): the PTEs of [addr, addr+old_len) follow the VMA.
    if (vrm.oldLen) {
      const dstLin = copied.linear(vrm.newAddr);
      if (dstLin !== srcLin) {
        // Only an unfaulted anonymous VMA (no pages) gets a new pgoff.
        if (AddressSpace.keysIn(vma.anonPages, srcLin, srcLin + vrm.oldLen / PAGE).length
          || vma.filePtes?.countIn(srcLin, srcLin + vrm.oldLen / PAGE)
          || vma.guards?.intersects(srcLin, srcLin + vrm.oldLen / PAGE)) {
          throw new Error('mremap: moving pages to a VMA with a different pgoff');
        }
      } else {
        AddressSpace.movePtes(vma, copied, srcLin, srcLin + vrm.oldLen / PAGE);
      }
    }
    // A merge at the destination may have swallowed the (unfaulted) source.
    if (!this.tree.has(vma)) vma = copied;
    vrm.vma = vma;
    const savedHiwater = this.hiwaterVm;
    if (vma.flags & VM_LOCKED) this.lockedVm += vrm.newLen / PAGE;
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
      const e = this.munmap(BigInt(vrm.addr), BigInt(vrm.oldLen), caller);
      if (e) {
        this.allocator.acctMemory(vrm.oldLen / PAGE);
      } else if (accountable) {
        const end = vrm.addr + vrm.oldLen;
        if (vmStart < vrm.addr) {
          const p = this.tree.findPrev(vrm.addr);
          if (p) p.flags = vmFlags(p.flags | VM_ACCOUNT);
        }
        if (vmEnd > end) {
          const n = this.tree.find(end);
          if (n) n.flags = vmFlags(n.flags | VM_ACCOUNT);
        }
      }
    }
    this.hiwaterVm = savedHiwater;
    return vrm.newAddr;
  }

  // --------------------------------------------------------------- madvise

  private static madviseBehaviorValid(b: number): boolean {
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
  madvise(startB: bigint, lenB: bigint, advice: number, caller: MmCaller): number {
    startB = BigInt.asUintN(64, startB);
    const lenIn = BigInt.asUintN(64, lenB);
    advice = advice | 0;
    if (!AddressSpace.madviseBehaviorValid(advice)) return EINVAL;
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
      return this.madvisePopulate(start, end, advice === MADV_POPULATE_WRITE);
    }
    return this.madviseWalk(start, end, advice, caller);
  }

  /** madvise_walk_vmas(). */
  private madviseWalk(start: number, end: number, behavior: number, caller: MmCaller): number {
    let unmappedError = 0;
    let vma = this.tree.find(start);
    let rstart = start;
    for (;;) {
      if (!vma) return ENOMEM;
      if (rstart < vma.start) {
        unmappedError = ENOMEM;
        rstart = vma.start;
        if (rstart >= end) break;
      }
      const rend = Math.min(vma.end, end);
      const r = this.madviseVmaBehavior(vma, rstart, rend, behavior, caller);
      if (typeof r === 'number') return r;
      rstart = rend;
      if (r && rstart < r.end) rstart = r.end;
      if (rstart >= end) break;
      vma = this.tree.find(r ? r.end : rstart);
    }
    return unmappedError;
  }

  /** madvise_vma_behavior(): the VMA now covering [start, ...), null (lock dropped) or an errno. */
  private madviseVmaBehavior(vma: Vma, start: number, end: number, behavior: number, caller: MmCaller): Vma | null | number {
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
          for (const k of AddressSpace.keysIn(vma.anonPages, lo, hi)) {
            const p = vma.anonPages!.get(k)!;
            if (p.mapcount === 1) { p.dirty = false; p.lazyFree = true; }
          }
        } else {
          this.zapRange(vma, start, end);
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
        if (vma.isAnonymous) this.anonVmaPrepare(vma);
        this.zapRange(vma, start, end);
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
    const r = this.vmaModifyFlags(vma, start, end, nf, caller);
    if (typeof r === 'number') return r === ENOMEM ? EAGAIN : r;
    r.flags = nf;
    return r;
  }

  /** madvise_populate(). */
  private madvisePopulate(start: number, end: number, write: boolean): number {
    let a = start;
    while (a < end) {
      const vma = this.tree.lookup(a);
      if (!vma) return ENOMEM;
      if (vma.flags & (VM_IO | VM_PFNMAP)) return EINVAL;
      if (write ? !(vma.flags & VM_WRITE) : !(vma.flags & VM_READ)) return EINVAL;
      const e = Math.min(end, vma.end);
      for (; a < e; a += PAGE) {
        if (this.faultPage(vma, a, write) !== 0) return EFAULT;
      }
    }
    return 0;
  }

  // ----------------------------------------------------------- fork / exit

  /** dup_mmap(): the child's address space, or a negative errno (overcommit). */
  tryFork(caller: MmCaller): AddressSpace | number {
    const child = new AddressSpace(this.allocator, {
      mmapBase: this.mmapBase, rlimitStack: this.rlimitStack, thpAlign: this.thpAlign,
    });
    child.startStack = this.startStack;
    child.hiwaterVm = this.hiwaterVm;
    child.hiwaterRss = this.hiwaterRss;
    // The copies, in address order: linked into the child's tree in one
    // O(n) pass at the end (or before the teardown of a failed fork).
    const copies: Vma[] = [];
    for (let mp = this.tree.first; mp; mp = mp.next) {
      if (mp.flags & VM_DONTCOPY) continue;
      if (mp.flags & VM_ACCOUNT) {
        if (this.allocator.vmEnoughMemory(mp.pages, caller.capable(CAP_SYS_ADMIN), this.totalVmPages())) {
          child.tree.buildSorted(copies);
          child.teardown(caller);
          return ENOMEM;
        }
      }
      const t = new Vma(mp.start, mp.end, mp.flags & ~VM_LOCKED_MASK, mp.pgoff, mp.file);
      const wipe = (mp.flags & VM_WIPEONFORK) !== 0;
      if (!wipe && mp.anonVma) { t.anonVma = new AnonVma(); t.anonForked = true; }
      copies.push(t);
      if (t.file) t.file.get?.();
      if (t.file?.vmOps) t.file.vmOps.open(t, caller);
      child.registerMapper(t);
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

  /** fork(): dup_mmap(); hooks run in the parent's (caller's) context. */
  fork(caller: MmCaller): AddressSpace {
    const r = this.tryFork(caller);
    if (typeof r === 'number') throw new Error(`fork: dup_mmap failed with errno ${-r}`);
    return r;
  }

  /** exit_mmap(): unmaps everything; close hooks run for every VMA, in address order. */
  teardown(caller: MmCaller): void {
    if (this.dead) return;
    this.noteVmDrop();
    const all = this.tree.toArray();
    let accounted = 0;
    for (const v of all) this.zapRange(v, v.start, v.end);
    for (const v of all) {
      if (v.flags & VM_ACCOUNT) accounted += v.pages;
      if (v.file?.vmOps) v.file.vmOps.close(v, caller);
      this.freeVma(v);
    }
    // remove_vma() of every VMA: the tree goes as a whole.
    this.tree.clear();
    if (accounted) this.allocator.unacctMemory(accounted);
    this.lockedVm = 0;
    this.dead = true;
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
