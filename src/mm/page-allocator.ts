/**
 * Kernel-wide page accounting: the pages the model has allocated (anonymous
 * and shmem), the overcommit accounting of mm/util.c (vm_committed_as and
 * __vm_enough_memory) and the vm.* sysctls the memory manager consults.
 *
 * Every page the model hands out is counted here; when every address space and
 * every shmem file has been torn down, `allocatedPages` must be back to 0.
 */
import os from 'node:os';

import {
  MAX_MAP_COUNT_DEFAULT, MMAP_MIN_ADDR_DEFAULT, LSM_MMAP_MIN_ADDR_DEFAULT, PAGE_SIZE,
} from '../abi/constants.js';
import { defaultHugetlbPool, type HugetlbPool } from './hugetlb.js';
import { StoragePool, STORAGE_POOL_BYTES_DEFAULT } from './storage-pool.js';

export const OVERCOMMIT_GUESS = 0;
export const OVERCOMMIT_ALWAYS = 1;
export const OVERCOMMIT_NEVER = 2;

/** The vm.* sysctls (one set per machine, like Linux). */
export interface VmSysctl {
  /** vm.max_map_count (65530). */
  maxMapCount: number;
  /** vm.mmap_min_addr (dac_mmap_min_addr: the CAP_SYS_RAWIO check, 4096). */
  mmapMinAddr: number;
  /**
   * CONFIG_LSM_MMAP_MIN_ADDR (65536 on the reference kernel). The kernel's
   * effective mmap_min_addr is max(vm.mmap_min_addr, this): non-fixed hints
   * below it are raised to it and placement never goes below it.
   */
  lsmMmapMinAddr: number;
  /** vm.overcommit_memory: 0 heuristic, 1 always, 2 never. */
  overcommitMemory: number;
  /** vm.overcommit_ratio (50). */
  overcommitRatio: number;
  /** vm.overcommit_kbytes (0: use the ratio). */
  overcommitKbytes: number;
  /** vm.admin_reserve_kbytes (8 MiB by default on large machines). */
  adminReserveKbytes: number;
  /** vm.user_reserve_kbytes (128 MiB by default on large machines). */
  userReserveKbytes: number;
}

export interface PageAllocatorOptions {
  totalRamPages?: number;
  totalSwapPages?: number;
  sysctl?: Partial<VmSysctl>;
  /**
   * Huge page sizes and pools (default: x86_64's 2 MiB and 1 GiB, empty).
   * The Kernel's options carry the same field (its HugetlbConfig), so the
   * memory manager and SysV see one configuration.
   */
  hugetlb?: Partial<HugetlbPool>;
  /**
   * Bound, in bytes, of the pool of zeroed page storage recycled from
   * destroyed shmem files (StoragePool; default 256 MiB, 0 disables it).
   */
  storagePoolBytes?: number;
}

export class PageAllocator {
  /** Pages currently allocated (anonymous + shmem). */
  allocatedPages = 0;
  /** Of which shmem (page cache) pages: /proc/meminfo Shmem. */
  shmemPages = 0;
  /** Highest value `allocatedPages` reached. */
  peakPages = 0;
  /** vm_committed_as, in pages. */
  committedPages = 0;
  totalRamPages: number;
  totalSwapPages: number;
  readonly sysctl: VmSysctl;
  /** The hstates of the machine (anonymous MAP_HUGETLB, hugetlbfs devices). */
  readonly hugetlb: HugetlbPool;
  /** Zeroed page storage of destroyed shmem files, for the next ones (the free lists). */
  readonly storagePool: StoragePool;

  constructor(opts: PageAllocatorOptions = {}) {
    this.totalRamPages = opts.totalRamPages ?? Math.floor(os.totalmem() / PAGE_SIZE);
    this.totalSwapPages = opts.totalSwapPages ?? 0;
    this.sysctl = {
      maxMapCount: MAX_MAP_COUNT_DEFAULT,
      mmapMinAddr: Number(MMAP_MIN_ADDR_DEFAULT),
      lsmMmapMinAddr: Number(LSM_MMAP_MIN_ADDR_DEFAULT),
      overcommitMemory: OVERCOMMIT_GUESS,
      overcommitRatio: 50,
      overcommitKbytes: 0,
      adminReserveKbytes: 8192,
      userReserveKbytes: 131072,
      ...opts.sysctl,
    };
    const hp = defaultHugetlbPool();
    this.hugetlb = {
      sizes: opts.hugetlb?.sizes ?? hp.sizes,
      freePages: opts.hugetlb?.freePages ?? hp.freePages,
    };
    this.storagePool = new StoragePool(opts.storagePoolBytes ?? STORAGE_POOL_BYTES_DEFAULT);
  }

  /** The kernel's effective mmap_min_addr (security/min_addr.c). */
  get effectiveMmapMinAddr(): number {
    return Math.max(this.sysctl.mmapMinAddr, this.sysctl.lsmMmapMinAddr);
  }

  /** Records the allocation of `n` pages (one page per call in practice). */
  alloc(n = 1, shmem = false): void {
    this.allocatedPages += n;
    if (shmem) this.shmemPages += n;
    if (this.allocatedPages > this.peakPages) this.peakPages = this.allocatedPages;
  }

  /** Records that `n` pages were freed. */
  free(n = 1, shmem = false): void {
    this.allocatedPages -= n;
    if (shmem) this.shmemPages -= n;
    if (this.allocatedPages < 0 || this.shmemPages < 0) {
      throw new Error(`PageAllocator: freed more pages than allocated (${this.allocatedPages}, shmem ${this.shmemPages})`);
    }
  }

  /** vm_commit_limit() in pages. */
  commitLimit(): number {
    const s = this.sysctl;
    const allowed = s.overcommitKbytes
      ? Math.floor(s.overcommitKbytes / (PAGE_SIZE / 1024))
      : Math.floor(this.totalRamPages * s.overcommitRatio / 100);
    return allowed + this.totalSwapPages;
  }

  /**
   * __vm_enough_memory(): charges `pages` to the commit counter and returns 0,
   * or returns -ENOMEM (12) and charges nothing. `totalVmPages` is the
   * caller's mm->total_vm (0 when there is no mm, as for a SysV segment
   * created by a kernel thread), `capSysAdmin` its CAP_SYS_ADMIN.
   */
  vmEnoughMemory(pages: number, capSysAdmin: boolean, totalVmPages: number | null = null): number {
    this.committedPages += pages;
    const mode = this.sysctl.overcommitMemory;
    if (mode === OVERCOMMIT_ALWAYS) return 0;
    if (mode === OVERCOMMIT_GUESS) {
      if (pages > this.totalRamPages + this.totalSwapPages) {
        this.committedPages -= pages;
        return -12;
      }
      return 0;
    }
    let allowed = this.commitLimit();
    if (!capSysAdmin) allowed -= Math.floor(this.sysctl.adminReserveKbytes / (PAGE_SIZE / 1024));
    if (totalVmPages !== null) {
      const reserve = Math.floor(this.sysctl.userReserveKbytes / (PAGE_SIZE / 1024));
      allowed -= Math.min(Math.floor(totalVmPages / 32), reserve);
    }
    if (this.committedPages < allowed) return 0;
    this.committedPages -= pages;
    return -12;
  }

  /** vm_acct_memory(): charges without checking. */
  acctMemory(pages: number): void {
    this.committedPages += pages;
  }

  /** vm_unacct_memory(). */
  unacctMemory(pages: number): void {
    this.committedPages -= pages;
    if (this.committedPages < 0) throw new Error(`PageAllocator: commit counter went negative (${this.committedPages})`);
  }
}
