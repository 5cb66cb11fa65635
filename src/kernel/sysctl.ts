/**
 * The per-IPC-namespace shm sysctls (ipc/ipc_sysctl.c): kernel.shmmax,
 * kernel.shmall, kernel.shmmni, kernel.shm_rmid_forced, kernel.shm_next_id,
 * with their handlers (proc_doulongvec_minmax, proc_dointvec_minmax,
 * proc_ipc_dointvec_minmax_orphans) and permissions (ipc_permissions).
 */
import { Capability, IPCMNI } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import { nsCapable } from '../auth/capability.js';
import { inEgroupP, type Credentials } from '../auth/cred.js';
import { makeKgid, makeKuid, gidValid, uidValid } from '../auth/userns.js';
import type { ShmNamespace } from '../shm/namespace.js';

export const IPC_SYSCTLS = ['shmmax', 'shmall', 'shmmni', 'shm_rmid_forced', 'shm_next_id'] as const;
export type IpcSysctlName = (typeof IPC_SYSCTLS)[number];

const ULONG_MAX = (1n << 64n) - 1n;
const INT_MAX = 0x7fffffff;

interface SysctlDef {
  /** The table mode before ipc_permissions() adjusts it. */
  mode: number;
  kind: 'ulong' | 'int';
  min?: number;
  max?: number;
  get(ns: ShmNamespace): bigint | number;
  set(ns: ShmNamespace, v: bigint | number): void;
}

const table: Record<IpcSysctlName, SysctlDef> = {
  shmmax: { mode: 0o644, kind: 'ulong', get: (ns) => ns.ctlmax, set: (ns, v) => { ns.ctlmax = BigInt(v); } },
  shmall: { mode: 0o644, kind: 'ulong', get: (ns) => ns.ctlall, set: (ns, v) => { ns.ctlall = BigInt(v); } },
  shmmni: { mode: 0o644, kind: 'int', min: 0, max: IPCMNI, get: (ns) => ns.ctlmni, set: (ns, v) => { ns.ctlmni = Number(v); } },
  shm_rmid_forced: {
    mode: 0o644, kind: 'int', min: 0, max: 1,
    get: (ns) => ns.rmidForced, set: (ns, v) => { ns.rmidForced = Number(v); },
  },
  shm_next_id: {
    mode: 0o444, kind: 'int', min: 0, max: INT_MAX,
    get: (ns) => ns.ids.nextId, set: (ns, v) => { ns.ids.nextId = Number(v); },
  },
};

export function isIpcSysctl(name: string): name is IpcSysctlName {
  return (IPC_SYSCTLS as readonly string[]).includes(name);
}

/** The mode a sysctl file shows in `ls -l` (the table mode). */
export function sysctlFileMode(name: IpcSysctlName): number {
  return table[name].mode;
}

/**
 * ipc_permissions() + test_perm(): the access the caller gets, as rwx bits.
 * shm_next_id becomes 0666 for CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in
 * the owning user namespace; otherwise the class is chosen against the
 * namespace's root uid/gid (ipc_set_ownership) and no capability overrides it.
 */
export function sysctlAccess(ns: ShmNamespace, name: IpcSysctlName, cred: Credentials): number {
  let mode = table[name].mode;
  if (name === 'shm_next_id' &&
      (nsCapable(cred, ns.userNs, Capability.CAP_CHECKPOINT_RESTORE) || nsCapable(cred, ns.userNs, Capability.CAP_SYS_ADMIN))) {
    mode = 0o666;
  } else {
    const rootUid = makeKuid(ns.userNs, 0);
    const rootGid = makeKgid(ns.userNs, 0);
    const nsRootUid = uidValid(rootUid) ? rootUid : 0;
    const nsRootGid = gidValid(rootGid) ? rootGid : 0;
    if (cred.euid === nsRootUid) mode >>= 6;
    else if (inEgroupP(cred, nsRootGid)) mode >>= 3;
  }
  return mode & 7;
}

/** Reading the file: "%lu\n" or "%d\n". Reading shm_rmid_forced while 1 sweeps orphans. */
export function sysctlRead(ns: ShmNamespace, name: IpcSysctlName): string {
  const text = `${table[name].get(ns)}\n`;
  if (name === 'shm_rmid_forced' && ns.rmidForced) ns.destroyOrphaned();
  return text;
}

/**
 * The first value of a sysctl write, as __do_proc_dointvec and
 * __do_proc_doulongvec_minmax read it: leading white space is skipped,
 * proc_get_long() parses an optionally negative number in base 0 (0x hex, 0
 * octal) that must end at white space or at the end; only one value is read
 * for these one-value tables and the rest of the text is ignored.
 * null: the text holds no valid first number (-EINVAL).
 */
function firstValue(text: string): { neg: boolean; value: bigint } | null {
  const m = /^[ \t\n]*(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:[ \t\n]|$)/.exec(text);
  if (!m) return null;
  const digits = m[2]!;
  const value = digits.length > 1 && digits[0] === '0' && !/^0[xX]/.test(digits) ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
  if (value > ULONG_MAX) return null;
  return { neg: m[1] === '-', value };
}

/**
 * Writing the file: 0 or a negative errno (syntax and range errors are
 * EINVAL). An empty write changes nothing (proc_sys_call_handler returns 0
 * for a zero count).
 */
export function sysctlWrite(ns: ShmNamespace, name: IpcSysctlName, text: string): number {
  const def = table[name];
  if (text.length === 0) return 0;
  const p = firstValue(text);
  if (!p) return -Errno.EINVAL;
  if (def.kind === 'ulong') {
    if (p.neg) return -Errno.EINVAL;
    def.set(ns, p.value);
  } else {
    // do_proc_dointvec_minmax_conv(): the value must fit an int, then the range.
    if (p.neg ? p.value > BigInt(INT_MAX) + 1n : p.value > BigInt(INT_MAX)) return -Errno.EINVAL;
    const v = Number(p.neg ? -p.value : p.value);
    if ((def.min !== undefined && v < def.min) || (def.max !== undefined && v > def.max)) return -Errno.EINVAL;
    def.set(ns, v);
  }
  if (name === 'shm_rmid_forced' && ns.rmidForced) ns.destroyOrphaned();
  return 0;
}
