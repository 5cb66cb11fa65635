/**
 * User namespaces and id translation (kernel/user_namespace.c,
 * include/linux/uidgid.h, include/linux/user_namespace.h).
 *
 * Kernel ids ("kuid"/"kgid") are the ids of the initial user namespace:
 * numbers 0..2^32-2. 2^32-1 is `(uid_t)-1`, the invalid id; this model
 * represents an invalid *kernel* id as -1 (INVALID_UID / INVALID_GID).
 *
 * An extent maps `count` ids starting at `first` (ids as seen inside the
 * namespace) to ids starting at `lowerFirst`. As in Linux, `lowerFirst` is
 * stored already translated to kernel ids (map_write() translates the lower
 * range through the parent's map before storing it), so translation never has
 * to walk the namespace chain.
 */

/** include/linux/uidgid.h INVALID_UID / INVALID_GID (`(uid_t)-1`), as -1 here. */
export const INVALID_UID = -1;
export const INVALID_GID = -1;
/** (uid_t)-1 as the unsigned 32-bit value user space passes. */
export const UID_T_NONE = 0xffffffff;
/** kernel/sys.c overflowuid / overflowgid (sysctl kernel.overflowuid, default 65534). */
export const OVERFLOWUID = 65534;
export const OVERFLOWGID = 65534;
/** include/linux/user_namespace.h UID_GID_MAP_MAX_BASE_EXTENTS / UID_GID_MAP_MAX_EXTENTS. */
export const UID_GID_MAP_MAX_BASE_EXTENTS = 5;
export const UID_GID_MAP_MAX_EXTENTS = 340;
/** kernel/user_namespace.c create_user_ns(): `if (parent_ns->level > 32) -ENOSPC`. */
export const USERNS_MAX_PARENT_LEVEL = 32;

export interface IdExtent {
  /** First id inside the namespace (u32). */
  readonly first: number;
  /** First kernel id (u32), i.e. already mapped down to the initial namespace. */
  readonly lowerFirst: number;
  /** Number of ids, >= 1; neither range wraps past 2^32. */
  readonly count: number;
}

/** A uid_gid_map: at most UID_GID_MAP_MAX_EXTENTS extents, pairwise disjoint in both ranges. */
export type IdMap = readonly IdExtent[];

/** struct user_namespace (the parts that matter for ids and capabilities). */
export class UserNamespace {
  /** null only for the initial namespace. */
  readonly parent: UserNamespace | null;
  /** 0 for the initial namespace, parent.level + 1 otherwise. */
  readonly level: number;
  /** Kernel uid of the creator's euid at creation (ns->owner). */
  readonly owner: number;
  /** Kernel gid of the creator's egid at creation (ns->group). */
  readonly group: number;
  /**
   * ns->parent_could_setfcap: whether the creator had CAP_SETFCAP in its
   * effective set (consulted by verify_root_map() when the namespace's own
   * process maps uid 0 of the parent).
   */
  readonly parentCouldSetfcap: boolean;
  /** uid_map; empty until written (a map can be written only once). */
  uidMap: IdMap = [];
  /** gid_map; empty until written (a map can be written only once). */
  gidMap: IdMap = [];
  /**
   * USERNS_SETGROUPS_ALLOWED (/proc/PID/setgroups "allow"/"deny"). Inherited
   * from the parent at creation; once cleared it can never be set again.
   */
  setgroupsAllowed: boolean;

  constructor(init: {
    parent: UserNamespace | null;
    owner: number;
    group: number;
    parentCouldSetfcap?: boolean;
    uidMap?: IdMap;
    gidMap?: IdMap;
    setgroupsAllowed?: boolean;
  }) {
    this.parent = init.parent;
    this.level = init.parent === null ? 0 : init.parent.level + 1;
    this.owner = init.owner;
    this.group = init.group;
    this.parentCouldSetfcap = init.parentCouldSetfcap ?? false;
    if (init.uidMap) this.uidMap = freezeMap(init.uidMap);
    if (init.gidMap) this.gidMap = freezeMap(init.gidMap);
    this.setgroupsAllowed = init.setgroupsAllowed ?? (init.parent?.setgroupsAllowed ?? true);
  }

  /** Whether this is an initial (root) namespace. */
  get isInitial(): boolean {
    return this.parent === null;
  }
}

function freezeMap(map: IdMap): IdMap {
  return Object.freeze(map.map((e) => Object.freeze({ first: e.first >>> 0, lowerFirst: e.lowerFirst >>> 0, count: e.count >>> 0 })));
}

/**
 * kernel/user_namespace.c init_user_ns: maps 0..4294967294 to themselves
 * (count 4294967295, so (uid_t)-1 stays unmapped), setgroups allowed,
 * owner/group global root.
 */
export function createInitUserNamespace(): UserNamespace {
  const identity: IdMap = [{ first: 0, lowerFirst: 0, count: 4294967295 }];
  return new UserNamespace({ parent: null, owner: 0, group: 0, uidMap: identity, gidMap: identity, setgroupsAllowed: true });
}

/**
 * The default initial user namespace. Its maps are already written, so it
 * cannot be changed through writeUidMap/writeGidMap; tests that need an
 * isolated world can still call createInitUserNamespace().
 */
export const initUserNs: UserNamespace = createInitUserNamespace();

/** The initial namespace at the root of `ns`'s chain (&init_user_ns). */
export function rootUserNs(ns: UserNamespace): UserNamespace {
  let n = ns;
  while (n.parent !== null) n = n.parent;
  return n;
}

/**
 * kernel/user_namespace.c map_id_range_down(): the extent that contains the
 * whole range [id, id+count-1] (upper side), or undefined. The base (<= 5
 * extents, linear) and max (sorted, bsearch) variants find the same extent
 * because extents never overlap.
 */
function mapIdRangeDownExtent(map: IdMap, id: number, count: number): IdExtent | undefined {
  const id2 = (id + count - 1) >>> 0;
  for (const e of map) {
    const first = e.first;
    const last = (first + e.count - 1) >>> 0;
    if (id >= first && id <= last && id2 >= first && id2 <= last) return e;
  }
  return undefined;
}

/** map_id_range_down(): kernel id of `id` (u32), or -1 when [id, id+count) is not fully mapped. */
export function mapIdRangeDown(map: IdMap, id: number, count: number): number {
  const u = id >>> 0;
  const e = mapIdRangeDownExtent(map, u, count);
  return e ? ((u - e.first) + e.lowerFirst) >>> 0 : -1;
}

/** map_id_down(). */
export function mapIdDown(map: IdMap, id: number): number {
  return mapIdRangeDown(map, id, 1);
}

/** map_id_up(): the id inside the namespace of kernel id `id`, or -1 when unmapped. */
export function mapIdUp(map: IdMap, id: number): number {
  if (id < 0) return -1;
  const u = id >>> 0;
  // An indexed loop: V8 does not optimize for-of over a frozen array (an
  // iterator call per extent), and shmctl(IPC_STAT) maps four ids (bench: stat).
  for (let i = 0; i < map.length; i++) {
    const e = map[i]!;
    const first = e.lowerFirst;
    const last = (first + e.count - 1) >>> 0;
    if (u >= first && u <= last) return ((u - e.lowerFirst) + e.first) >>> 0;
  }
  return -1;
}

/** make_kuid(ns, uid): `uid` is a uid_t (u32; -1 is taken as 0xffffffff). */
export function makeKuid(ns: UserNamespace, uid: number): number {
  return mapIdDown(ns.uidMap, uid);
}

/** make_kgid(ns, gid). */
export function makeKgid(ns: UserNamespace, gid: number): number {
  return mapIdDown(ns.gidMap, gid);
}

/** from_kuid(targ, kuid): the uid seen in `targ`, or -1 when unmapped. */
export function fromKuid(targ: UserNamespace, kuid: number): number {
  return mapIdUp(targ.uidMap, kuid);
}

/** from_kgid(targ, kgid). */
export function fromKgid(targ: UserNamespace, kgid: number): number {
  return mapIdUp(targ.gidMap, kgid);
}

/** from_kuid_munged(): unmapped ids read as overflowuid (65534). */
export function fromKuidMunged(targ: UserNamespace, kuid: number): number {
  const uid = fromKuid(targ, kuid);
  return uid === -1 ? OVERFLOWUID : uid;
}

/** from_kgid_munged(): unmapped ids read as overflowgid (65534). */
export function fromKgidMunged(targ: UserNamespace, kgid: number): number {
  const gid = fromKgid(targ, kgid);
  return gid === -1 ? OVERFLOWGID : gid;
}

/** uid_valid() / gid_valid(). */
export function uidValid(kuid: number): boolean {
  return kuid !== INVALID_UID && kuid >= 0 && kuid <= 0xfffffffe;
}
export function gidValid(kgid: number): boolean {
  return kgid !== INVALID_GID && kgid >= 0 && kgid <= 0xfffffffe;
}

/** kuid_has_mapping(ns, kuid) / kgid_has_mapping(ns, kgid). */
export function kuidHasMapping(ns: UserNamespace, kuid: number): boolean {
  return fromKuid(ns, kuid) !== -1;
}
export function kgidHasMapping(ns: UserNamespace, kgid: number): boolean {
  return fromKgid(ns, kgid) !== -1;
}

/**
 * kernel/user_namespace.c mappings_overlap(): does `extent` intersect any
 * extent of `map`, on the upper or on the lower side?
 */
export function mappingsOverlap(map: IdMap, extent: IdExtent): boolean {
  const upperFirst = extent.first;
  const lowerFirst = extent.lowerFirst;
  const upperLast = (upperFirst + extent.count - 1) >>> 0;
  const lowerLast = (lowerFirst + extent.count - 1) >>> 0;
  for (const prev of map) {
    const prevUpperFirst = prev.first;
    const prevLowerFirst = prev.lowerFirst;
    const prevUpperLast = (prevUpperFirst + prev.count - 1) >>> 0;
    const prevLowerLast = (prevLowerFirst + prev.count - 1) >>> 0;
    if (prevUpperFirst <= upperLast && prevUpperLast >= upperFirst) return true;
    if (prevLowerFirst <= lowerLast && prevLowerLast >= lowerFirst) return true;
  }
  return false;
}
