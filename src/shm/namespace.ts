/**
 * The shm part of an IPC namespace (ipc/shm.c shm_init_ns, shm_exit_ns,
 * shm_destroy, do_shm_rmid, shm_destroy_orphaned; include/linux/ipc_namespace.h
 * shm_ctlmax/shm_ctlall/shm_ctlmni/shm_rmid_forced/shm_tot).
 */
import { IpcIds } from '../ipc/ids.js';
import type { UserNamespace } from '../auth/userns.js';
import type { PageAllocator } from '../mm/page-allocator.js';
import { SHMALL_DEFAULT, SHMMAX_DEFAULT, SHMMNI_DEFAULT, SHM_DEST } from '../abi/constants.js';
import { word, wordBig, type Word } from '../abi/word.js';
import type { Segment } from './segment.js';
import { userShmUnlock } from './lock.js';

/** The huge page sizes the machine offers (hstates) and their pools. */
export interface HugetlbConfig {
  /** Supported huge page sizes in bytes; the first is the default. */
  sizes: number[];
  /** Free huge pages per size (nr_hugepages - used): 0 on the reference host. */
  freePages(size: number): number;
  /** vm.hugetlb_shm_group (a kernel gid). */
  shmGroup: number;
}

/** What every namespace shares with the rest of the kernel. */
export interface ShmKernelContext {
  readonly allocator: PageAllocator;
  readonly hugetlb: HugetlbConfig;
  /** ktime_get_real_seconds(). */
  now(): number;
}

/** get_ipc_ns()/put_ipc_ns() on the IPC namespace this shm state belongs to. */
export interface NamespaceRef {
  get(): void;
  put(): void;
}

export class ShmNamespace {
  readonly ids = new IpcIds<Segment>();
  /**
   * shm_tot: Σ ceil(segsz / PAGE_SIZE) over the namespace's segments,
   * SHM_DEST ones included (pages), as a word (a number below 2^53, a
   * bigint only above): creating and destroying a segment is then number
   * arithmetic (bench: cycle). Always below 2^64 (newseg's check).
   */
  shmTotWord: Word = 0;
  #ctlmax = SHMMAX_DEFAULT;
  #ctlall = SHMALL_DEFAULT;
  /**
   * Number(shm_ctlmax), Number(shm_ctlall): exact up to 2^53, and above
   * that at least 2^53, greater than every safe integer. So a safe-integer
   * size or page count compares with them exactly without a BigInt
   * operation (newseg()'s checks).
   */
  ctlmaxNumber = Number(SHMMAX_DEFAULT);
  ctlallNumber = Number(SHMALL_DEFAULT);
  /** kernel.shmmni: 0..IPCMNI. */
  ctlmni = SHMMNI_DEFAULT;
  /** kernel.shm_rmid_forced: 0 or 1. */
  rmidForced = 0;

  constructor(
    /** The user namespace that owns the IPC namespace (ns->user_ns). */
    readonly userNs: UserNamespace,
    readonly kernel: ShmKernelContext,
    readonly ref: NamespaceRef,
  ) {}

  /** kernel.shmmax (bytes): unsigned long. */
  get ctlmax(): bigint {
    return this.#ctlmax;
  }
  set ctlmax(v: bigint) {
    this.#ctlmax = v;
    this.ctlmaxNumber = Number(v);
  }

  /** kernel.shmall (pages): unsigned long. */
  get ctlall(): bigint {
    return this.#ctlall;
  }
  set ctlall(v: bigint) {
    this.#ctlall = v;
    this.ctlallNumber = Number(v);
  }

  /** shm_tot as a bigint (SHM_INFO). */
  get shmTot(): bigint {
    return wordBig(this.shmTotWord);
  }
  set shmTot(v: bigint) {
    this.shmTotWord = word(v);
  }

  /** shm_tot += pages (newseg; the caller checked that the sum stays below 2^64). */
  addShmTot(pages: Word): void {
    const t = this.shmTotWord;
    if (typeof t === 'number' && typeof pages === 'number' && t + pages <= Number.MAX_SAFE_INTEGER) {
      this.shmTotWord = t + pages;
    } else {
      this.shmTotWord = word(wordBig(t) + wordBig(pages));
    }
  }

  /** shm_tot -= pages (shm_destroy). */
  subShmTot(pages: number): void {
    const t = this.shmTotWord;
    this.shmTotWord = typeof t === 'number' ? t - pages : word(t - BigInt(pages));
  }

  /** shm_may_destroy(): no VMA maps it and it was removed, or removal is forced. */
  mayDestroy(shp: Segment): boolean {
    return shp.nattch === 0 && (this.rmidForced !== 0 || (shp.mode & SHM_DEST) !== 0);
  }

  /** Destroys the segment if shm_may_destroy() says so (the test after every close). */
  destroyIfUnused(shp: Segment): void {
    if (this.mayDestroy(shp)) this.destroy(shp);
  }

  /**
   * shm_destroy(): shm_tot shrinks, the id and key are freed, the creator
   * link is cut, an SHM_LOCK charge is released and the pages are freed.
   */
  destroy(shp: Segment): void {
    const file = shp.file;
    if (!file) throw new Error(`shm: segment ${shp.id} destroyed twice`);
    shp.file = null;
    this.subShmTot(shp.pages);
    // shm_rmid(): shm_clist_rm() then ipc_rmid().
    if (shp.creator) {
      shp.creator.shmCreated.delete(shp);
      shp.creator = null;
    }
    this.ids.rmid(shp);
    // shmem_lock(file, 0, mlock_ucounts) for non-hugetlb files.
    if (file.locked && shp.mlockUcounts) userShmUnlock(file.size, shp.mlockUcounts);
    file.locked = false;
    shp.mlockUcounts = null;
    // fput(): the last reference frees the inode and its pages
    // (shmem_evict_inode), and unaccounts the commit charge.
    file.cache.destroy();
    this.kernel.allocator.committedPages -= file.accountedPages;
  }

  /**
   * do_shm_rmid() (IPC_RMID, namespace teardown): destroy now if unattached,
   * else mark SHM_DEST and take the key out of the key table (key becomes 0).
   */
  rmid(shp: Segment): void {
    if (shp.nattch !== 0) {
      shp.mode |= SHM_DEST;
      this.ids.setKeyPrivate(shp);
    } else {
      this.destroy(shp);
    }
  }

  /**
   * shm_destroy_orphaned() (writing or reading kernel.shm_rmid_forced while
   * it is 1): destroys every orphaned segment that may be destroyed.
   */
  destroyOrphaned(): void {
    for (const shp of [...this.ids]) {
      if (shp.creator === null && this.mayDestroy(shp)) this.destroy(shp);
    }
  }

  /** shm_exit_ns() -> free_ipcs(do_shm_rmid): the namespace is going away. */
  exit(): void {
    this.ids.freeAll((shp) => this.rmid(shp));
  }

  /** shm_get_stat(): resident and swapped pages over all segments. */
  stat(): { rss: number; swp: number } {
    let rss = 0;
    for (const shp of this.ids) rss += shp.file ? rssPages(shp) : 0;
    return { rss, swp: 0 };
  }
}

/** Resident pages of a segment (shm_add_rss_swap; hugetlb pages count in base pages). */
export function rssPages(shp: Segment): number {
  return shp.file ? shp.file.cache.residentPages : 0;
}
