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
import { ipcperms, ipcUpdatePerm, kernelToIpc64Perm } from '../ipc/perm.js';
import { ipcctlObtainCheck } from '../ipc/util.js';
import { shmctlDoLock } from './lock.js';
import type { ShmTask } from './task.js';


export const SHMID64_DS_SIZE = 112;
export const SHMINFO64_SIZE = 72;
export const SHM_INFO_SIZE = 48;

/** The user-memory side of shmctl: where the kernel copies structures to and from. */
export interface UserBuffer {
  /** copy_to_user(): false means the address is bad (EFAULT). */
  copyTo(bytes: Uint8Array): boolean;
  /** copy_from_user() of `len` bytes: null means the address is bad (EFAULT). */
  copyFrom(len: number): Uint8Array | null;
}

/** A UserBuffer over a plain byte array (the model's own callers). */
export function bufferOf(buf: Uint8Array): UserBuffer {
  return {
    copyTo(bytes) {
      if (bytes.length > buf.length) return false;
      buf.set(bytes);
      return true;
    },
    copyFrom(len) {
      return len <= buf.length ? buf.slice(0, len) : null;
    },
  };
}

const S_IRUGO = 0o444;

/** shmctl_stat(): fills a shmid64_ds; returns 0 (IPC_STAT) or the id (SHM_STAT*). */
function shmctlStat(current: ShmTask, shmid: number, cmd: number, out: DataView): number {
  const ns = current.shmNs;
  const shp = cmd === SHM_STAT || cmd === SHM_STAT_ANY ? ns.ids.obtainObjectIdr(shmid) : ns.ids.obtainObjectCheck(shmid);
  if (typeof shp === 'number') return shp;
  // SHM_STAT_ANY is only audited, like /proc/sysvipc/shm.
  if (cmd !== SHM_STAT_ANY && ipcperms(ns.userNs, shp, S_IRUGO, current.cred)) return -Errno.EACCES;
  const p = kernelToIpc64Perm(shp, current.cred.userNs);
  out.setInt32(0, p.key, true);
  out.setUint32(4, p.uid, true);
  out.setUint32(8, p.gid, true);
  out.setUint32(12, p.cuid, true);
  out.setUint32(16, p.cgid, true);
  out.setUint32(20, p.mode, true);
  out.setUint16(24, p.seq, true);
  out.setBigUint64(48, shp.segsz, true);
  out.setBigInt64(56, BigInt(shp.atime), true);
  out.setBigInt64(64, BigInt(shp.dtime), true);
  out.setBigInt64(72, BigInt(shp.ctime), true);
  out.setInt32(80, shp.cpid, true); // pid_vnr: one pid namespace in the model
  out.setInt32(84, shp.lpid, true);
  out.setBigUint64(88, BigInt(shp.nattch), true);
  return cmd === IPC_STAT ? 0 : shp.id;
}

/** shmctl_down(): IPC_SET and IPC_RMID. */
function shmctlDown(current: ShmTask, shmid: number, cmd: number, set: DataView | null): number {
  const ns = current.shmNs;
  const shp = ipcctlObtainCheck(ns.ids, ns.userNs, shmid, current.cred);
  if (typeof shp === 'number') return shp;
  if (cmd === IPC_RMID) {
    ns.rmid(shp);
    return 0;
  }
  const err = ipcUpdatePerm(shp, set!.getUint32(4, true), set!.getUint32(8, true), set!.getUint32(20, true), current.cred.userNs);
  if (err) return err;
  shp.ctime = ns.kernel.now();
  return 0;
}

/** ksys_shmctl(shmid, cmd, buf, IPC_64). Returns the result or a negative errno. */
export function shmctl(current: ShmTask, shmid: number, cmd: number, buf: UserBuffer): number {
  if (cmd < 0 || shmid < 0) return -Errno.EINVAL;
  const ns = current.shmNs;
  switch (cmd) {
    case IPC_INFO: {
      const b = new Uint8Array(SHMINFO64_SIZE);
      const v = new DataView(b.buffer);
      v.setBigUint64(0, ns.ctlmax, true);
      v.setBigUint64(8, BigInt(SHMMIN), true);
      v.setBigUint64(16, BigInt(ns.ctlmni), true);
      v.setBigUint64(24, BigInt(ns.ctlmni), true);
      v.setBigUint64(32, ns.ctlall, true);
      const r = ns.ids.maxIdx();
      return buf.copyTo(b) ? r : -Errno.EFAULT;
    }
    case SHM_INFO: {
      const b = new Uint8Array(SHM_INFO_SIZE);
      const v = new DataView(b.buffer);
      const { rss, swp } = ns.stat();
      v.setInt32(0, ns.ids.inUse, true);
      v.setBigUint64(8, ns.shmTot, true);
      v.setBigUint64(16, BigInt(rss), true);
      v.setBigUint64(24, BigInt(swp), true);
      const r = ns.ids.maxIdx();
      return buf.copyTo(b) ? r : -Errno.EFAULT;
    }
    case SHM_STAT:
    case SHM_STAT_ANY:
    case IPC_STAT: {
      const b = new Uint8Array(SHMID64_DS_SIZE);
      const r = shmctlStat(current, shmid, cmd, new DataView(b.buffer));
      if (r < 0) return r;
      return buf.copyTo(b) ? r : -Errno.EFAULT;
    }
    case IPC_SET: {
      const b = buf.copyFrom(SHMID64_DS_SIZE);
      if (!b) return -Errno.EFAULT;
      return shmctlDown(current, shmid, cmd, new DataView(b.buffer, b.byteOffset, b.byteLength));
    }
    case IPC_RMID:
      return shmctlDown(current, shmid, cmd, null);
    case SHM_LOCK:
    case SHM_UNLOCK:
      return shmctlDoLock(current, shmid, cmd);
    default:
      return -Errno.EINVAL;
  }
}
