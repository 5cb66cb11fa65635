/**
 * struct vm_area_struct and what hangs off it: the mapped file, its
 * vm_operations (open/close hooks), and private anonymous memory.
 *
 * Private pages are kept per VMA in a Map keyed by the linear page index
 * (vm_pgoff + (addr - vm_start) / PAGE_SIZE, the index Linux gives anonymous
 * folios), so splitting a VMA partitions the map and moving a VMA (mremap,
 * which keeps vm_pgoff for a faulted VMA) keeps the keys valid. The AnonVma
 * object only carries the identity Linux uses to decide merges
 * (is_mergeable_anon_vma) and is shared by the pieces of a split.
 */
import { PAGE_SIZE } from '../abi/constants.js';
import type { PageCache } from './page-cache.js';
import type { VmaTreeNode } from './vma-tree.js';
import type { FilePtes } from './file-ptes.js';
import { pinShape } from './shapes.js';

// include/linux/mm.h vm_flags bits (x86_64).
export const VM_NONE = 0x0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_UFFD_MISSING = 0x200;
export const VM_PFNMAP = 0x400;
export const VM_MAYBE_GUARD = 0x800;
export const VM_UFFD_WP = 0x1000;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_LOCKONFAULT = 0x80000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_HUGETLB = 0x400000;
export const VM_SYNC = 0x800000;
export const VM_ARCH_1 = 0x1000000;
export const VM_WIPEONFORK = 0x2000000;
export const VM_DONTDUMP = 0x4000000;
export const VM_SOFTDIRTY = 0x8000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;
export const VM_MERGEABLE = 0x80000000;

export const VM_STACK = VM_GROWSDOWN;
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
export const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
/** Flags whose presence makes fork copy page tables (VM_COPY_ON_FORK). */
export const VM_COPY_ON_FORK = VM_PFNMAP | VM_MIXEDMAP | VM_UFFD_WP | VM_MAYBE_GUARD;

/** Normalises a flag word to an unsigned 32-bit number. */
export function vmFlags(x: number): number { return x >>> 0; }

/** The caller of a memory-management operation: the current task. */
export interface MmCaller {
  readonly pid: number;
  capable(cap: number): boolean;
  /** Soft RLIMIT_MEMLOCK in bytes (2^64-1 = unlimited). */
  rlimitMemlock(): bigint;
}

/**
 * The address space whose page table maps a VMA's file pages: the file's
 * reverse map (unmap_mapping_range) calls it to drop those PTEs.
 */
export interface PteOwner {
  zapFilePtes(vma: Vma, first: number, lastExclusive: number): void;
}

/** vm_operations_struct: the hooks SysV shm needs. */
export interface VmaOperations {
  /** A VMA referencing the object is duplicated: split, fork (in the PARENT's context), mremap copy. */
  open(vma: Vma, current: MmCaller): void;
  /** A VMA referencing the object goes away. */
  close(vma: Vma, current: MmCaller): void;
}

/** The struct file a VMA maps (always a shmem-like file in this model). */
export interface MappedFile {
  readonly cache: PageCache;
  /** ceil(i_size / PAGE_SIZE): touching a page at or beyond this raises SIGBUS. */
  readonly sizePages: number;
  /** The maps column, e.g. "/SYSV000004d2 (deleted)" or "/dev/zero (deleted)". */
  readonly path: string;
  /** e.g. "00:01". */
  readonly dev: string;
  readonly ino: number;
  /** SysV attach files have open/close; VMAs with a close op are never merged away. */
  readonly vmOps: VmaOperations | null;
  /** Whether the file was opened for writing (FMODE_WRITE); default true. */
  readonly writable?: boolean;
  /** Whether the file was opened for reading (FMODE_READ); default true. */
  readonly readable?: boolean;
  /**
   * For a hugetlbfs file (is_file_hugepages()): its huge page size in bytes
   * (huge_page_size(hstate_file())); absent or 0 for any other file. The mm
   * then follows hugetlbfs: huge-page-aligned placement
   * (hugetlb_get_unmapped_area), VM_HUGETLB | VM_DONTEXPAND on the VMA
   * (hugetlbfs_file_mmap), splits only on huge page boundaries
   * (hugetlb_vm_op_split), no mremap growth. See hugetlb.ts.
   */
  readonly hugePageSize?: number;
  /** get_file(): a VMA (or another holder) took a reference. */
  get?(): void;
  /** fput(): a reference was dropped. */
  put?(): void;
}

/** Identity of an anon_vma (merge compatibility); pages live in the VMAs. */
export class AnonVma {
  private static nextId = 1;
  readonly id = AnonVma.nextId++;
}

/** One private anonymous page (a folio of order 0). */
export class AnonPage {
  readonly data: Uint8Array;
  /** Number of PTEs mapping it (>1 after fork until COW). */
  mapcount = 1;
  /** Cleared by MADV_FREE (lazily freed), set again by a write. */
  dirty = true;
  lazyFree = false;
  constructor(data?: Uint8Array) {
    this.data = data ?? new Uint8Array(PAGE_SIZE);
  }
}

/**
 * A set of linear page indexes kept as sorted, disjoint, non-adjacent
 * half-open ranges: guard-region markers (MADV_GUARD_INSTALL) may cover a
 * whole 1 TiB mapping, far too many pages for one entry each.
 */
export class PageRangeSet {
  /** Range starts, ascending. */
  private lo: number[] = [];
  /** Range ends (exclusive), parallel to lo. */
  private hi: number[] = [];

  /** Number of pages in the set. */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.lo.length; i++) n += this.hi[i]! - this.lo[i]!;
    return n;
  }

  /** Index of the first range whose end is above k. */
  private firstEndAbove(k: number): number {
    let a = 0, b = this.lo.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.hi[m]! <= k) a = m + 1; else b = m;
    }
    return a;
  }

  has(k: number): boolean {
    const i = this.firstEndAbove(k);
    return i < this.lo.length && this.lo[i]! <= k;
  }

  /** Whether any page of [lo, hi) is in the set. */
  intersects(lo: number, hi: number): boolean {
    if (lo >= hi) return false;
    const i = this.firstEndAbove(lo);
    return i < this.lo.length && this.lo[i]! < hi;
  }

  /** Adds [lo, hi), merging with touching ranges. */
  addRange(lo: number, hi: number): void {
    if (lo >= hi) return;
    // Ranges ending at or after lo (touching counts) up to those starting at or before hi.
    const i = this.firstEndAbove(lo - 1);
    let j = i;
    while (j < this.lo.length && this.lo[j]! <= hi) j++;
    if (i < j) {
      lo = Math.min(lo, this.lo[i]!);
      hi = Math.max(hi, this.hi[j - 1]!);
    }
    this.lo.splice(i, j - i, lo);
    this.hi.splice(i, j - i, hi);
  }

  /** Removes [lo, hi). */
  deleteRange(lo: number, hi: number): void {
    if (lo >= hi) return;
    const i = this.firstEndAbove(lo);
    let j = i;
    while (j < this.lo.length && this.lo[j]! < hi) j++;
    if (i === j) return;
    const keepLo: number[] = [], keepHi: number[] = [];
    if (this.lo[i]! < lo) { keepLo.push(this.lo[i]!); keepHi.push(lo); }
    if (this.hi[j - 1]! > hi) { keepLo.push(hi); keepHi.push(this.hi[j - 1]!); }
    this.lo.splice(i, j - i, ...keepLo);
    this.hi.splice(i, j - i, ...keepHi);
  }

  /** The ranges of the set clipped to [lo, hi), in order. */
  rangesIn(lo: number, hi: number): [number, number][] {
    const out: [number, number][] = [];
    for (let i = this.firstEndAbove(lo); i < this.lo.length && this.lo[i]! < hi; i++) {
      out.push([Math.max(lo, this.lo[i]!), Math.min(hi, this.hi[i]!)]);
    }
    return out;
  }

  /** Moves the pages of [lo, hi) into `dst`. */
  moveTo(dst: PageRangeSet, lo: number, hi: number): void {
    for (const [a, b] of this.rangesIn(lo, hi)) dst.addRange(a, b);
    this.deleteRange(lo, hi);
  }

  clone(): PageRangeSet {
    const c = new PageRangeSet();
    c.lo = [...this.lo];
    c.hi = [...this.hi];
    return c;
  }
}

let nextVmaId = 1;

export class Vma {
  /** A unique number, for debugging and stable identity in tests. */
  readonly id = nextVmaId++;
  start: number;
  end: number;
  flags: number;
  /** vm_pgoff, in pages. */
  pgoff: number;
  file: MappedFile | null;
  anonVma: AnonVma | null = null;
  /**
   * The VMA got its anon_vma through fork (its anon_vma_chain is not
   * singular): vma_had_uncowed_parents() in mm/vma.c.
   */
  anonForked = false;
  /** Private (anonymous or COWed) pages, keyed by linear page index. */
  anonPages: Map<number, AnonPage> | null = null;
  /**
   * File pages mapped by this VMA's page table, by file page index (= linear
   * page index), with each PTE's dirty bit; created on the first one.
   */
  filePtes: FilePtes | null = null;
  /** Guard-region markers (MADV_GUARD_INSTALL), by linear page index. */
  guards: PageRangeSet | null = null;
  /**
   * The reverse map (the file's i_mmap): while the VMA is linked there,
   * `owner` is its address space and rmapPrev/rmapNext chain the VMAs of
   * the same PageCache (maintained by PageCache.linkMapper/unlinkMapper).
   * An intrusive list: linking costs no allocation and no hashing.
   * Invariant: linked exactly while `filePtes` is non-null, from the first
   * file PTE (internal.ts filePtesOf) until the VMA is freed.
   */
  owner: PteOwner | null = null;
  rmapPrev: Vma | null = null;
  rmapNext: Vma | null = null;
  /** Tree links (maintained by VmaTree). */
  prev: Vma | null = null;
  next: Vma | null = null;
  /**
   * The VmaTree leaf holding this VMA, null outside a tree (maintained by
   * VmaTree): removal and range changes start there instead of searching.
   */
  treeLeaf: VmaTreeNode | null = null;

  constructor(start: number, end: number, flags: number, pgoff: number, file: MappedFile | null) {
    this.start = start;
    this.end = end;
    this.flags = vmFlags(flags);
    this.pgoff = pgoff;
    this.file = file;
  }

  get pages(): number { return (this.end - this.start) / PAGE_SIZE; }

  /** The linear page index of `addr` (linear_page_index()). */
  linear(addr: number): number { return this.pgoff + (addr - this.start) / PAGE_SIZE; }

  /** vma_is_anonymous(): no vm_ops (private or shared anonymous memory before shmem setup). */
  get isAnonymous(): boolean { return this.file === null; }

  /** Number of private pages mapped. */
  get anonCount(): number { return this.anonPages ? this.anonPages.size : 0; }

  /** Number of file pages mapped by this VMA's page table. */
  get fileCount(): number { return this.filePtes ? this.filePtes.size : 0; }

  toString(): string {
    return `Vma#${this.id}[${this.start.toString(16)}-${this.end.toString(16)} f=${this.flags.toString(16)} pgoff=${this.pgoff}]`;
  }
}

// The classes of the fault path keep their hidden classes when no instance
// is left (see shapes.ts).
pinShape(new Vma(0, 0, 0, 0, null));
pinShape(new AnonPage(new Uint8Array(0)));
