/**
 * A SysV shared-memory segment (ipc/shm.c struct shmid_kernel) and its
 * backing shmem file.
 */
import { KernIpcPerm } from '../ipc/perm.js';
import { PageCache } from '../mm/page-cache.js';
import type { PageAllocator } from '../mm/page-allocator.js';
import { hugetlbfsDev } from '../mm/hugetlb.js';
import { pinShape } from '../mm/shapes.js';
import { PAGE_SIZE } from '../abi/constants.js';
import { word, wordBig, type Word } from '../abi/word.js';
import type { Ucounts } from '../auth/ucounts.js';
import type { ShmNamespace } from './namespace.js';
import type { ShmTask } from './task.js';

/** The anonymous device of the internal shm mount (observed 00:01 on Linux). */
export const SHMEM_DEV = '00:01';
/** The device of the default (2 MiB) hstate's internal hugetlbfs mount (observed 00:11). */
export const HUGETLB_DEV = '00:11';

const PAGE_BIG = BigInt(PAGE_SIZE);

/**
 * Pages needed for `bytes` (rounding up), as a number (exact: bytes < 2^64,
 * so at most 2^52 pages). A number of bytes is a safe integer: dividing it
 * by a power of two is exact, and so is the ceiling.
 */
export function pagesOf(bytes: Word): number {
  if (typeof bytes === 'number') return Math.ceil(bytes / PAGE_SIZE);
  return Number((bytes + PAGE_BIG - 1n) / PAGE_BIG);
}

/** "SYSV%08x" of a key (a negative key prints as its 32-bit two's complement). */
export function sysvName(key: number): string {
  return 'SYSV' + (key >>> 0).toString(16).padStart(8, '0');
}

/**
 * The segment's file (shp->shm_file): an unlinked shmem file named
 * SYSV%08x, whose inode number is the segment id. For SHM_HUGETLB it is a
 * hugetlbfs file whose pages come from the (empty) huge page pool.
 */
export class ShmFile {
  readonly cache: PageCache;
  /** i_size in pages: touching a page at or beyond it raises SIGBUS. */
  readonly sizePages: number;
  /** `size` as a word (a number below 2^53): what shmat/shmdt compute with. */
  readonly sizeWord: Word;
  /** Set while SHM_LOCKed (shmem info->flags VM_LOCKED). */
  locked = false;
  ino = 0;
  /** The maps device column: "00:01", or the hugetlbfs mount of the huge page size. */
  readonly dev: string;

  constructor(
    allocator: PageAllocator,
    /** i_size in bytes: segsz, or segsz rounded up to the huge page size. */
    size: Word,
    /**
     * The key at creation: the file is named "SYSV%08x" of it, and the name
     * never changes. Only /proc/<pid>/maps and the tools read it, so the
     * string is built there (see `name`), not on every shmget.
     */
    readonly nameKey: number,
    /** Huge page size in bytes for SHM_HUGETLB segments, else 0. */
    readonly hugePageSize: number,
    /** Pages charged to the commit counter at creation (0 with SHM_NORESERVE). */
    readonly accountedPages: number,
  ) {
    this.sizeWord = word(size);
    this.sizePages = pagesOf(this.sizeWord);
    // A hugetlb file with an empty pool can never get a page: every touch is
    // SIGBUS (hugetlb_no_page() fails to allocate).
    this.cache = new PageCache(allocator, hugePageSize ? 0 : this.sizePages);
    // Each hstate has its own internal hugetlbfs mount (00:11 for 2 MiB,
    // 00:12 for 1 GiB, observed).
    this.dev = hugePageSize ? hugetlbfsDev(allocator.hugetlb, hugePageSize) : SHMEM_DEV;
  }

  get isHugetlb(): boolean {
    return this.hugePageSize !== 0;
  }

  /** i_size in bytes, as a bigint (SHM_LOCK's user_shm_lock() charge). */
  get size(): bigint {
    return wordBig(this.sizeWord);
  }

  /** The file name, "SYSV%08x" of the key at creation. */
  get name(): string {
    return sysvName(this.nameKey);
  }

  /** The maps column: "/SYSV%08x (deleted)". */
  get path(): string {
    return `/${this.name} (deleted)`;
  }
}

export class Segment extends KernIpcPerm {
  /**
   * shm_segsz: the size asked for at creation, not rounded; a word (a
   * number below 2^53, a bigint only above), so that creating a segment of
   * a sane size allocates no BigInt (bench: cycle).
   */
  readonly segsz: Word;
  /**
   * Number(segsz): exact up to 2^53, and above that still greater than every
   * safe integer, so it compares with a safe-integer size exactly, without a
   * BigInt operation (shm_more_checks() on shmget's lookup path).
   */
  readonly segszNumber: number;
  /** Seconds since the epoch; 0 = never. */
  atime = 0;
  dtime = 0;
  ctime: number;
  /** Creator's and last operator's tgid (0 = none). */
  readonly cpid: number;
  lpid = 0;
  /**
   * shm_nattch: the number of VMAs mapping the segment, plus one while a
   * shmat is in progress. Changed only by shm_open/shm_close (the VMA
   * open/close hooks) and by do_shmat's temporary reference.
   */
  nattch = 0;
  /** shp->shm_file; null once destroyed. */
  file: ShmFile | null;
  /** The ucounts charged by SHM_LOCK, or null when not locked. */
  mlockUcounts: Ucounts | null = null;
  /**
   * shm_creator: the creating task while it lives in the segment's
   * namespace; null once orphaned (creator exited or unshared). The segment
   * is then in no task's shmCreated set.
   */
  creator: ShmTask | null;
  /** The creator's list this segment is on (shp->shm_clist), and its neighbours there. */
  clist: ShmClist | null = null;
  clistPrev: Segment | null = null;
  clistNext: Segment | null = null;

  constructor(
    readonly ns: ShmNamespace,
    key: number,
    mode: number,
    segsz: Word,
    file: ShmFile,
    creator: ShmTask,
    now: number,
  ) {
    super(key, mode);
    this.segsz = segsz;
    this.segszNumber = Number(segsz);
    this.file = file;
    this.cpid = creator.pid;
    this.creator = creator;
    this.ctime = now;
  }

  /** ceil(segsz / PAGE_SIZE): what the segment adds to shm_tot. */
  get pages(): number {
    return pagesOf(this.segsz);
  }
}

/**
 * task->sysvshm.shm_clist: the segments a task created and that are not
 * orphaned yet, linked through the segments themselves (list_head
 * shp->shm_clist), in creation order. It answers what a Set<Segment> would
 * (has, add, delete, size, iteration) without the hash table: a Set's
 * add and delete of a new segment cost ~170 ns, most of a shmget +
 * IPC_RMID (bench: cycle).
 */
export class ShmClist {
  #first: Segment | null = null;
  #last: Segment | null = null;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(shp: Segment): boolean {
    return shp.clist === this;
  }

  /** list_add(): a segment is on one list at most. */
  add(shp: Segment): this {
    if (shp.clist === this) return this;
    if (shp.clist !== null) throw new Error(`shm: segment ${shp.id} is already on a creator's list`);
    shp.clist = this;
    shp.clistPrev = this.#last;
    shp.clistNext = null;
    if (this.#last) this.#last.clistNext = shp;
    else this.#first = shp;
    this.#last = shp;
    this.#size++;
    return this;
  }

  /** list_del(): false when the segment is not on this list. */
  delete(shp: Segment): boolean {
    if (shp.clist !== this) return false;
    const p = shp.clistPrev, n = shp.clistNext;
    if (p) p.clistNext = n; else this.#first = n;
    if (n) n.clistPrev = p; else this.#last = p;
    shp.clist = shp.clistPrev = shp.clistNext = null;
    this.#size--;
    return true;
  }

  /** The segments in creation order (safe against deleting the current one). */
  *[Symbol.iterator](): IterableIterator<Segment> {
    for (let s = this.#first; s !== null;) {
      const n = s.clistNext;
      yield s;
      s = n;
    }
  }
}

// Segments come and go: their classes keep their hidden classes when none is
// left (see mm/shapes.ts). The file exemplar also serves the attach file's.
export const SHM_FILE_EXEMPLAR = pinShape(new ShmFile({} as PageAllocator, 0, 0, 0, 0));
pinShape(new Segment({} as ShmNamespace, 0, 0, 0, SHM_FILE_EXEMPLAR, { pid: 0 } as ShmTask, 0));
