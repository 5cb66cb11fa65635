/**
 * The generic SysV IPC object header and its permission rules
 * (include/linux/ipc.h struct kern_ipc_perm; ipc/util.c ipcperms(),
 * ipc_update_perm(), kernel_to_ipc64_perm()).
 */
import { Capability } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import type { Ipc64Perm } from '../abi/structs.js';
import { nsCapable } from '../auth/capability.js';
import { inGroupP, type Credentials } from '../auth/cred.js';
import {
  fromKgidMunged, fromKuidMunged, gidValid, makeKgid, makeKuid, uidValid, type IdMap, type UserNamespace,
} from '../auth/userns.js';

/** include/linux/stat.h S_IRWXUGO: the permission bits of an IPC mode. */
export const S_IRWXUGO = 0o777;

/**
 * struct kern_ipc_perm: the part every SysV IPC object (shm segment, message
 * queue, semaphore set) shares. Object types extend this class.
 */
export class KernIpcPerm {
  /**
   * key_t, a signed 32-bit value. IPC_PRIVATE (0) for private objects and for
   * objects whose key was switched private (ipc_set_key_private()); an object
   * is in its registry's key table iff it is registered and key !== 0.
   * Initialised to 0 before the constructor's store, like every field here:
   * a field declared without a value starts as undefined, and V8 then keeps
   * it in the generic (tagged) representation, so that each read of it
   * in optimised code converts a number (bench: stat).
   */
  key = 0;
  /**
   * `seq << IPCMNI_SHIFT | index` (as a C int), assigned by IpcIds.addId();
   * -1 before. Never changes afterwards.
   */
  id = -1;
  /** Sequence number captured at creation (0..65535); `id >> IPCMNI_SHIFT`. */
  seq = 0;
  /** Owner: kernel uid/gid; initially the creator's euid/egid, changed by IPC_SET. */
  uid = 0;
  gid = 0;
  /** Creator: kernel uid/gid (creator's euid/egid at creation); never change. */
  cuid = 0;
  cgid = 0;
  /**
   * umode_t: the low 9 bits are the permissions; an object type may use a few
   * bits above them (shm: SHM_DEST 01000, SHM_LOCKED 02000). IPC_SET only
   * ever changes the low 9 bits.
   */
  mode = 0;
  /**
   * Set by IpcIds.rmid() (and by a failed addId()): the object has left its
   * registry; lookups that raced with the removal see it (ipc_valid_object()).
   */
  deleted = false;

  constructor(key: number, mode: number) {
    this.key = key | 0;
    this.mode = mode & 0xffff;
  }
}

/**
 * ipc/util.c ipcperms(ns, ipcp, flag): 0 when access is granted, else -EACCES
 * (Linux returns -1 and its callers turn it into -EACCES).
 *
 * `flag` is a C `short` (callers pass an int shmflg that is truncated); the
 * nine permission bits are folded into three (`flag >> 6 | flag >> 3 | flag`),
 * so e.g. 0040 asks for read. The class is chosen once, with no fall-through:
 * owner bits when euid equals uid or cuid; else group bits when the caller is
 * in group cgid or gid (fsgid or supplementary groups, in_group_p()); else
 * other bits. A missing bit is forgiven by CAP_IPC_OWNER in `nsUserNs`, the
 * user namespace that owns the IPC namespace. (LSM hook not modelled.)
 */
export function ipcperms(nsUserNs: UserNamespace, obj: KernIpcPerm, flag: number, cred: Credentials): number {
  const f = (flag << 16) >> 16;
  const requestedMode = ((f >> 6) | (f >> 3) | f) & 0o007;
  // The owner asking for what the owner bits grant (shmget of one's own
  // segment, IPC_STAT) is decided here, in a function small enough to be
  // inlined; everything else takes the full path (bench: lookup, stat).
  if (cred.euid === obj.uid && (requestedMode & ~(obj.mode >> 6)) === 0) return 0;
  return ipcpermsSlow(nsUserNs, obj, requestedMode, cred);
}

/** ipcperms() after the owner fast path: the class, then CAP_IPC_OWNER. */
function ipcpermsSlow(nsUserNs: UserNamespace, obj: KernIpcPerm, requestedMode: number, cred: Credentials): number {
  let grantedMode = obj.mode;
  if (cred.euid === obj.cuid || cred.euid === obj.uid) grantedMode >>= 6;
  else if (inGroupP(cred, obj.cgid) || inGroupP(cred, obj.gid)) grantedMode >>= 3;
  if ((requestedMode & ~grantedMode & 0o007) !== 0 && !nsCapable(cred, nsUserNs, Capability.CAP_IPC_OWNER)) {
    return -Errno.EACCES;
  }
  return 0;
}

/**
 * The ownership test shared by ipcctl_obtain_check() (IPC_SET, IPC_RMID) and
 * shm's SHM_LOCK/SHM_UNLOCK: euid equals the creator or the owner uid.
 */
export function isIpcOwner(obj: KernIpcPerm, cred: Credentials): boolean {
  return cred.euid === obj.cuid || cred.euid === obj.uid;
}

/**
 * ipc/util.c ipc_update_perm() (IPC_SET): uid/gid are user-space ids of the
 * caller's user namespace, mapped with make_kuid()/make_kgid(); an
 * unmappable one (including (uid_t)-1) fails with -EINVAL and changes
 * nothing. Only the low nine mode bits are replaced.
 */
export function ipcUpdatePerm(obj: KernIpcPerm, uid: number, gid: number, mode: number, callerUserNs: UserNamespace): number {
  const kuid = makeKuid(callerUserNs, uid >>> 0);
  const kgid = makeKgid(callerUserNs, gid >>> 0);
  if (!uidValid(kuid) || !gidValid(kgid)) return -Errno.EINVAL;
  obj.uid = kuid;
  obj.gid = kgid;
  obj.mode = (obj.mode & ~S_IRWXUGO) | (mode & S_IRWXUGO);
  return 0;
}

export type { Ipc64Perm } from '../abi/structs.js';

/*
 * from_kuid_munged()/from_kgid_munged() behind a one-entry memo each. An id
 * map never changes once written (writing replaces the empty map with a new
 * frozen array), so (map, kernel id) -> id is a pure function of the map's
 * identity and the id. The memo spares IPC_STAT the extent search: reading an
 * extent out of a frozen array is not inlined by V8 11 (~6 ns), and
 * kernel_to_ipc64_perm() maps four ids (bench: stat).
 */
/** One memo entry: the map it was computed with, the kernel id, the result. */
class IdMemo {
  map: IdMap | null = null;
  kid = 0;
  id = 0;

  /** Records a miss; returns the id. */
  fill(map: IdMap, kid: number, id: number): number {
    this.map = map;
    this.kid = kid;
    return (this.id = id);
  }
}
const uidMemo = new IdMemo();
const gidMemo = new IdMemo();

/** from_kuid_munged(ns, kuid), memoized (small: the JIT inlines the hit). */
function uidForReader(ns: UserNamespace, kuid: number): number {
  const m = uidMemo;
  return ns.uidMap === m.map && kuid === m.kid ? m.id : m.fill(ns.uidMap, kuid, fromKuidMunged(ns, kuid));
}

/** from_kgid_munged(ns, kgid), memoized (small: the JIT inlines the hit). */
function gidForReader(ns: UserNamespace, kgid: number): number {
  const m = gidMemo;
  return ns.gidMap === m.map && kgid === m.kid ? m.id : m.fill(ns.gidMap, kgid, fromKgidMunged(ns, kgid));
}

/**
 * ipc/util.c kernel_to_ipc64_perm(): ids translated into the reader's user
 * namespace with from_kuid_munged()/from_kgid_munged().
 */
export function kernelToIpc64Perm(obj: KernIpcPerm, readerUserNs: UserNamespace): Ipc64Perm {
  return {
    key: obj.key,
    uid: uidForReader(readerUserNs, obj.uid),
    gid: gidForReader(readerUserNs, obj.gid),
    cuid: uidForReader(readerUserNs, obj.cuid),
    cgid: gidForReader(readerUserNs, obj.cgid),
    mode: obj.mode,
    seq: obj.seq & 0xffff,
  };
}

/**
 * The last pair of id maps found to be the identity (null until one is):
 * a map never changes once written, so a reader whose maps are these two
 * arrays reads the kernel's ids unchanged. Only identity pairs are
 * remembered, so the test of a hit is two comparisons (bench: stat).
 */
let identityUidMap: IdMap | null = null;
let identityGidMap: IdMap | null = null;

/** An id map that maps every valid id (0..4294967294) to itself: init_user_ns's. */
function isIdentityMap(map: IdMap): boolean {
  const e = map.length === 1 ? map[0]! : undefined;
  return e !== undefined && e.first === 0 && e.lowerFirst === 0 && e.count === 4294967295;
}

/**
 * Whether kernel_to_ipc64_perm() of `obj` for a reader in `readerUserNs`
 * copies the ids unchanged: the reader's maps are the identity (the initial
 * user namespace, and any namespace mapped like it) and every id is valid
 * ((uid_t)-1 would read as the overflow id). Then `obj` itself
 * serves as the ipc64_perm to encode, with no translation and no copy
 * (bench: stat). Small enough to be inlined; the first sight of a pair of
 * maps is out of line.
 */
export function ipc64PermIsIdentity(obj: KernIpcPerm, readerUserNs: UserNamespace): boolean {
  // All four ids below 2^31: valid, so mapped to themselves (a conservative
  // test: larger valid ids just take the translating path).
  return (obj.uid | obj.gid | obj.cuid | obj.cgid) >= 0 &&
    ((readerUserNs.uidMap === identityUidMap && readerUserNs.gidMap === identityGidMap) || identityMiss(readerUserNs));
}

function identityMiss(ns: UserNamespace): boolean {
  if (!isIdentityMap(ns.uidMap) || !isIdentityMap(ns.gidMap)) return false;
  identityUidMap = ns.uidMap;
  identityGidMap = ns.gidMap;
  return true;
}

/**
 * kernel_to_ipc64_perm(in, out) filling `out` (the perm part of the
 * structure being returned, tbuf->shm_perm in Linux): no new object.
 */
export function kernelToIpc64PermInto(out: Ipc64Perm, obj: KernIpcPerm, readerUserNs: UserNamespace): void {
  const uid = uidForReader(readerUserNs, obj.uid);
  const gid = gidForReader(readerUserNs, obj.gid);
  out.key = obj.key;
  out.uid = uid;
  out.gid = gid;
  // The creator is usually the owner: then its ids need no second lookup.
  if (obj.cuid === obj.uid && obj.cgid === obj.gid) {
    out.cuid = uid;
    out.cgid = gid;
  } else {
    creatorIdsForReader(out, obj, readerUserNs);
  }
  out.mode = obj.mode;
  out.seq = obj.seq & 0xffff;
}

/** The creator's ids of kernel_to_ipc64_perm() when they differ from the owner's. */
function creatorIdsForReader(out: Ipc64Perm, obj: KernIpcPerm, readerUserNs: UserNamespace): void {
  out.cuid = fromKuidMunged(readerUserNs, obj.cuid);
  out.cgid = fromKgidMunged(readerUserNs, obj.cgid);
}
