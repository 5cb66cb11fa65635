/**
 * The generic get/ctl paths of SysV IPC (ipc/util.c ipcget(),
 * ipcget_new(), ipcget_public(), ipc_check_perms(), ipcctl_obtain_check()).
 * The namespace's ids rwsem is implicit: the model is single-threaded, so
 * every call here is atomic, as the lock makes it in Linux.
 */
import { Capability, IPC_CREAT, IPC_EXCL, IPC_PRIVATE } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import { nsCapable } from '../auth/capability.js';
import type { Credentials } from '../auth/cred.js';
import type { UserNamespace } from '../auth/userns.js';
import type { IpcIds } from './ids.js';
import { ipcperms, isIpcOwner, type KernIpcPerm } from './perm.js';

/** struct ipc_ops: the type-specific parts of *get(). */
export interface IpcOps<T extends KernIpcPerm> {
  /** Creates and registers a new object (shm: newseg()); returns its id or a negative errno. */
  getnew(): number;
  /**
   * Extra checks on an existing object, before the permission check (shm:
   * shm_more_checks(): requested size > segsz -> -EINVAL). 0 or a negative errno.
   */
  moreChecks?(obj: T): number;
  /** The LSM associate hook (security_shm_associate()): 0 or a negative errno. */
  associate?(obj: T, flg: number): number;
}

/**
 * ipc/util.c ipc_check_perms(): ipcperms() with the get flags (-EACCES),
 * then the associate hook; the object's id on success.
 */
export function ipcCheckPerms<T extends KernIpcPerm>(
  nsUserNs: UserNamespace, obj: T, ops: IpcOps<T>, flg: number, cred: Credentials,
): number {
  if (ipcperms(nsUserNs, obj, flg, cred) !== 0) return -Errno.EACCES;
  const err = ops.associate ? ops.associate(obj, flg) : 0;
  return err !== 0 ? err : obj.id;
}

/**
 * ipc/util.c ipcget() (shmget/msgget/semget):
 *  - key IPC_PRIVATE: ipcget_new() -> getnew(), whatever the flags;
 *  - otherwise ipcget_public(): look the key up;
 *    - not found: -ENOENT without IPC_CREAT, else getnew();
 *    - found: -EEXIST when both IPC_CREAT and IPC_EXCL; else moreChecks()
 *      (shm: size -> -EINVAL); else ipcperms() with flg (-EACCES); else the
 *      associate hook; else the existing id.
 * `nsUserNs` is the user namespace owning the IPC namespace (for
 * CAP_IPC_OWNER). Returns the id or a negative errno.
 */
export function ipcget<T extends KernIpcPerm>(
  ids: IpcIds<T>, key: number, flg: number, ops: IpcOps<T>, nsUserNs: UserNamespace, cred: Credentials,
): number {
  key |= 0;
  flg |= 0;
  if (key === IPC_PRIVATE) return ops.getnew(); // ipcget_new()
  // ipcget_public()
  const obj = ids.findKey(key);
  if (obj === undefined) {
    if ((flg & IPC_CREAT) === 0) return -Errno.ENOENT;
    return ops.getnew();
  }
  if ((flg & IPC_CREAT) !== 0 && (flg & IPC_EXCL) !== 0) return -Errno.EEXIST;
  const err = ops.moreChecks ? ops.moreChecks(obj) : 0;
  if (err !== 0) return err;
  return ipcCheckPerms(nsUserNs, obj, ops, flg, cred);
}

/**
 * ipc/util.c ipcctl_obtain_check() (IPC_SET / IPC_RMID): the object by id
 * with the seq check (-EINVAL), then the caller must be its creator or owner
 * (euid == cuid or uid) or have CAP_SYS_ADMIN in `nsUserNs` (the user
 * namespace owning the IPC namespace), else -EPERM. A negative id must be
 * rejected by the caller.
 */
export function ipcctlObtainCheck<T extends KernIpcPerm>(
  ids: IpcIds<T>, nsUserNs: UserNamespace, id: number, cred: Credentials,
): T | number {
  const obj = ids.obtainObjectCheck(id);
  if (typeof obj === 'number') return obj;
  if (isIpcOwner(obj, cred) || nsCapable(cred, nsUserNs, Capability.CAP_SYS_ADMIN)) return obj;
  return -Errno.EPERM;
}
