/**
 * SHM_LOCK / SHM_UNLOCK (ipc/shm.c shmctl_do_lock, mm/shmem.c shmem_lock,
 * mm/mlock.c user_shm_lock/user_shm_unlock).
 */
import { Capability, PAGE_SIZE, RLIM_INFINITY, SHM_LOCK, SHM_LOCKED } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import { nsCapable } from '../auth/capability.js';
import { LONG_MAX, type Ucounts } from '../auth/ucounts.js';
import { isIpcOwner } from '../ipc/perm.js';
import type { ShmTask } from './task.js';


function lockPages(size: bigint): bigint {
  return (size + BigInt(PAGE_SIZE) - 1n) / BigInt(PAGE_SIZE);
}

/**
 * user_shm_lock(): charges ceil(size/PAGE) pages to `ucounts`; allowed when
 * the per-user total stays within the caller's soft RLIMIT_MEMLOCK (in
 * pages) or the caller has CAP_IPC_LOCK in the initial user namespace.
 */
export function userShmLock(size: bigint, ucounts: Ucounts, current: ShmTask): boolean {
  const locked = lockPages(size);
  let limit = current.rlimitMemlock();
  if (limit !== RLIM_INFINITY) limit >>= 12n;
  const memlock = ucounts.incRlimit(locked);
  if ((memlock === LONG_MAX || memlock > limit) && !current.capable(Capability.CAP_IPC_LOCK)) {
    ucounts.decRlimit(locked);
    return false;
  }
  return true;
}

/** user_shm_unlock(). */
export function userShmUnlock(size: bigint, ucounts: Ucounts): void {
  ucounts.decRlimit(lockPages(size));
}

/** shmctl_do_lock(): SHM_LOCK and SHM_UNLOCK. Returns 0 or a negative errno. */
export function shmctlDoLock(current: ShmTask, shmid: number, cmd: number): number {
  const ns = current.shmNs;
  const shp = ns.ids.obtainObjectCheck(shmid);
  if (typeof shp === 'number') return shp;
  if (!nsCapable(current.cred, ns.userNs, Capability.CAP_IPC_LOCK)) {
    if (!isIpcOwner(shp, current.cred)) return -Errno.EPERM;
    if (cmd === SHM_LOCK && current.rlimitMemlock() === 0n) return -Errno.EPERM;
  }
  const file = shp.file!;
  if (file.isHugetlb) return 0;
  if (cmd === SHM_LOCK) {
    // shmem_lock(file, 1, current_ucounts())
    const ucounts = current.ucounts();
    if (!file.locked) {
      if (!userShmLock(file.size, ucounts, current)) return -Errno.ENOMEM;
      file.locked = true;
    }
    if ((shp.mode & SHM_LOCKED) === 0) {
      shp.mode |= SHM_LOCKED;
      shp.mlockUcounts = ucounts;
    }
    return 0;
  }
  // SHM_UNLOCK
  if ((shp.mode & SHM_LOCKED) === 0) return 0;
  if (file.locked && shp.mlockUcounts) userShmUnlock(file.size, shp.mlockUcounts);
  file.locked = false;
  shp.mode &= ~SHM_LOCKED;
  shp.mlockUcounts = null;
  return 0;
}
