/**
 * shmctl(2): ipc/shm.c ksys_shmctl(), shmctl_stat(), shmctl_ipc_info(),
 * shmctl_shm_info(), shmctl_down(). Buffers use the x86_64 layouts of
 * struct shmid64_ds, shminfo64 and shm_info (spec 10.1).
 */
import {
  IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, SHM_INFO, SHM_LOCK, SHM_STAT, SHM_STAT_ANY,
  SHM_UNLOCK, SHMMIN,
} from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import { ipc64PermIsIdentity, ipcperms, ipcUpdatePerm, kernelToIpc64PermInto } from '../ipc/perm.js';
import { ipcctlObtainCheck } from '../ipc/util.js';
import { shmctlDoLock } from './lock.js';
import {
  SHMID64_DS_SIZE, SHMINFO64_SIZE, SHM_INFO_SIZE, decodeIpcSet, encodeShmidDsBytes, encodeShmInfo64,
  encodeShmInfo64To, encodeShmInfoDs, encodeShmInfoDsTo, type Ipc64Perm, type ShmInfo64Fields, type ShmInfoDsFields,
} from '../abi/structs.js';
import type { ShmTask } from './task.js';
import type { Segment } from './segment.js';
import type { UserNamespace } from '../auth/userns.js';

/**
 * The user-memory side of shmctl when it is not plain bytes: where the
 * kernel copies structures to and from (an emulator's guest memory).
 */
export interface UserBuffer {
  /** copy_to_user(): false means the address is bad (EFAULT). */
  copyTo(bytes: Uint8Array): boolean;
  /** copy_from_user() of `len` bytes: null means the address is bad (EFAULT). */
  copyFrom(len: number): Uint8Array | null;
}

/**
 * shmctl's `buf`: a UserBuffer, or a byte array that is the user memory
 * itself. A byte array receives the structure in place (no intermediate
 * copy or allocation: bench: stat); one shorter than the structure is a
 * fault (EFAULT), and bytes past the structure are left alone.
 */
export type ShmctlBuffer = UserBuffer | Uint8Array;

const S_IRUGO = 0o444;

/**
 * tbuf->shm_perm of shmctl_stat() (a local of ksys_shmctl() in Linux): one
 * record reused by every call, filled by kernel_to_ipc64_perm() and encoded
 * before shmctl returns, so that IPC_STAT allocates nothing (bench: stat).
 */
const tbufPerm: Ipc64Perm = { key: 0, uid: 0, gid: 0, cuid: 0, cgid: 0, mode: 0, seq: 0 };

/** kernel_to_ipc64_perm() of `shp` into tbufPerm, for a reader whose ids differ from the kernel's. */
function permForReader(shp: Segment, reader: UserNamespace): Ipc64Perm {
  kernelToIpc64PermInto(tbufPerm, shp, reader);
  return tbufPerm;
}

/**
 * shmctl_stat()'s fill of struct shmid64_ds and copy_shmid_to_user(): the
 * structure of `shp` as a reader in `reader` sees it, encoded straight into
 * `buf` (the fields after shm_perm come from the segment itself; pid_vnr():
 * the model has one pid namespace). 0 or -EFAULT. The common case (bytes of
 * the right size, a reader that sees the kernel's ids, so that the segment
 * itself is the ipc64_perm) is decided here, small enough to be inlined;
 * everything else is out of line (bench: stat).
 */
function copyShmidToUser(reader: UserNamespace, shp: Segment, buf: ShmctlBuffer): number {
  if (buf instanceof Uint8Array && buf.length >= SHMID64_DS_SIZE && ipc64PermIsIdentity(shp, reader)) {
    encodeShmidDsBytes(buf, shp, shp);
    return 0;
  }
  return copyShmidToUserSlow(reader, shp, buf);
}

/** copyShmidToUser() when the ids need translating, the bytes are too short, or `buf` is a UserBuffer. */
function copyShmidToUserSlow(reader: UserNamespace, shp: Segment, buf: ShmctlBuffer): number {
  if (!(buf instanceof Uint8Array)) {
    const b = new Uint8Array(SHMID64_DS_SIZE);
    copyShmidToUser(reader, shp, b);
    return buf.copyTo(b) ? 0 : -Errno.EFAULT;
  }
  if (buf.length < SHMID64_DS_SIZE) return -Errno.EFAULT;
  // kernel_to_ipc64_perm() is a copy when the reader sees the kernel's ids.
  encodeShmidDsBytes(buf, ipc64PermIsIdentity(shp, reader) ? shp : permForReader(shp, reader), shp);
  return 0;
}

/** copy_shminfo_to_user(). 0 or -EFAULT. */
function copyShminfoToUser(info: ShmInfo64Fields, buf: ShmctlBuffer): number {
  if (buf instanceof Uint8Array) {
    if (buf.length < SHMINFO64_SIZE) return -Errno.EFAULT;
    encodeShmInfo64To(buf, info);
    return 0;
  }
  return buf.copyTo(encodeShmInfo64(info)) ? 0 : -Errno.EFAULT;
}

/** copy_to_user() of a struct shm_info. 0 or -EFAULT. */
function copyShmInfoToUser(info: ShmInfoDsFields, buf: ShmctlBuffer): number {
  if (buf instanceof Uint8Array) {
    if (buf.length < SHM_INFO_SIZE) return -Errno.EFAULT;
    encodeShmInfoDsTo(buf, info);
    return 0;
  }
  return buf.copyTo(encodeShmInfoDs(info)) ? 0 : -Errno.EFAULT;
}

/** copy_shmid_from_user(): IPC_SET's uid, gid and mode, or null (EFAULT). */
function copyShmidFromUser(buf: ShmctlBuffer): { uid: number; gid: number; mode: number } | null {
  if (buf instanceof Uint8Array) return buf.length < SHMID64_DS_SIZE ? null : decodeIpcSet(buf);
  const b = buf.copyFrom(SHMID64_DS_SIZE);
  return b ? decodeIpcSet(b) : null;
}

/**
 * shmctl_stat() and the copy out for SHM_STAT and SHM_STAT_ANY: lookup by
 * index (ipc_obtain_object_idr()); the segment's id, or a negative errno.
 */
function shmctlStatIdx(current: ShmTask, shmid: number, cmd: number, buf: ShmctlBuffer): number {
  const ns = current.shmNs;
  const shp = ns.ids.obtainObjectIdr(shmid);
  if (typeof shp === 'number') return shp;
  // SHM_STAT_ANY is only audited, like /proc/sysvipc/shm.
  if (cmd !== SHM_STAT_ANY && ipcperms(ns.userNs, shp, S_IRUGO, current.cred)) return -Errno.EACCES;
  return copyShmidToUser(current.cred.userNs, shp, buf) || shp.id;
}

/**
 * shmctl_stat() for IPC_STAT: ipc_obtain_object_check(), ipcperms(S_IRUGO),
 * the copy out; 0 or a negative errno. The hot path of the stat benchmark:
 * every function it calls is small, except the encoder, which is never
 * inlined, so that V8 inlines the whole path into the caller's loop
 * whatever it compiled first (bench: stat).
 */
function shmctlIpcStat(current: ShmTask, shmid: number, buf: ShmctlBuffer): number {
  if (shmid < 0) return -Errno.EINVAL;
  const ns = current.shmNs;
  const shp = ns.ids.obtainObjectCheck(shmid);
  if (typeof shp === 'number') return shp;
  const cred = current.cred;
  // ipcperms(S_IRUGO) asks for read; the owner with the owner's read bit is
  // granted here without the call.
  if ((cred.euid !== shp.uid || (shp.mode & 0o400) === 0) && ipcperms(ns.userNs, shp, S_IRUGO, cred)) return -Errno.EACCES;
  return copyShmidToUser(cred.userNs, shp, buf);
}

/** shmctl_down(): IPC_SET and IPC_RMID. */
function shmctlDown(current: ShmTask, shmid: number, cmd: number, set: { uid: number; gid: number; mode: number } | null): number {
  const ns = current.shmNs;
  const shp = ipcctlObtainCheck(ns.ids, ns.userNs, shmid, current.cred);
  if (typeof shp === 'number') return shp;
  if (cmd === IPC_RMID) {
    ns.rmid(shp);
    return 0;
  }
  const err = ipcUpdatePerm(shp, set!.uid, set!.gid, set!.mode, current.cred.userNs);
  if (err) return err;
  shp.ctime = ns.kernel.now();
  return 0;
}

/** shmctl_ipc_info() and the copy out: the highest index in use (0 when none), or -EFAULT. */
function shmctlIpcInfo(current: ShmTask, buf: ShmctlBuffer): number {
  const ns = current.shmNs;
  const r = ns.ids.maxIdx();
  const err = copyShminfoToUser({
    shmmax: ns.ctlmax, shmmin: SHMMIN, shmmni: ns.ctlmni, shmseg: ns.ctlmni, shmall: ns.ctlall,
  }, buf);
  return err || r;
}

/** shmctl_shm_info() and the copy out: the highest index in use (0 when none), or -EFAULT. */
function shmctlShmInfo(current: ShmTask, buf: ShmctlBuffer): number {
  const ns = current.shmNs;
  const { rss, swp } = ns.stat();
  const r = ns.ids.maxIdx();
  const err = copyShmInfoToUser({
    usedIds: ns.ids.inUse, shmTot: ns.shmTot, shmRss: rss, shmSwp: swp, swapAttempts: 0, swapSuccesses: 0,
  }, buf);
  return err || r;
}

/** IPC_SET: copy_shmid_from_user() (EFAULT first), then shmctl_down(). */
function shmctlSet(current: ShmTask, shmid: number, buf: ShmctlBuffer): number {
  const set = copyShmidFromUser(buf);
  if (!set) return -Errno.EFAULT;
  return shmctlDown(current, shmid, IPC_SET, set);
}

/**
 * ksys_shmctl(shmid, cmd, buf, IPC_64). Returns the result or a negative
 * errno. IPC_STAT first, everything else out of line: small
 * enough for the JIT to inline it into its caller (bench: stat).
 */
export function shmctl(current: ShmTask, shmid: number, cmd: number, buf: ShmctlBuffer): number {
  return cmd === IPC_STAT ? shmctlIpcStat(current, shmid, buf) : shmctlOther(current, shmid, cmd, buf);
}

/** ksys_shmctl() for the commands other than IPC_STAT. */
function shmctlOther(current: ShmTask, shmid: number, cmd: number, buf: ShmctlBuffer): number {
  if (cmd < 0 || shmid < 0) return -Errno.EINVAL;
  switch (cmd) {
    case SHM_STAT:
    case SHM_STAT_ANY:
      return shmctlStatIdx(current, shmid, cmd, buf);
    case IPC_INFO:
      return shmctlIpcInfo(current, buf);
    case SHM_INFO:
      return shmctlShmInfo(current, buf);
    case IPC_SET:
      return shmctlSet(current, shmid, buf);
    case IPC_RMID:
      return shmctlDown(current, shmid, cmd, null);
    case SHM_LOCK:
    case SHM_UNLOCK:
      return shmctlDoLock(current, shmid, cmd);
    default:
      return -Errno.EINVAL;
  }
}
