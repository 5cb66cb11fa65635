/**
 * hugetlbfs as the memory manager sees it (fs/hugetlbfs/inode.c, mm/hugetlb.c):
 * the huge page sizes (hstates) and their pools, the placement and split
 * rules of hugetlb VMAs, and the file behind an anonymous MAP_HUGETLB
 * mapping ("/anon_hugepage (deleted)").
 *
 * A file is hugetlb when its MappedFile.hugePageSize is non-zero
 * (is_file_hugepages()); a VMA mapping it gets VM_HUGETLB | VM_DONTEXPAND
 * at mmap time (hugetlbfs_file_mmap), which makes it "special": it never
 * merges, never gets VM_LOCKED, cannot be expanded by mremap.
 *
 * Huge pages themselves are not modelled: the pools are empty (the reference
 * host has none), so a hugetlb file has no page cache and every touch is
 * SIGBUS (hugetlb_no_page() cannot allocate a folio). A pool configured with
 * free pages only makes reservations succeed; touches still SIGBUS.
 */
import { PAGE_SIZE } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import { PageCache } from './page-cache.js';
import type { PageAllocator } from './page-allocator.js';
import type { MappedFile, Vma } from './vma.js';

/** The huge page sizes of the machine and their pools (the part of hugetlb the mm needs). */
export interface HugetlbPool {
  /** Supported huge page sizes in bytes; the first is the default (default_hstate). */
  sizes: number[];
  /** Free huge pages of a size (nr_hugepages - used): 0 on the reference host. */
  freePages(size: number): number;
}

/** x86_64 with pdpe1gb: 2 MiB (default) and 1 GiB, both pools empty. */
export function defaultHugetlbPool(): HugetlbPool {
  return { sizes: [2 << 20, 1 << 30], freePages: () => 0 };
}

/**
 * hstate_sizelog(): the huge page size selected by a MAP_HUGE_* / SHM_HUGE_*
 * log2 field (0 = the default size), or 0 when the machine has no such size.
 */
export function hstateSizelog(pool: HugetlbPool, log: number): number {
  if (log === 0) return pool.sizes[0] ?? 0;
  return pool.sizes.find((s) => s === 2 ** log) ?? 0;
}

/**
 * The device of the internal hugetlbfs mount of a huge page size.
 * init_hugetlbfs_fs() mounts the default hstate first, then the others in
 * hstate order, each taking the next anonymous device: observed 00:11 for
 * 2 MiB and 00:12 for 1 GiB on the reference host.
 */
export function hugetlbfsDev(pool: HugetlbPool, size: number): string {
  const others = pool.sizes.slice(1);
  const i = size === pool.sizes[0] ? 0 : 1 + others.indexOf(size);
  return `00:${(0x11 + Math.max(i, 0)).toString(16).padStart(2, '0')}`;
}

/** The huge page size of a file (huge_page_size(hstate_file())), 0 when not hugetlb. */
export function fileHugePageSize(file: MappedFile | null | undefined): number {
  return file?.hugePageSize ?? 0;
}

/**
 * vma_kernel_pagesize(): the page size backing a VMA (huge_page_size() of a
 * hugetlb VMA, else PAGE_SIZE). x86_64 has vma_mmu_pagesize() equal to it.
 */
export function vmaKernelPageSize(vma: Vma): number {
  return fileHugePageSize(vma.file) || PAGE_SIZE;
}

/**
 * hugetlb_vm_op_split() (reached for SysV through shm_may_split()): a
 * hugetlb VMA can only be split on a huge page boundary. Returns 0 or
 * -EINVAL.
 */
export function hugetlbMaySplit(vma: Vma, addr: number): number {
  const hs = fileHugePageSize(vma.file);
  if (hs && addr % hs !== 0) return -Errno.EINVAL;
  return 0;
}

let nextAnonHugeIno = 180000;

/**
 * The file of an anonymous MAP_HUGETLB mapping: hugetlb_file_setup(
 * HUGETLB_ANON_FILE, ALIGN(len, hpage), VM_NORESERVE, HUGETLB_ANONHUGE_INODE)
 * in ksys_mmap_pgoff(). An unlinked hugetlbfs inode (get_next_ino(), which
 * differs from run to run on Linux) shown as "/anon_hugepage (deleted)".
 * Its pool is empty, so it has no pages: every touch is SIGBUS.
 */
export class AnonHugetlbFile implements MappedFile {
  readonly cache: PageCache;
  readonly sizePages = 0;
  readonly path = '/anon_hugepage (deleted)';
  readonly dev: string;
  readonly ino = nextAnonHugeIno++;
  readonly vmOps = null;
  private refs = 0;

  constructor(allocator: PageAllocator, readonly hugePageSize: number, /** i_size in bytes. */ readonly size: number) {
    this.cache = new PageCache(allocator, 0);
    this.dev = hugetlbfsDev(allocator.hugetlb, hugePageSize);
  }

  get(): void { this.refs++; }

  put(): void {
    if (--this.refs === 0) this.cache.destroy();
    else if (this.refs < 0) throw new Error('AnonHugetlbFile: reference count underflow');
  }
}
