/**
 * shmget(2): ipc/shm.c ksys_shmget(), newseg(), shm_more_checks(); the
 * shmem/hugetlb file setup of mm/shmem.c __shmem_file_setup() and
 * fs/hugetlbfs/inode.c hugetlb_file_setup().
 */
import {
  Capability, IPC_CREAT, IPC_EXCL, IPC_PRIVATE, PAGE_SIZE, SHM_HUGETLB, SHM_HUGE_MASK, SHM_HUGE_SHIFT, SHM_NORESERVE, SHMMIN,
} from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import { inGroupP } from '../auth/cred.js';
import { capable } from '../auth/capability.js';
import { ipcperms, S_IRWXUGO } from '../ipc/perm.js';
import { OVERCOMMIT_ALWAYS, OVERCOMMIT_NEVER } from '../mm/page-allocator.js';
import { Segment, ShmFile } from './segment.js';
import { userShmLock, userShmUnlock } from './lock.js';
import type { ShmTask } from './task.js';

const PAGE = BigInt(PAGE_SIZE);
/** MAX_LFS_FILESIZE on 64-bit: LLONG_MAX. */
const MAX_LFS_FILESIZE = (1n << 63n) - 1n;

/** "SYSV%08x" of a key (a negative key prints as its 32-bit two's complement). */
export function sysvName(key: number): string {
  return 'SYSV' + (key >>> 0).toString(16).padStart(8, '0');
}

/**
 * shmem_acct_size() -> security_vm_enough_memory_mm() (mm/util.c
 * __vm_enough_memory): charges `pages` to the commit counter, or fails with
 * -ENOMEM under the vm.overcommit_memory policy.
 */
function vmEnoughMemory(current: ShmTask, pages: bigint): number {
  const a = current.shmNs.kernel.allocator;
  // A request beyond any counter cannot be satisfied under any policy but "always".
  if (pages > BigInt(Number.MAX_SAFE_INTEGER)) {
    return a.sysctl.overcommitMemory === OVERCOMMIT_ALWAYS ? 0 : -Errno.ENOMEM;
  }
  return a.vmEnoughMemory(Number(pages), current.capable(Capability.CAP_SYS_ADMIN), current.mm.totalVmPages());
}

/** hugetlb_file_setup(): the file, or a negative errno. */
function hugetlbFileSetup(current: ShmTask, name: string, size: bigint, shmflg: number): ShmFile | number {
  const kernel = current.shmNs.kernel;
  const log = (shmflg >>> SHM_HUGE_SHIFT) & SHM_HUGE_MASK;
  // hstate_sizelog(): 0 is the default huge page size.
  const hsize = log === 0 ? kernel.hugetlb.sizes[0] : kernel.hugetlb.sizes.find((s) => s === 2 ** log);
  if (hsize === undefined) return -Errno.EINVAL;
  const hugesize = ((size + BigInt(hsize) - 1n) / BigInt(hsize)) * BigInt(hsize);
  // can_do_hugetlb_shm(): CAP_IPC_LOCK in the initial namespace or hugetlb_shm_group.
  if (!capable(current.cred, Capability.CAP_IPC_LOCK) && !inGroupP(current.cred, kernel.hugetlb.shmGroup)) {
    // The old rlimit path only logs a warning now.
    const u = current.ucounts();
    if (userShmLock(hugesize, u, current)) userShmUnlock(hugesize, u);
    return -Errno.EPERM;
  }
  // hugetlb_reserve_pages(): skipped for VM_NORESERVE.
  if ((shmflg & SHM_NORESERVE) === 0 && hugesize / BigInt(hsize) > BigInt(kernel.hugetlb.freePages(hsize))) {
    return -Errno.ENOMEM;
  }
  return new ShmFile(kernel.allocator, hugesize, name, hsize, 0);
}

/** __shmem_file_setup(): the file, or a negative errno. */
function shmemFileSetup(current: ShmTask, name: string, size: bigint, noreserve: boolean): ShmFile | number {
  if (size > MAX_LFS_FILESIZE) return -Errno.EINVAL; // loff_t size < 0
  let accounted = 0;
  if (!noreserve) {
    const pages = (size + PAGE - 1n) / PAGE;
    const err = vmEnoughMemory(current, pages);
    if (err) return err;
    accounted = pages > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(pages);
  }
  return new ShmFile(current.shmNs.kernel.allocator, size, name, 0, accounted);
}

/** newseg(): creates a segment; returns its id or a negative errno. */
export function newseg(current: ShmTask, key: number, shmflg: number, size: bigint): number {
  const ns = current.shmNs;
  const numpages = (size + PAGE - 1n) / PAGE;
  if (size < BigInt(SHMMIN) || size > ns.ctlmax) return -Errno.EINVAL;
  if (numpages * PAGE < size || numpages * PAGE >= 1n << 64n) return -Errno.ENOSPC;
  const tot = ns.shmTot + numpages;
  if (tot >= 1n << 64n || tot > ns.ctlall) return -Errno.ENOSPC;

  const name = sysvName(key);
  let file: ShmFile | number;
  if (shmflg & SHM_HUGETLB) {
    file = hugetlbFileSetup(current, name, size, shmflg);
  } else {
    // Do not allow no accounting for OVERCOMMIT_NEVER, even if it's asked for.
    const noreserve = (shmflg & SHM_NORESERVE) !== 0 &&
      ns.kernel.allocator.sysctl.overcommitMemory !== OVERCOMMIT_NEVER;
    file = shmemFileSetup(current, name, size, noreserve);
  }
  if (typeof file === 'number') return file;

  const shp = new Segment(ns, key, shmflg & S_IRWXUGO, size, file, current, ns.kernel.now());
  const id = ns.ids.addId(shp, ns.ctlmni, current.cred);
  if (id < 0) {
    // no_id: fput(file) frees the inode and unaccounts it.
    file.cache.destroy();
    ns.kernel.allocator.committedPages -= file.accountedPages;
    return id;
  }
  current.shmCreated.add(shp);
  // shmid gets reported as "inode#" in /proc/pid/maps.
  file.ino = shp.id;
  ns.shmTot += numpages;
  return shp.id;
}

/**
 * ksys_shmget(): ipcget() with newseg / shm_more_checks. A lookup of an
 * existing key is the most frequent shmget (bench: lookup): it is done here,
 * as ipcget_public() does it, without building the ipc_ops closures; this
 * function stays small so that the JIT inlines it into its caller. `key` and
 * `shmflg` are C ints (the system-call layer converts them; recomputing
 * `key | 0` here would box an ftok() key above 2^30 again); `size` is a u64:
 * a number when it is a safe integer, else a bigint.
 */
export function shmget(current: ShmTask, key: number, size: number | bigint, shmflg: number): number {
  if (key !== IPC_PRIVATE) {
    const ns = current.shmNs;
    const shp = ns.ids.findKey(key);
    if (shp !== undefined) {
      // ipcget_public() on a found key: EEXIST, then shm_more_checks(), then
      // ipc_check_perms(): ipcperms() and security_shm_associate() (no LSM: 0).
      if ((shmflg & IPC_CREAT) !== 0 && (shmflg & IPC_EXCL) !== 0) return -Errno.EEXIST;
      if (typeof size === 'number' ? shp.segszNumber < size : shp.segsz < size) return -Errno.EINVAL;
      return ipcperms(ns.userNs, shp, shmflg, current.cred) !== 0 ? -Errno.EACCES : shp.id;
    }
  }
  return shmgetNew(current, key, BigInt(size), shmflg);
}

/**
 * The rest of ipcget() once the key is known to be IPC_PRIVATE (ipcget_new())
 * or not found (ipcget_public()): ENOENT without IPC_CREAT, else newseg().
 * No second lookup and no ipc_ops closures: what the JIT inlines into
 * shmget()'s callers stays small, so that they inline shmget() itself.
 */
function shmgetNew(current: ShmTask, key: number, size: bigint, shmflg: number): number {
  if (key !== IPC_PRIVATE && (shmflg & IPC_CREAT) === 0) return -Errno.ENOENT;
  return newseg(current, key, shmflg, size);
}
