/**
 * Task credentials (include/linux/cred.h, kernel/cred.c, kernel/groups.c).
 *
 * Linux credentials are immutable once committed: a change is made on a copy
 * (prepare_creds), which then replaces the task's pointer (commit_creds), and
 * fork() simply shares the parent's. `Credentials` is therefore an immutable
 * value: every field is readonly, the object and its group list are frozen,
 * and the credential-changing operations (setid.ts) return a new object.
 * Sharing one object between processes is exactly Linux's behaviour.
 */
import { CAP_FULL_SET, CAP_REFERENCE_ROOT_SET } from '../abi/constants.js';
import { CAP_VALID_MASK, SECURE_KEEP_CAPS, SECUREBITS_DEFAULT, capIsSubset, issecureMask } from './capability.js';
import { initUserNs, type UserNamespace } from './userns.js';

/** include/uapi/linux/limits.h NGROUPS_MAX. */
export const NGROUPS_MAX = 65536;

export interface CredentialsFields {
  /** Real, effective, saved and filesystem uid: kernel ids, 0..2^32-2. */
  uid: number;
  euid: number;
  suid: number;
  fsuid: number;
  /** Real, effective, saved and filesystem gid: kernel ids, 0..2^32-2. */
  gid: number;
  egid: number;
  sgid: number;
  fsgid: number;
  /** Supplementary groups: kernel gids, sorted ascending (duplicates allowed, as Linux keeps them). */
  groups: readonly number[];
  /** Capability sets (bits 0..CAP_LAST_CAP). */
  capInheritable: bigint;
  capPermitted: bigint;
  capEffective: bigint;
  capBounding: bigint;
  /** Invariant (cap_ambient_invariant_ok): ambient ⊆ permitted ∩ inheritable. */
  capAmbient: bigint;
  /** securebits (SECURE_KEEP_CAPS = bit 4 is PR_SET_KEEPCAPS). */
  securebits: number;
  /** The user namespace the credentials belong to (cred->user_ns). */
  userNs: UserNamespace;
}

function checkKernelId(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xfffffffe) {
    throw new RangeError(`Credentials.${name} must be a valid kernel id (0..4294967294), got ${v}`);
  }
}

function checkCapSet(name: string, v: bigint): void {
  if (typeof v !== 'bigint' || v < 0n || (v & ~CAP_VALID_MASK) !== 0n) {
    throw new RangeError(`Credentials.${name} must be a subset of CAP_VALID_MASK`);
  }
}

/** struct cred. Construct through makeCredentials() or Credentials.with(). */
export class Credentials implements CredentialsFields {
  readonly uid: number;
  readonly euid: number;
  readonly suid: number;
  readonly fsuid: number;
  readonly gid: number;
  readonly egid: number;
  readonly sgid: number;
  readonly fsgid: number;
  readonly groups: readonly number[];
  readonly capInheritable: bigint;
  readonly capPermitted: bigint;
  readonly capEffective: bigint;
  readonly capBounding: bigint;
  readonly capAmbient: bigint;
  readonly securebits: number;
  readonly userNs: UserNamespace;

  constructor(f: CredentialsFields) {
    for (const k of ['uid', 'euid', 'suid', 'fsuid', 'gid', 'egid', 'sgid', 'fsgid'] as const) checkKernelId(k, f[k]);
    for (const k of ['capInheritable', 'capPermitted', 'capEffective', 'capBounding', 'capAmbient'] as const) checkCapSet(k, f[k]);
    if (!capIsSubset(f.capAmbient, f.capPermitted & f.capInheritable)) {
      throw new RangeError('Credentials.capAmbient must be a subset of capPermitted & capInheritable');
    }
    for (let i = 0; i < f.groups.length; i++) {
      checkKernelId('groups[]', f.groups[i]!);
      if (i > 0 && f.groups[i - 1]! > f.groups[i]!) throw new RangeError('Credentials.groups must be sorted');
    }
    this.uid = f.uid;
    this.euid = f.euid;
    this.suid = f.suid;
    this.fsuid = f.fsuid;
    this.gid = f.gid;
    this.egid = f.egid;
    this.sgid = f.sgid;
    this.fsgid = f.fsgid;
    this.groups = Object.isFrozen(f.groups) ? f.groups : Object.freeze([...f.groups]);
    this.capInheritable = f.capInheritable;
    this.capPermitted = f.capPermitted;
    this.capEffective = f.capEffective;
    this.capBounding = f.capBounding;
    this.capAmbient = f.capAmbient;
    this.securebits = f.securebits;
    this.userNs = f.userNs;
    Object.freeze(this);
  }

  /** issecure(SECURE_KEEP_CAPS): the PR_SET_KEEPCAPS flag. */
  get keepCaps(): boolean {
    return (this.securebits & issecureMask(SECURE_KEEP_CAPS)) !== 0;
  }

  /** prepare_creds() + changes + commit: a new value with some fields replaced. */
  with(changes: Partial<CredentialsFields>): Credentials {
    return new Credentials({ ...this.fields(), ...changes });
  }

  /** All fields as a plain object. */
  fields(): CredentialsFields {
    return {
      uid: this.uid, euid: this.euid, suid: this.suid, fsuid: this.fsuid,
      gid: this.gid, egid: this.egid, sgid: this.sgid, fsgid: this.fsgid,
      groups: this.groups,
      capInheritable: this.capInheritable, capPermitted: this.capPermitted,
      capEffective: this.capEffective, capBounding: this.capBounding, capAmbient: this.capAmbient,
      securebits: this.securebits, userNs: this.userNs,
    };
  }
}

/** Options for building arbitrary credentials (tests, scenario set-up). All ids are kernel ids. */
export interface CredentialsInit {
  userNs?: UserNamespace;
  /** Default 0. euid/suid default to uid, fsuid to euid. */
  uid?: number;
  euid?: number;
  suid?: number;
  fsuid?: number;
  /** Default 0. egid/sgid default to gid, fsgid to egid. */
  gid?: number;
  egid?: number;
  sgid?: number;
  fsgid?: number;
  /** Kernel gids in any order; they are sorted. Default none. */
  groups?: readonly number[];
  /** Default 0n. */
  capEffective?: bigint;
  /** Default capEffective. */
  capPermitted?: bigint;
  capInheritable?: bigint;
  /**
   * Default: CAP_REFERENCE_ROOT_SET for the initial namespace (what every
   * process on the reference machines inherits), CAP_FULL_SET in a child
   * namespace (set_cred_user_ns()).
   */
  capBounding?: bigint;
  capAmbient?: bigint;
  securebits?: number;
  /** Sets or clears SECURE_KEEP_CAPS in securebits. */
  keepCaps?: boolean;
}

/** Builds arbitrary credentials. */
export function makeCredentials(init: CredentialsInit = {}): Credentials {
  const userNs = init.userNs ?? initUserNs;
  const uid = init.uid ?? 0;
  const euid = init.euid ?? uid;
  const gid = init.gid ?? 0;
  const egid = init.egid ?? gid;
  const capEffective = init.capEffective ?? 0n;
  let securebits = init.securebits ?? SECUREBITS_DEFAULT;
  if (init.keepCaps !== undefined) {
    securebits = init.keepCaps ? securebits | issecureMask(SECURE_KEEP_CAPS) : securebits & ~issecureMask(SECURE_KEEP_CAPS);
  }
  return new Credentials({
    userNs,
    uid, euid, suid: init.suid ?? uid, fsuid: init.fsuid ?? euid,
    gid, egid, sgid: init.sgid ?? gid, fsgid: init.fsgid ?? egid,
    groups: Object.freeze(sortGroups(init.groups ?? [])),
    capEffective,
    capPermitted: init.capPermitted ?? capEffective,
    capInheritable: init.capInheritable ?? 0n,
    capBounding: init.capBounding ?? (userNs.parent === null ? CAP_REFERENCE_ROOT_SET : CAP_FULL_SET),
    capAmbient: init.capAmbient ?? 0n,
    securebits,
  });
}

/**
 * The credentials of root on the reference machines: all ids 0 in the initial
 * namespace, no supplementary groups, effective = permitted = bounding =
 * CAP_REFERENCE_ROOT_SET, inheritable and ambient empty, securebits 0.
 */
export function initialRootCredentials(initNs: UserNamespace = initUserNs): Credentials {
  return makeCredentials({
    userNs: initNs,
    capEffective: CAP_REFERENCE_ROOT_SET,
    capPermitted: CAP_REFERENCE_ROOT_SET,
    capBounding: CAP_REFERENCE_ROOT_SET,
  });
}

/** kernel/groups.c groups_sort(): ascending by kernel gid (gid_gt). */
export function sortGroups(groups: readonly number[]): number[] {
  return [...groups].sort((a, b) => a - b);
}

/** kernel/groups.c groups_search(): binary search in the sorted group list. */
export function groupsSearch(groups: readonly number[], kgid: number): boolean {
  let left = 0;
  let right = groups.length;
  while (left < right) {
    const mid = (left + right) >>> 1;
    const g = groups[mid]!;
    if (kgid > g) left = mid + 1;
    else if (kgid < g) right = mid;
    else return true;
  }
  return false;
}

/** kernel/groups.c in_group_p(): fsgid or a supplementary group (not egid). */
export function inGroupP(cred: Credentials, kgid: number): boolean {
  if (kgid === cred.fsgid) return true;
  return groupsSearch(cred.groups, kgid);
}

/** kernel/groups.c in_egroup_p(): egid or a supplementary group. */
export function inEgroupP(cred: Credentials, kgid: number): boolean {
  if (kgid === cred.egid) return true;
  return groupsSearch(cred.groups, kgid);
}
