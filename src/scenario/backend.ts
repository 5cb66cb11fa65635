/**
 * The contract between the scenario interpreter and the kernels it drives.
 *
 * One interpreter (interpreter.ts) parses a script, converts every argument to
 * the C type of its system-call parameter, and renders every result. A backend
 * only performs raw system calls and hands back raw kernel data: numbers,
 * errno values, struct bytes and file text. Two backends exist: the Linux
 * oracle (src/oracle/, real processes on the host kernel) and the model
 * (src/scenario/model-backend.ts, this project's kernel). Because all
 * formatting lives in the interpreter, a difference in output is always a
 * difference in kernel behaviour.
 *
 * Conventions:
 *  - `int`, `key_t`, `uid_t`-like parameters arrive as JS numbers already
 *    truncated to 32 bits (signed for int/key_t, unsigned for uid/gid/mode).
 *  - `size_t`, addresses and `unsigned long` arrive as bigint in [0, 2^64).
 *  - A failed call resolves to `{ errno }` with the positive Linux errno.
 *  - Scenario processes are identified by a small integer handle the
 *    interpreter assigns (p0 is 0); the backend reports the kernel pid of each
 *    so the interpreter can turn pids back into names.
 */

export type ProcHandle = number;

/** The result of a system call that returns a value or fails with an errno. */
export type SysResult<T = bigint> = { ok: true; value: T } | { ok: false; errno: number };

/** The result of a byte-by-byte memory access (`read`, `write`, `fill`). */
export interface AccessResult {
  /** Bytes read before the access stopped (empty for writes). */
  data: Uint8Array;
  /** Set when a byte could not be accessed: the signal and its offset from ADDR. */
  fault?: { signal: 'SIGSEGV' | 'SIGBUS'; offset: bigint };
}

/** What `shmctl` produced: the return value and the 112-byte buffer after the call. */
export interface ShmctlResult {
  ret: SysResult<bigint>;
  /** The `struct shmid64_ds`-sized user buffer as the kernel left it (x86_64 layout). */
  buf: Uint8Array;
}

export interface Backend {
  /** Starts the scenario: creates p0 (handle 0) and returns its pid. */
  start(): Promise<number>;
  /** Forks `parent`; the child gets `child` as handle. Resolves to the child's pid. */
  fork(parent: ProcHandle, child: ProcHandle): Promise<SysResult<number>>;
  /** Exits the process; resolves once its address space has been torn down. */
  exit(proc: ProcHandle): Promise<void>;
  /**
   * setgroups(groups), setresgid(gid x3), prctl(PR_SET_KEEPCAPS, 1),
   * setresuid(uid x3), capset(effective = permitted = caps, inheritable = 0);
   * the first failure's errno is returned and earlier steps keep their effect.
   */
  creds(proc: ProcHandle, uid: number, gid: number, groups: number[], caps: bigint): Promise<SysResult<0n>>;
  /** unshare(CLONE_NEWIPC). */
  unshareIpc(proc: ProcHandle): Promise<SysResult<0n>>;
  /** setrlimit(RLIMIT_MEMLOCK, {cur, max}); RLIM_INFINITY is 2^64-1. */
  setrlimitMemlock(proc: ProcHandle, cur: bigint, max: bigint): Promise<SysResult<0n>>;

  shmget(proc: ProcHandle, key: number, size: bigint, flags: number): Promise<SysResult>;
  shmat(proc: ProcHandle, id: number, addr: bigint, flags: number): Promise<SysResult>;
  shmdt(proc: ProcHandle, addr: bigint): Promise<SysResult>;
  /** `buf` is the 112-byte buffer passed to the kernel (zeroed, or an IPC_SET request). */
  shmctl(proc: ProcHandle, id: number, cmd: number, buf: Uint8Array): Promise<ShmctlResult>;

  /** mmap(addr, len, prot, flags, -1, 0). */
  mmap(proc: ProcHandle, addr: bigint, len: bigint, prot: number, flags: number): Promise<SysResult>;
  munmap(proc: ProcHandle, addr: bigint, len: bigint): Promise<SysResult>;
  mprotect(proc: ProcHandle, addr: bigint, len: bigint, prot: number): Promise<SysResult>;
  mremap(proc: ProcHandle, old: bigint, oldLen: bigint, newLen: bigint, flags: number, newAddr: bigint): Promise<SysResult>;
  madvise(proc: ProcHandle, addr: bigint, len: bigint, advice: number): Promise<SysResult>;

  /** Reads `len` bytes one at a time in ascending order, stopping at the first fault. */
  read(proc: ProcHandle, addr: bigint, len: bigint): Promise<AccessResult>;
  /** Writes the bytes one at a time in ascending order, stopping at the first fault. */
  write(proc: ProcHandle, addr: bigint, data: Uint8Array): Promise<AccessResult>;
  /** Writes `len` copies of `byte` one at a time, stopping at the first fault. */
  fill(proc: ProcHandle, addr: bigint, len: bigint, byte: number): Promise<AccessResult>;

  /**
   * Reads a whole file as the process would (open/read/close): used for
   * `/proc/self/maps`, `/proc/sysvipc/shm` and `/proc/sys/kernel/<name>`.
   */
  readFile(proc: ProcHandle, path: string): Promise<SysResult<string>>;
  /** Writes text to a file as the process would (open O_WRONLY/write/close). */
  writeFile(proc: ProcHandle, path: string, text: string): Promise<SysResult<0n>>;

  /** Ends the scenario: every process is killed and every resource released. */
  close(): Promise<void>;
}
