/**
 * The per-shmat file (ipc/shm.c struct shm_file_data) and the VMA hooks
 * (shm_vm_ops: shm_open, shm_close) that keep shm_nattch, shm_atim,
 * shm_dtim and shm_lprid up to date: every VMA created from an attach (the
 * mapping itself, splits, fork copies, mremap copies) opens, every VMA that
 * goes away closes. nattch is therefore exactly the number of VMAs.
 */
import type { MappedFile, MmCaller, Vma, VmaOperations } from '../mm/vma.js';
import type { ShmNamespace } from './namespace.js';
import { SHM_FILE_EXEMPLAR, type ShmFile, type Segment } from './segment.js';
import { pinShape } from '../mm/shapes.js';
import type { PageCache } from '../mm/page-cache.js';

/**
 * shm_lock(ns, id) as __shm_open/__shm_close use it: the segment still
 * owning `sfd.base`, or null if it is gone (a kernel WARN case). The
 * segment found at attach time answers it without the id lookup: it is the
 * one at `sfd.id` exactly as long as it still owns the file (shm_destroy
 * clears shp.file before the id can be reused).
 */
function lookup(sfd: ShmAttachFile): Segment | null {
  return sfd.segment.file === sfd.base ? sfd.segment : null;
}

/**
 * __shm_open(): a new VMA maps the segment. Called from shm_mmap() for the
 * attach itself and from shm_open() for duplicated VMAs.
 */
export function shmOpen(sfd: ShmAttachFile, current: MmCaller): void {
  const shp = lookup(sfd);
  if (!shp) throw new Error(`shm_open: segment ${sfd.id} vanished under a live mapping`);
  shp.atime = sfd.ns.kernel.now();
  shp.lpid = current.pid;
  shp.nattch++;
}

/** __shm_close(): a VMA mapping the segment went away; destroy it if it may be. */
export function shmClose(sfd: ShmAttachFile, current: MmCaller): void {
  const shp = lookup(sfd);
  if (!shp) throw new Error(`shm_close: segment ${sfd.id} vanished under a live mapping`);
  shp.lpid = current.pid;
  shp.dtime = sfd.ns.kernel.now();
  shp.nattch--;
  if (shp.nattch < 0) throw new Error(`shm_close: nattch of segment ${sfd.id} went negative`);
  sfd.ns.destroyIfUnused(shp);
}

/** shm_vm_ops. */
export const shmVmOps: VmaOperations = {
  open(vma: Vma, current: MmCaller) {
    shmOpen(vma.file as ShmAttachFile, current);
  },
  close(vma: Vma, current: MmCaller) {
    shmClose(vma.file as ShmAttachFile, current);
  },
};

/**
 * struct shm_file_data: one per successful or attempted shmat. VMAs of the
 * same attach (splits, fork copies) share it; shmdt's sweep compares it.
 * It holds a reference on the IPC namespace for as long as it lives
 * (get_ipc_ns in do_shmat, put_ipc_ns in shm_release).
 */
export class ShmAttachFile implements MappedFile {
  /** References: the shmat in progress plus one per VMA (get_file/fput). */
  private refs = 1;
  readonly vmOps = shmVmOps;

  /** sfd->id: the segment's id at attach time. */
  readonly id: number;
  /** sfd->file: the segment's shmem file. */
  readonly base: ShmFile;
  /**
   * The segment's page cache (its file's mapping). Copied from `base`,
   * which never changes it, as is `hugePageSize`: the attach path reads
   * both several times, and a field costs V8 less than a getter.
   */
  readonly cache: PageCache;
  /**
   * The segment file's huge page size for SHM_HUGETLB (0 otherwise): the
   * attach file then uses shm_file_operations_huge, whose
   * get_unmapped_area and the VMA's may_split (shm_may_split) forward to
   * hugetlbfs, and its mmap (shm_mmap) to hugetlbfs_file_mmap.
   */
  readonly hugePageSize: number;

  constructor(
    readonly ns: ShmNamespace,
    /** The segment attached (its id and file are what sfd records). */
    readonly segment: Segment,
    /** Opened O_RDWR (false for SHM_RDONLY, O_RDONLY). */
    readonly writable: boolean,
  ) {
    this.id = segment.id;
    const base = this.base = segment.file!;
    this.cache = base.cache;
    this.hugePageSize = base.hugePageSize;
    ns.ref.get();
  }

  /**
   * Pages a fault can populate: the file's pages for shmem; none for a
   * hugetlb file whose pool is empty, so every touch is SIGBUS there
   * (hugetlb_no_page() cannot allocate).
   */
  get sizePages() { return this.base.cache.pageCount; }
  get path() { return this.base.path; }
  get dev() { return this.base.dev; }
  get ino() { return this.base.ino; }
  readonly readable = true;

  get(): void {
    this.refs++;
  }

  /** fput(); the last one is shm_release(): drop the namespace reference. */
  put(): void {
    if (--this.refs === 0) this.ns.ref.put();
    else if (this.refs < 0) throw new Error('shm attach file: reference count went negative');
  }
}

/** True when a VMA maps a SysV segment (vma->vm_ops == &shm_vm_ops). */
export function isShmVma(vma: Vma): boolean {
  return vma.file instanceof ShmAttachFile;
}

// On every fault (vma.file): keep the hidden class when no attach is left (see mm/shapes.ts).
pinShape(new ShmAttachFile(
  { ref: { get() {} } } as unknown as ShmNamespace, { id: 0, file: SHM_FILE_EXEMPLAR } as unknown as Segment, true,
));
