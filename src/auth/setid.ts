/**
 * Credential-changing operations, each mirroring one Linux entry point.
 *
 * Convention: every function takes the caller's current credentials and
 * returns either the credentials to commit (a new immutable value, or the
 * same object when nothing changes) or a negative errno, like the kernel.
 * Ids passed in are user-space ids (uid_t/gid_t, u32, -1 = 0xffffffff) of the
 * caller's user namespace, exactly as the system calls receive them.
 */
import { CAP_FULL_SET, Capability } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import {
  CAP_EMPTY_SET, SECUREBITS_DEFAULT, SECURE_KEEP_CAPS, SECURE_KEEP_CAPS_LOCKED, SECURE_NO_SETUID_FIXUP,
  capCapable, capIsSubset, capRaised, capValid, fileNsCapable, issecureMask, mkKernelCap, nsCapable, nsCapableSetid,
} from './capability.js';
import { Credentials, NGROUPS_MAX, sortGroups } from './cred.js';
import {
  UID_GID_MAP_MAX_EXTENTS, UID_T_NONE, USERNS_MAX_PARENT_LEVEL, UserNamespace,
  fromKgid, fromKuid, gidValid, kgidHasMapping, kuidHasMapping, makeKgid, makeKuid, mapIdRangeDown, mappingsOverlap, uidValid,
  type IdExtent,
} from './userns.js';

function issecure(cred: Credentials, bit: number): boolean {
  return (cred.securebits & issecureMask(bit)) !== 0;
}

/** The argument as a uid_t/gid_t (u32); -1 becomes 0xffffffff. */
function toIdT(v: number): number {
  return v >>> 0;
}

// ---------------------------------------------------------------------------
// setgroups(2)

/**
 * kernel/user_namespace.c userns_may_setgroups(): only once a gid map exists
 * and /proc/PID/setgroups has not been set to "deny".
 */
export function usernsMaySetgroups(ns: UserNamespace): boolean {
  return ns.gidMap.length !== 0 && ns.setgroupsAllowed;
}

/** kernel/groups.c may_setgroups(): CAP_SETGID in the caller's namespace and setgroups allowed there. */
export function maySetgroups(cred: Credentials): boolean {
  return nsCapableSetid(cred, cred.userNs, Capability.CAP_SETGID) && usernsMaySetgroups(cred.userNs);
}

/**
 * kernel/groups.c setgroups(gidsetsize, grouplist): EPERM without
 * CAP_SETGID (checked first), EINVAL for more than NGROUPS_MAX entries, EINVAL
 * for a gid that does not map in the caller's namespace (groups_from_user()).
 * The list is stored sorted (groups_sort()); duplicates are kept.
 */
export function setgroups(cred: Credentials, groups: readonly number[]): Credentials | number {
  if (!maySetgroups(cred)) return -Errno.EPERM;
  if (groups.length > NGROUPS_MAX) return -Errno.EINVAL;
  const kgids: number[] = [];
  for (const g of groups) {
    const kgid = makeKgid(cred.userNs, toIdT(g));
    if (!gidValid(kgid)) return -Errno.EINVAL;
    kgids.push(kgid);
  }
  // set_current_groups() -> set_groups(); security_task_fix_setgroups() is an LSM-only hook.
  return cred.with({ groups: Object.freeze(sortGroups(kgids)) });
}

// ---------------------------------------------------------------------------
// setresuid(2) / setresgid(2)

/**
 * security/commoncap.c cap_emulate_setxuid(), called through
 * cap_task_fix_setuid(LSM_SETID_RES) unless SECURE_NO_SETUID_FIXUP:
 *  - if the old credentials had uid 0 (of their namespace) as real, effective
 *    or saved uid and the new ones have it as none of them: clear permitted
 *    and effective unless SECURE_KEEP_CAPS, and always clear ambient;
 *  - euid 0 -> nonzero: clear effective;
 *  - euid nonzero -> 0: effective = permitted.
 * Securebits are read from the old credentials (issecure() uses current).
 */
function capEmulateSetxuid(next: Credentials, old: Credentials): Credentials {
  const rootUid = makeKuid(old.userNs, 0);
  let capPermitted = next.capPermitted;
  let capEffective = next.capEffective;
  let capAmbient = next.capAmbient;
  if ((old.uid === rootUid || old.euid === rootUid || old.suid === rootUid) &&
      next.uid !== rootUid && next.euid !== rootUid && next.suid !== rootUid) {
    if (!issecure(old, SECURE_KEEP_CAPS)) {
      capPermitted = CAP_EMPTY_SET;
      capEffective = CAP_EMPTY_SET;
    }
    capAmbient = CAP_EMPTY_SET;
  }
  if (old.euid === rootUid && next.euid !== rootUid) capEffective = CAP_EMPTY_SET;
  if (old.euid !== rootUid && next.euid === rootUid) capEffective = capPermitted;
  return next.with({ capPermitted, capEffective, capAmbient });
}

/** security/commoncap.c cap_task_fix_setuid() for LSM_SETID_RES (and _RE, _ID). */
function capTaskFixSetuid(next: Credentials, old: Credentials): Credentials {
  if (issecure(old, SECURE_NO_SETUID_FIXUP)) return next;
  return capEmulateSetxuid(next, old);
}

/**
 * kernel/sys.c __sys_setresuid(ruid, euid, suid).
 *  1. each given id must map in the caller's namespace, else EINVAL;
 *  2. a call changing nothing (and with fsuid == euid) returns at once;
 *  3. a new id equal to none of the current real/effective/saved uids needs
 *     CAP_SETUID in the caller's namespace, else EPERM;
 *  4. fsuid follows euid; cap_task_fix_setuid() adjusts the capabilities.
 * (RLIMIT_NPROC is no longer checked here; it is deferred to execve.)
 */
export function setresuid(cred: Credentials, ruid: number, euid: number, suid: number): Credentials | number {
  const ns = cred.userNs;
  const r = toIdT(ruid), e = toIdT(euid), s = toIdT(suid);
  const kruid = makeKuid(ns, r);
  const keuid = makeKuid(ns, e);
  const ksuid = makeKuid(ns, s);
  if (r !== UID_T_NONE && !uidValid(kruid)) return -Errno.EINVAL;
  if (e !== UID_T_NONE && !uidValid(keuid)) return -Errno.EINVAL;
  if (s !== UID_T_NONE && !uidValid(ksuid)) return -Errno.EINVAL;

  const old = cred;
  if ((r === UID_T_NONE || kruid === old.uid) &&
      (e === UID_T_NONE || (keuid === old.euid && keuid === old.fsuid)) &&
      (s === UID_T_NONE || ksuid === old.suid)) {
    return old;
  }
  const isNew = (given: number, k: number): boolean =>
    given !== UID_T_NONE && k !== old.uid && k !== old.euid && k !== old.suid;
  if ((isNew(r, kruid) || isNew(e, keuid) || isNew(s, ksuid)) &&
      !nsCapableSetid(old, old.userNs, Capability.CAP_SETUID)) {
    return -Errno.EPERM;
  }
  const newUid = r !== UID_T_NONE ? kruid : old.uid;
  const newEuid = e !== UID_T_NONE ? keuid : old.euid;
  const newSuid = s !== UID_T_NONE ? ksuid : old.suid;
  const next = old.with({ uid: newUid, euid: newEuid, suid: newSuid, fsuid: newEuid });
  return capTaskFixSetuid(next, old);
}

/**
 * kernel/sys.c __sys_setresgid(rgid, egid, sgid): as setresuid with
 * CAP_SETGID; fsgid follows egid; no capability side effects
 * (commoncap has no task_fix_setgid hook).
 */
export function setresgid(cred: Credentials, rgid: number, egid: number, sgid: number): Credentials | number {
  const ns = cred.userNs;
  const r = toIdT(rgid), e = toIdT(egid), s = toIdT(sgid);
  const krgid = makeKgid(ns, r);
  const kegid = makeKgid(ns, e);
  const ksgid = makeKgid(ns, s);
  if (r !== UID_T_NONE && !gidValid(krgid)) return -Errno.EINVAL;
  if (e !== UID_T_NONE && !gidValid(kegid)) return -Errno.EINVAL;
  if (s !== UID_T_NONE && !gidValid(ksgid)) return -Errno.EINVAL;

  const old = cred;
  if ((r === UID_T_NONE || krgid === old.gid) &&
      (e === UID_T_NONE || (kegid === old.egid && kegid === old.fsgid)) &&
      (s === UID_T_NONE || ksgid === old.sgid)) {
    return old;
  }
  const isNew = (given: number, k: number): boolean =>
    given !== UID_T_NONE && k !== old.gid && k !== old.egid && k !== old.sgid;
  if ((isNew(r, krgid) || isNew(e, kegid) || isNew(s, ksgid)) &&
      !nsCapableSetid(old, old.userNs, Capability.CAP_SETGID)) {
    return -Errno.EPERM;
  }
  const newGid = r !== UID_T_NONE ? krgid : old.gid;
  const newEgid = e !== UID_T_NONE ? kegid : old.egid;
  const newSgid = s !== UID_T_NONE ? ksgid : old.sgid;
  return old.with({ gid: newGid, egid: newEgid, sgid: newSgid, fsgid: newEgid });
}

// ---------------------------------------------------------------------------
// prctl(PR_SET_KEEPCAPS)

/**
 * security/commoncap.c cap_task_prctl(PR_SET_KEEPCAPS, arg2): arg2 > 1 ->
 * EINVAL; SECURE_KEEP_CAPS_LOCKED -> EPERM; otherwise set or clear
 * SECURE_KEEP_CAPS.
 */
export function prctlSetKeepCaps(cred: Credentials, arg2: number | bigint | boolean): Credentials | number {
  const v = typeof arg2 === 'boolean' ? (arg2 ? 1n : 0n) : BigInt.asUintN(64, BigInt(arg2));
  if (v > 1n) return -Errno.EINVAL;
  if (issecure(cred, SECURE_KEEP_CAPS_LOCKED)) return -Errno.EPERM;
  const bit = issecureMask(SECURE_KEEP_CAPS);
  return cred.with({ securebits: v === 1n ? cred.securebits | bit : cred.securebits & ~bit });
}

// ---------------------------------------------------------------------------
// capset(2)

/**
 * kernel/capability.c capset() + security/commoncap.c cap_capset().
 * The sets are masked to the valid capabilities (mk_kernel_cap()), then:
 *  1. without CAP_SETPCAP in the caller's own namespace (cap_inh_is_capped()),
 *     new inheritable ⊆ old inheritable ∪ old permitted, else EPERM;
 *  2. new inheritable ⊆ old inheritable ∪ bounding set, else EPERM;
 *  3. new permitted ⊆ old permitted, else EPERM;
 *  4. new effective ⊆ new permitted, else EPERM.
 * Ambient capabilities that are no longer both permitted and inheritable are
 * dropped. (Only the calling task can be targeted; header/version handling is
 * the caller's.)
 */
export function capset(cred: Credentials, effective: bigint, permitted: bigint, inheritable: bigint): Credentials | number {
  const eff = mkKernelCap(effective);
  const perm = mkKernelCap(permitted);
  const inh = mkKernelCap(inheritable);
  const old = cred;
  const inhIsCapped = !capCapable(old, old.userNs, Capability.CAP_SETPCAP);
  if (inhIsCapped && !capIsSubset(inh, old.capInheritable | old.capPermitted)) return -Errno.EPERM;
  if (!capIsSubset(inh, old.capInheritable | old.capBounding)) return -Errno.EPERM;
  if (!capIsSubset(perm, old.capPermitted)) return -Errno.EPERM;
  if (!capIsSubset(eff, perm)) return -Errno.EPERM;
  return old.with({
    capEffective: eff,
    capInheritable: inh,
    capPermitted: perm,
    capAmbient: old.capAmbient & perm & inh,
  });
}

// ---------------------------------------------------------------------------
// unshare(CLONE_NEWUSER) and the id-map files

/**
 * kernel/user_namespace.c create_user_ns() + set_cred_user_ns(), as used by
 * unshare(CLONE_NEWUSER) (and clone): ENOSPC past 32 nested levels; EPERM
 * unless the caller's euid and egid map in its current namespace. The new
 * namespace's owner/group are the caller's euid/egid, its maps are empty, it
 * inherits the setgroups flag, and the caller gets a full capability set in
 * it (bounding = permitted = effective = all, inheritable = ambient = none,
 * securebits reset). Kernel ids do not change.
 * (Chroot, max_user_namespaces and LSM checks are not modelled.)
 */
export function unshareUserNs(cred: Credentials): Credentials | number {
  const parentNs = cred.userNs;
  if (parentNs.level > USERNS_MAX_PARENT_LEVEL) return -Errno.ENOSPC;
  if (!kuidHasMapping(parentNs, cred.euid) || !kgidHasMapping(parentNs, cred.egid)) return -Errno.EPERM;
  const ns = new UserNamespace({
    parent: parentNs,
    owner: cred.euid,
    group: cred.egid,
    parentCouldSetfcap: capRaised(cred.capEffective, Capability.CAP_SETFCAP),
    setgroupsAllowed: parentNs.setgroupsAllowed,
  });
  return cred.with({
    securebits: SECUREBITS_DEFAULT,
    capInheritable: CAP_EMPTY_SET,
    capPermitted: CAP_FULL_SET,
    capEffective: CAP_FULL_SET,
    capAmbient: CAP_EMPTY_SET,
    capBounding: CAP_FULL_SET,
    userNs: ns,
  });
}

/**
 * kernel/user_namespace.c proc_setgroups_write() (and the CAP_SYS_ADMIN
 * check of proc_setgroups_open() for writing): "allow" after "deny" -> EPERM;
 * "deny" after the gid map was written -> EPERM.
 */
export function writeSetgroups(ns: UserNamespace, writer: Credentials, allow: boolean): 0 | number {
  if (!nsCapable(writer, ns, Capability.CAP_SYS_ADMIN)) return -Errno.EPERM;
  if (allow) {
    if (!ns.setgroupsAllowed) return -Errno.EPERM;
  } else {
    if (ns.gidMap.length !== 0) return -Errno.EPERM;
    ns.setgroupsAllowed = false;
  }
  return 0;
}

type MapKind = 'uid' | 'gid';

/** kernel/user_namespace.c verify_root_map(): mapping the parent's id 0 needs CAP_SETFCAP. */
function verifyRootMap(writer: Credentials, mapNs: UserNamespace, extents: readonly IdExtent[]): boolean {
  if (!extents.some((e) => e.lowerFirst === 0)) return true;
  if (mapNs === writer.userNs) return mapNs.parentCouldSetfcap;
  return mapNs.parent !== null && fileNsCapable(writer, mapNs.parent, Capability.CAP_SETFCAP);
}

/** kernel/user_namespace.c new_idmap_permitted(). `extents` have parent-namespace lower ids. */
function newIdmapPermitted(writer: Credentials, ns: UserNamespace, kind: MapKind, extents: readonly IdExtent[]): boolean {
  const capSetid = kind === 'uid' ? Capability.CAP_SETUID : Capability.CAP_SETGID;
  const parent = ns.parent!;
  if (kind === 'uid' && !verifyRootMap(writer, ns, extents)) return false;
  // A single one-id mapping of the owner's own id needs no privilege.
  if (extents.length === 1 && extents[0]!.count === 1 && ns.owner === writer.euid) {
    const id = extents[0]!.lowerFirst;
    if (kind === 'uid') {
      if (makeKuid(parent, id) === writer.euid) return true;
    } else if (!ns.setgroupsAllowed && makeKgid(parent, id) === writer.egid) {
      return true;
    }
  }
  if (!capValid(capSetid)) return true;
  // CAP_SETUID/CAP_SETGID over the parent namespace, both for the writer and the opener (same here).
  return nsCapable(writer, parent, capSetid) && fileNsCapable(writer, parent, capSetid);
}

/**
 * kernel/user_namespace.c proc_uid_map_write()/proc_gid_map_write() ->
 * map_write(). `extents` are as written to the file: `first` in `ns`,
 * `lowerFirst` in the parent namespace. The writer must live in `ns` or its
 * parent (EPERM); a map can be written once (EPERM); the writer needs
 * CAP_SYS_ADMIN over `ns` (EPERM); malformed extents (first or lowerFirst
 * (u32)-1, count 0, wrapping ranges, overlaps, none, more than 340) are
 * EINVAL; new_idmap_permitted() refusing, or a lower range not mapped in the
 * parent, is EPERM. On success the lower ids are stored as kernel ids.
 */
export function writeIdMap(ns: UserNamespace, writer: Credentials, kind: MapKind, extents: readonly IdExtent[]): 0 | number {
  const parent = ns.parent;
  if (parent === null) return -Errno.EPERM;
  if (writer.userNs !== ns && writer.userNs !== parent) return -Errno.EPERM;
  const current = kind === 'uid' ? ns.uidMap : ns.gidMap;
  if (current.length !== 0) return -Errno.EPERM;
  if (!fileNsCapable(writer, ns, Capability.CAP_SYS_ADMIN)) return -Errno.EPERM;

  const parsed: IdExtent[] = [];
  for (let i = 0; i < extents.length; i++) {
    const e = { first: extents[i]!.first >>> 0, lowerFirst: extents[i]!.lowerFirst >>> 0, count: extents[i]!.count >>> 0 };
    if (e.first === 0xffffffff || e.lowerFirst === 0xffffffff) return -Errno.EINVAL;
    if (e.first + e.count > 0xffffffff || e.count === 0) return -Errno.EINVAL;
    if (e.lowerFirst + e.count > 0xffffffff) return -Errno.EINVAL;
    if (mappingsOverlap(parsed, e)) return -Errno.EINVAL;
    if (parsed.length + 1 === UID_GID_MAP_MAX_EXTENTS && i + 1 < extents.length) return -Errno.EINVAL;
    parsed.push(e);
  }
  if (parsed.length === 0) return -Errno.EINVAL;
  if (!newIdmapPermitted(writer, ns, kind, parsed)) return -Errno.EPERM;

  const parentMap = kind === 'uid' ? parent.uidMap : parent.gidMap;
  const stored: IdExtent[] = [];
  for (const e of parsed) {
    const lower = mapIdRangeDown(parentMap, e.lowerFirst, e.count);
    if (lower === -1) return -Errno.EPERM;
    stored.push(Object.freeze({ first: e.first, lowerFirst: lower, count: e.count }));
  }
  const frozen = Object.freeze(stored);
  if (kind === 'uid') ns.uidMap = frozen;
  else ns.gidMap = frozen;
  return 0;
}

/** /proc/PID/uid_map write. */
export function writeUidMap(ns: UserNamespace, writer: Credentials, extents: readonly IdExtent[]): 0 | number {
  return writeIdMap(ns, writer, 'uid', extents);
}

/** /proc/PID/gid_map write. */
export function writeGidMap(ns: UserNamespace, writer: Credentials, extents: readonly IdExtent[]): 0 | number {
  return writeIdMap(ns, writer, 'gid', extents);
}

/**
 * What `unshare --user --map-root-user` does, as a sequence of the calls
 * above: unshare(CLONE_NEWUSER); write "deny" to setgroups; map uid 0 to the
 * caller's euid and gid 0 to its egid (as seen in the parent namespace).
 * Returns the new credentials or the first failure's negative errno.
 */
export function unshareMapRootUser(cred: Credentials): Credentials | number {
  const parentNs = cred.userNs;
  const outerUid = fromKuid(parentNs, cred.euid);
  const outerGid = fromKgid(parentNs, cred.egid);
  const next = unshareUserNs(cred);
  if (typeof next === 'number') return next;
  const ns = next.userNs;
  let err = writeSetgroups(ns, next, false);
  if (err < 0) return err;
  err = writeUidMap(ns, next, [{ first: 0, lowerFirst: outerUid, count: 1 }]);
  if (err < 0) return err;
  err = writeGidMap(ns, next, [{ first: 0, lowerFirst: outerGid, count: 1 }]);
  if (err < 0) return err;
  return next;
}
