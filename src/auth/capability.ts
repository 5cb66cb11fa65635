/**
 * Capability sets and checks (include/linux/capability.h,
 * security/commoncap.c cap_capable(), kernel/capability.c ns_capable()).
 *
 * A capability set is a bigint bit set (bit n = capability n). Only bits
 * 0..CAP_LAST_CAP are ever stored (CAP_VALID_MASK).
 */
import { CAP_FULL_SET, CAP_LAST_CAP } from '../abi/constants.js';
import type { Credentials } from './cred.js';
import { rootUserNs, type UserNamespace } from './userns.js';

/** include/linux/capability.h CAP_VALID_MASK (= CAP_FULL_SET since 6.3). */
export const CAP_VALID_MASK: bigint = CAP_FULL_SET;
export const CAP_EMPTY_SET = 0n;

/** include/uapi/linux/securebits.h bit numbers and masks. */
export const SECURE_NOROOT = 0;
export const SECURE_NOROOT_LOCKED = 1;
export const SECURE_NO_SETUID_FIXUP = 2;
export const SECURE_NO_SETUID_FIXUP_LOCKED = 3;
export const SECURE_KEEP_CAPS = 4;
export const SECURE_KEEP_CAPS_LOCKED = 5;
export const SECURE_NO_CAP_AMBIENT_RAISE = 6;
export const SECURE_NO_CAP_AMBIENT_RAISE_LOCKED = 7;
/** SECUREBITS_DEFAULT. */
export const SECUREBITS_DEFAULT = 0;

/** issecure_mask(X). */
export function issecureMask(bit: number): number {
  return 1 << bit;
}

/** cap_valid(x): 0 <= x <= CAP_LAST_CAP. */
export function capValid(cap: number): boolean {
  return Number.isInteger(cap) && cap >= 0 && cap <= CAP_LAST_CAP;
}

/** CAP_TO_MASK-like: the set containing only `cap`. */
export function capMask(cap: number): bigint {
  return 1n << BigInt(cap);
}

/** The set of the listed capabilities. */
export function capSetOf(...caps: number[]): bigint {
  let s = 0n;
  for (const c of caps) s |= capMask(c);
  return s;
}

/** cap_raised(set, cap). */
export function capRaised(set: bigint, cap: number): boolean {
  return capValid(cap) && (set & capMask(cap)) !== 0n;
}

/** cap_issubset(a, set): no bit of a outside set. */
export function capIsSubset(a: bigint, set: bigint): boolean {
  return (a & ~set) === 0n;
}

/** mk_kernel_cap(): user-supplied sets are silently masked to the valid capabilities. */
export function mkKernelCap(set: bigint): bigint {
  return BigInt.asUintN(64, set) & CAP_VALID_MASK;
}

/**
 * security/commoncap.c cap_capable(): does `cred` have `cap` in `targNs`?
 *
 * Walks from the target namespace towards the initial one:
 *  - reaching the credentials' own namespace: the effective set decides;
 *  - reaching a level at or above the credentials' namespace without meeting
 *    it: no (the target is not a descendant);
 *  - the owner (euid) of a namespace whose parent is the credentials'
 *    namespace has every capability in it (and in its descendants);
 *  - otherwise continue with the parent (a capability in an ancestor covers
 *    all descendant namespaces).
 * Returns true/false instead of 0/-EPERM.
 */
export function capCapable(cred: Credentials, targNs: UserNamespace, cap: number): boolean {
  let ns: UserNamespace | null = targNs;
  for (;;) {
    if (ns === null) return false;
    if (ns === cred.userNs) return capRaised(cred.capEffective, cap);
    if (ns.level <= cred.userNs.level) return false;
    if (ns.parent === cred.userNs && ns.owner === cred.euid) return true;
    ns = ns.parent;
  }
}

/** kernel/capability.c ns_capable(ns, cap) for the given credentials. */
export function nsCapable(cred: Credentials, ns: UserNamespace, cap: number): boolean {
  return capCapable(cred, ns, cap);
}

/**
 * ns_capable_setid(): the same question with CAP_OPT_INSETID, which only the
 * SafeSetID LSM looks at; with commoncap alone it equals ns_capable().
 */
export function nsCapableSetid(cred: Credentials, ns: UserNamespace, cap: number): boolean {
  return capCapable(cred, ns, cap);
}

/** kernel/capability.c capable(cap) = ns_capable(&init_user_ns, cap). */
export function capable(cred: Credentials, cap: number): boolean {
  return capCapable(cred, rootUserNs(cred.userNs), cap);
}

/** file_ns_capable(file, ns, cap): the check against the opener's credentials. */
export function fileNsCapable(openerCred: Credentials, ns: UserNamespace, cap: number): boolean {
  return capCapable(openerCred, ns, cap);
}
