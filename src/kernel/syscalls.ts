/**
 * The raw system-call layer of a process: the calls an emulator forwards,
 * with Linux's argument types (64-bit values as bigint or number, C ints as
 * number) and Linux's return convention (>= 0, or a negative errno). Nothing
 * a guest passes here throws.
 */
import { Errno } from '../abi/errno.js';
import { Capability, MAP_ANONYMOUS, PAGE_SIZE, RLIMIT_MEMLOCK, TASK_SIZE } from '../abi/constants.js';
import { nsCapable } from '../auth/capability.js';
import { setgroups, setresgid, setresuid, prctlSetKeepCaps, capset, unshareUserNs } from '../auth/setid.js';
import { shmget, shmat, shmdt, shmctl, type UserBuffer } from '../shm/index.js';
import { lowBits, word } from '../abi/word.js';
import type { Process } from './process.js';
/** A faulting access: the signal and the offset of the faulting byte from the start. */
export interface AccessFault { signal: 'SIGSEGV' | 'SIGBUS'; offset: bigint }
/** What read/write/fill return: the bytes read before any fault. */
export interface AccessResult { data: Uint8Array; fault?: AccessFault }

/** What a write or fill that completed returns: one shared, frozen object (no allocation per access). */
const WRITTEN: AccessResult = Object.freeze({ data: Object.freeze(new Uint8Array(0)) });
const TASK_SIZE_N = Number(TASK_SIZE);

/**
 * An address or length of read/write/fill as a number (number-only on the
 * common path): the word, or TASK_SIZE + 4096 for a word of 2^53 or more
 * (the access faults there whatever the exact value).
 */
function accessArg(v: U64Arg): number {
  const w = word(v);
  return typeof w === 'number' ? w : TASK_SIZE_N + PAGE_SIZE;
}

export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const PR_SET_KEEPCAPS = 8;
export const PR_GET_KEEPCAPS = 7;

/** Any 64-bit argument: a number or bigint, reduced modulo 2^64 as C would. */
export type U64Arg = number | bigint;

export function u64(v: U64Arg): bigint {
  // Fast path: a non-negative safe integer is already its own u64. 0 (a NULL
  // address, offset 0, shmget's lookup size) is the most frequent: the
  // constant, since BigInt(0) allocates (~30 ns here; bench: lookup). The
  // rest is out of line, so that this stays small enough to inline.
  if (typeof v === 'number' && v >= 0 && Number.isSafeInteger(v)) return v === 0 ? 0n : BigInt(v);
  return u64Slow(v);
}

function u64Slow(v: U64Arg): bigint {
  // NaN and infinities have no C value; they convert to 0 rather than throw.
  if (typeof v === 'number' && !Number.isFinite(v)) return 0n;
  return BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)));
}


/**
 * A C int argument: truncated to 32 bits, two's complement. For a number
 * that is ToInt32 (`v | 0`): exact for every finite value, and NaN and the
 * infinities give 0 (they have no C value). A value that already is an int
 * is returned as it came: an int beyond 2^30 (an ftok() key) is a heap
 * number in V8, and a freshly computed one would be boxed again at the next
 * call boundary the JIT did not inline (bench: lookup).
 */
export function int(v: number | bigint): number {
  return typeof v === 'number' && (v | 0) === v ? v : intSlow(v);
}

/** int() of anything but a number that already is an int (out of line: int() stays small enough to inline). */
function intSlow(v: number | bigint): number {
  return typeof v === 'number' ? v | 0 : Number(BigInt.asIntN(32, v));
}

/** An unsigned long argument that user space passed as an int (sign-extended by the C ABI). */
function sext(v: number): bigint {
  return BigInt.asUintN(64, BigInt(int(v)));
}

/** No user memory: every copy faults (a NULL buffer). */
const NO_BUFFER: UserBuffer = { copyTo: () => false, copyFrom: () => null };

export class RawSyscalls {
  constructor(private readonly p: Process) {}

  private get alive(): boolean {
    return this.p.alive;
  }

  // --- SysV shared memory --------------------------------------------------

  shmget(key: number, size: U64Arg, shmflg: number): number {
    if (!this.alive) return -Errno.ESRCH;
    return shmget(this.p, int(key), word(size), int(shmflg));
  }

  shmat(shmid: number, shmaddr: U64Arg, shmflg: number): number {
    if (!this.alive) return -Errno.ESRCH;
    return shmat(this.p, int(shmid), shmaddr, int(shmflg));
  }

  shmdt(shmaddr: U64Arg): number {
    if (!this.alive) return -Errno.ESRCH;
    return shmdt(this.p, shmaddr);
  }

  /**
   * shmctl(shmid, cmd, buf): `buf` is the user buffer (a byte array of at
   * least the structure's size, a UserBuffer, or null for a NULL pointer).
   */
  shmctl(shmid: number, cmd: number, buf: Uint8Array | UserBuffer | null): number {
    if (!this.alive) return -Errno.ESRCH;
    return shmctl(this.p, int(shmid), int(cmd), buf === null ? NO_BUFFER : buf);
  }

  // --- memory management ---------------------------------------------------

  /**
   * mmap(2) (arch/x86/kernel/sys_x86_64.c, ksys_mmap_pgoff): the offset must
   * be page aligned, then a mapping without MAP_ANONYMOUS needs a file
   * descriptor, and the model has no files: EBADF.
   */
  mmap(addr: U64Arg, len: U64Arg, prot: number, flags: number, fd = -1, offset: U64Arg = 0): number {
    if (!this.alive) return -Errno.ESRCH;
    const off = word(offset);
    if (lowBits(off, PAGE_SIZE - 1)) return -Errno.EINVAL;
    if (!(int(flags) & MAP_ANONYMOUS)) {
      void fd;
      return -Errno.EBADF;
    }
    const pgoff = typeof off === 'number' ? off / PAGE_SIZE : off >> 12n;
    return this.p.mm.mmap(addr, len, int(prot), int(flags), null, pgoff, this.p);
  }

  munmap(addr: U64Arg, len: U64Arg): number {
    if (!this.alive) return -Errno.ESRCH;
    return this.p.mm.munmap(addr, len, this.p);
  }

  mprotect(addr: U64Arg, len: U64Arg, prot: number): number {
    if (!this.alive) return -Errno.ESRCH;
    return this.p.mm.mprotect(u64(addr), u64(len), int(prot), this.p);
  }

  mremap(oldAddr: U64Arg, oldLen: U64Arg, newLen: U64Arg, flags: number, newAddr: U64Arg = 0): number {
    if (!this.alive) return -Errno.ESRCH;
    return this.p.mm.mremap(u64(oldAddr), u64(oldLen), u64(newLen), sext(flags), u64(newAddr), this.p);
  }

  madvise(addr: U64Arg, len: U64Arg, advice: number): number {
    if (!this.alive) return -Errno.ESRCH;
    return this.p.mm.madvise(u64(addr), u64(len), int(advice), this.p);
  }

  // --- memory access (what the CPU would do) --------------------------------

  /**
   * Reads `len` bytes in ascending order, stopping at the first byte the
   * process could not read (the CPU's view: SIGSEGV/SIGBUS at that offset).
   * The walk goes page by page and stops at the first fault, so a huge
   * length costs only what is really mapped; everything at or above
   * TASK_SIZE (or 2^64) faults.
   */
  read(addr: U64Arg, len: U64Arg): AccessResult {
    const mm = this.p.mm;
    const n = accessArg(len);
    const data = mm.readN(accessArg(addr), n);
    return data.length < n ? { data, fault: { signal: mm.accessSignal, offset: BigInt(data.length) } } : { data };
  }

  write(addr: U64Arg, data: Uint8Array): AccessResult {
    const mm = this.p.mm;
    const got = mm.writeN(accessArg(addr), data, 0, data.length);
    return got < data.length ? { data: new Uint8Array(0), fault: { signal: mm.accessSignal, offset: BigInt(got) } } : WRITTEN;
  }

  fill(addr: U64Arg, len: U64Arg, byte: number): AccessResult {
    const mm = this.p.mm;
    const n = accessArg(len);
    const got = mm.fillN(accessArg(addr), n, byte & 0xff);
    return got < n ? { data: new Uint8Array(0), fault: { signal: mm.accessSignal, offset: BigInt(got) } } : WRITTEN;
  }

  // --- processes and credentials -------------------------------------------

  getpid(): number {
    return this.p.pid;
  }

  /** fork(): the child's pid. */
  fork(): number {
    if (!this.alive) return -Errno.ESRCH;
    const child = this.p.kernel.tryFork(this.p);
    return typeof child === 'number' ? child : child.pid;
  }

  /** exit_group(). */
  exit(code = 0): number {
    if (!this.alive) return -Errno.ESRCH;
    this.p.kernel.exit(this.p, code);
    return 0;
  }

  /**
   * unshare(2) (kernel/fork.c ksys_unshare): CLONE_NEWUSER (unshare_userns:
   * the caller gets every capability in the new namespace) and CLONE_NEWIPC
   * (copy_ipcs: CAP_SYS_ADMIN in the caller's, possibly new, user namespace),
   * the user namespace first. Other namespace flags are not modelled: EINVAL.
   */
  unshare(flags: number): number {
    if (!this.alive) return -Errno.ESRCH;
    const f = int(flags);
    if (f & ~(CLONE_NEWIPC | CLONE_NEWUSER)) return -Errno.EINVAL;
    let cred = this.p.cred;
    if (f & CLONE_NEWUSER) {
      const next = unshareUserNs(cred);
      if (typeof next === 'number') return next;
      cred = next;
    }
    if ((f & CLONE_NEWIPC) && !nsCapable(cred, cred.userNs, Capability.CAP_SYS_ADMIN)) return -Errno.EPERM;
    this.p.cred = cred;
    if (f & CLONE_NEWIPC) this.p.kernel.unshareIpc(this.p);
    return 0;
  }

  setgroups(groups: number[]): number {
    return this.commit(setgroups(this.p.cred, groups.map((g) => g >>> 0)));
  }

  setresuid(ruid: number, euid: number, suid: number): number {
    return this.commit(setresuid(this.p.cred, ruid >>> 0, euid >>> 0, suid >>> 0));
  }

  setresgid(rgid: number, egid: number, sgid: number): number {
    return this.commit(setresgid(this.p.cred, rgid >>> 0, egid >>> 0, sgid >>> 0));
  }

  /** prctl(PR_SET_KEEPCAPS / PR_GET_KEEPCAPS); other options are EINVAL. */
  prctl(option: number, arg2: U64Arg = 0): number {
    if (option === PR_GET_KEEPCAPS) return this.p.cred.keepCaps ? 1 : 0;
    if (option !== PR_SET_KEEPCAPS) return -Errno.EINVAL;
    return this.commit(prctlSetKeepCaps(this.p.cred, u64(arg2)));
  }

  /** capset() v3 for the calling process. */
  capset(effective: bigint, permitted: bigint, inheritable: bigint): number {
    return this.commit(capset(this.p.cred, effective, permitted, inheritable));
  }

  /**
   * prlimit64(0, resource, new, NULL) for RLIMIT_MEMLOCK (do_prlimit): cur > max
   * is EINVAL; raising max needs CAP_SYS_RESOURCE. Other resources are EINVAL here.
   */
  setrlimit(resource: number, cur: U64Arg, max: U64Arg): number {
    if (resource !== RLIMIT_MEMLOCK) return -Errno.EINVAL;
    const c = u64(cur);
    const m = u64(max);
    if (c > m) return -Errno.EINVAL;
    if (m > this.p.memlock.max && !this.p.capable(Capability.CAP_SYS_RESOURCE)) return -Errno.EPERM;
    this.p.memlock = { cur: c, max: m };
    return 0;
  }

  private commit(r: ReturnType<typeof setresuid>): number {
    if (typeof r === 'number') return r;
    this.p.cred = r;
    return 0;
  }
}
