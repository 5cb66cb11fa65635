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
import { Segment, ShmFile, sysvName } from './segment.js';
import { word, wordBig, type Word } from '../abi/word.js';
import { userShmLock, userShmUnlock } from './lock.js';
import type { ShmTask } from './task.js';

const PAGE = BigInt(PAGE_SIZE);
/** MAX_LFS_FILESIZE on 64-bit: LLONG_MAX. */
const MAX_LFS_FILESIZE = (1n << 63n) - 1n;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** "SYSV%08x" of a key; re-exported: the name is built lazily (ShmFile.name). */
export { sysvName };

/**
 * shmem_acct_size() -> security_vm_enough_memory_mm() (mm/util.c
 * __vm_enough_memory): charges `pages` to the commit counter, or fails with
 * -ENOMEM under the vm.overcommit_memory policy.
 */
function vmEnoughMemory(current: ShmTask, pages: Word): number {
  const a = current.shmNs.kernel.allocator;
  // A request beyond any counter cannot be satisfied under any policy but "always".
  if (typeof pages !== 'number' || pages > MAX_SAFE) {
    return a.sysctl.overcommitMemory === OVERCOMMIT_ALWAYS ? 0 : -Errno.ENOMEM;
  }
  // cap_vm_enough_memory()'s CAP_SYS_ADMIN test (cap_capable(), a pure test
  // with CAP_OPT_NOAUDIT) and the user reserve only count under
  // OVERCOMMIT_NEVER: skipped otherwise (a capability test costs a BigInt).
  if (a.sysctl.overcommitMemory !== OVERCOMMIT_NEVER) return a.vmEnoughMemory(pages, false, null);
  return a.vmEnoughMemory(pages, current.capable(Capability.CAP_SYS_ADMIN), current.mm.totalVmPages());
}

/** hugetlb_file_setup(): the file, or a negative errno. */
function hugetlbFileSetup(current: ShmTask, key: number, sizeWord: Word, shmflg: number): ShmFile | number {
  const kernel = current.shmNs.kernel;
  const log = (shmflg >>> SHM_HUGE_SHIFT) & SHM_HUGE_MASK;
  // hstate_sizelog(): 0 is the default huge page size.
  const hsize = log === 0 ? kernel.hugetlb.sizes[0] : kernel.hugetlb.sizes.find((s) => s === 2 ** log);
  if (hsize === undefined) return -Errno.EINVAL;
  const size = wordBig(sizeWord);
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
  return new ShmFile(kernel.allocator, word(hugesize), key, hsize, 0);
}

/** __shmem_file_setup(): the file, or a negative errno. `size` is a word. */
function shmemFileSetup(current: ShmTask, key: number, size: Word, noreserve: boolean): ShmFile | number {
  // loff_t size < 0 (a number is below 2^53).
  if (typeof size !== 'number' && size > MAX_LFS_FILESIZE) return -Errno.EINVAL;
  let accounted = 0;
  if (!noreserve) {
    const pages: Word = typeof size === 'number' ? Math.ceil(size / PAGE_SIZE) : word((size + PAGE - 1n) / PAGE);
    const err = vmEnoughMemory(current, pages);
    if (err) return err;
    accounted = typeof pages === 'number' ? pages : 0;
  }
  return new ShmFile(current.shmNs.kernel.allocator, size, key, 0, accounted);
}

/**
 * newseg()'s size checks in exact 64-bit arithmetic (a size of 2^53 or
 * more, or a shm_tot that is): ceil(size / PAGE_SIZE) as a word, or a
 * negative errno.
 */
function newsegChecksBig(ns: ShmTask['shmNs'], size: bigint): Word {
  const numpages = (size + PAGE - 1n) / PAGE;
  if (size < BigInt(SHMMIN) || size > ns.ctlmax) return -Errno.EINVAL;
  if (numpages * PAGE < size || numpages * PAGE >= 1n << 64n) return -Errno.ENOSPC;
  const tot = ns.shmTot + numpages;
  if (tot >= 1n << 64n || tot > ns.ctlall) return -Errno.ENOSPC;
  return word(numpages);
}

/**
 * newseg(): creates a segment; returns its id or a negative errno. `size`
 * is a u64, a number when it is a safe integer (the common case: no BigInt
 * operation at all), else a bigint.
 */
export function newseg(current: ShmTask, key: number, shmflg: number, size: number | bigint): number {
  const ns = current.shmNs;
  let numpages: Word;
  const tot = ns.shmTotWord;
  if (typeof size === 'number' && typeof tot === 'number') {
    // size < 2^53: numpages << PAGE_SHIFT cannot overflow, and shm_tot +
    // numpages < 2^54 cannot wrap; ctlmaxNumber/ctlallNumber compare exactly.
    if (size < SHMMIN || size > ns.ctlmaxNumber) return -Errno.EINVAL;
    numpages = Math.ceil(size / PAGE_SIZE);
    const sum = tot + numpages;
    if (sum > MAX_SAFE) {
      const r = newsegChecksBig(ns, BigInt(size));
      if (typeof r === 'number' && r < 0) return r;
    } else if (sum > ns.ctlallNumber) {
      return -Errno.ENOSPC;
    }
  } else {
    const r = newsegChecksBig(ns, BigInt(size));
    if (typeof r === 'number' && r < 0) return r;
    numpages = r;
    size = word(size);
  }

  let file: ShmFile | number;
  if (shmflg & SHM_HUGETLB) {
    file = hugetlbFileSetup(current, key, size, shmflg);
  } else {
    // Do not allow no accounting for OVERCOMMIT_NEVER, even if it's asked for.
    const noreserve = (shmflg & SHM_NORESERVE) !== 0 &&
      ns.kernel.allocator.sysctl.overcommitMemory !== OVERCOMMIT_NEVER;
    file = shmemFileSetup(current, key, size, noreserve);
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
  ns.addShmTot(numpages);
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
  return shmgetNew(current, key, size, shmflg);
}

/**
 * The rest of ipcget() once the key is known to be IPC_PRIVATE (ipcget_new())
 * or not found (ipcget_public()): ENOENT without IPC_CREAT, else newseg().
 * No second lookup and no ipc_ops closures: what the JIT inlines into
 * shmget()'s callers stays small, so that they inline shmget() itself.
 */
function shmgetNew(current: ShmTask, key: number, size: number | bigint, shmflg: number): number {
  if (key !== IPC_PRIVATE && (shmflg & IPC_CREAT) === 0) return -Errno.ENOENT;
  return newseg(current, key, shmflg, size);
}
