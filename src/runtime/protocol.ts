/**
 * The system-call channel between a worker-thread process (the guest) and the
 * kernel's thread: one SharedArrayBuffer per process, the moral equivalent of
 * the `syscall` instruction and the registers it passes
 * (arch/x86/entry/entry_64.S: rax = nr, rdi, rsi, rdx, r10, r8, r9).
 *
 * Layout (byte offsets):
 *
 *   0    Int32   STATE     IDLE, REQUEST (guest -> kernel), RESPONSE (kernel -> guest)
 *   4    Int32   OP        the operation (OP below)
 *   8    Int32   DATA_IN   bytes of payload the guest put in the data area
 *   12   Int32   DATA_OUT  bytes of payload the kernel put in the data area
 *   64   Int32x8 TAGS      per argument: absent, number (Float64) or bigint (BigInt64)
 *   128  8 x 8   ARGS      the arguments, as Float64 or BigInt64 per tag
 *   192  Float64x8 RESULTS  [0] the return value (>= 0 or -errno), [1..] extra values
 *   256  ...     DATA      the payload area (write data, read results, shmctl buffers)
 *
 * Protocol: the guest fills OP, TAGS, ARGS and DATA, stores REQUEST in STATE,
 * notifies it and blocks in Atomics.wait(STATE, REQUEST). The kernel waits on
 * STATE with Atomics.waitAsync (no spinning, no timers), serves the request
 * synchronously on its thread, fills RESULTS (and DATA), stores RESPONSE and
 * notifies. Everything the kernel reads from the channel is guest-controlled
 * and is validated before use.
 *
 * This module is shared by both sides and imports nothing from Node.
 */

export const STATE = 0;
export const OP_WORD = 1;
export const DATA_IN = 2;
export const DATA_OUT = 3;

export const IDLE = 0;
export const REQUEST = 1;
export const RESPONSE = 2;

export const TAGS_OFFSET = 64;
export const ARGS_OFFSET = 128;
export const RESULTS_OFFSET = 192;
export const DATA_OFFSET = 256;
export const MAX_ARGS = 8;
export const MAX_RESULTS = 8;

/** Default size of the data area: larger payloads are chunked. */
export const DEFAULT_DATA_BYTES = 1 << 20;

export const TAG_ABSENT = 0;
export const TAG_NUMBER = 1;
export const TAG_BIGINT = 2;

/** Operations: the RawSyscalls calls a guest can make, plus the runtime's own. */
export const OP = {
  SHMGET: 1,
  SHMAT: 2,
  SHMDT: 3,
  SHMCTL: 4,
  MMAP: 5,
  MUNMAP: 6,
  MPROTECT: 7,
  MREMAP: 8,
  MADVISE: 9,
  GETPID: 10,
  READ: 11,
  WRITE: 12,
  FILL: 13,
  EXIT: 14,
  FUTEX: 15,
  UNSHARE: 16,
  SETGROUPS: 17,
  SETRESUID: 18,
  SETRESGID: 19,
  PRCTL: 20,
  CAPSET: 21,
  SETRLIMIT: 22,
  /** Runtime: resolve a futex word to (SharedArrayBuffer id, byte offset) for the fast path. */
  FUTEX_RESOLVE: 64,
  /** Runtime: a zero-copy view of a shared mapping. */
  VIEW: 65,
} as const;

/**
 * Calls after which the guest drops its caches (futex locations, SharedArrayBuffers
 * received): they may change what an address maps to, or whether it may be read
 * (madvise: MADV_GUARD_INSTALL makes a page fault).
 * The kernel forgets which buffers it sent to the guest at the same calls.
 */
export const INVALIDATING_OPS: ReadonlySet<number> = new Set<number>([
  OP.SHMAT, OP.SHMDT, OP.MMAP, OP.MUNMAP, OP.MPROTECT, OP.MREMAP, OP.MADVISE, OP.UNSHARE,
]);

/** FUTEX_RESOLVE results (>= 0); a negative value is an errno. */
export const RESOLVE_FAST = 0;
/** The word is not in a shared file mapping (private memory): every operation goes to the kernel. */
export const RESOLVE_KERNEL = 1;

/** Fault kinds in RESULTS[1] of READ/WRITE/FILL. */
export const FAULT_NONE = 0;
export const FAULT_SIGSEGV = 1;
export const FAULT_SIGBUS = 2;

/** A number or bigint argument as an unsigned 64-bit value (C's conversion), or null when it is not a number at all. */
export function toU64(v: unknown): bigint | null {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt.asUintN(64, BigInt(Math.trunc(v)));
  return null;
}

/** A C int argument: truncated to 32 bits, two's complement; what is not a number is 0. */
export function int32(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Number(BigInt.asIntN(32, BigInt(Math.trunc(v)))) : 0;
  if (typeof v === 'bigint') return Number(BigInt.asIntN(32, v));
  return 0;
}

/** The bytes a channel needs for a data area of `dataBytes`. */
export function channelBytes(dataBytes: number): number {
  return DATA_OFFSET + dataBytes;
}

/** Typed views over one channel buffer (each side makes its own). */
export class ChannelViews {
  readonly i32: Int32Array;
  readonly tags: Int32Array;
  readonly argsF64: Float64Array;
  readonly argsI64: BigInt64Array;
  readonly results: Float64Array;
  readonly data: Uint8Array;
  readonly dataBytes: number;

  constructor(readonly sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab, 0, 16);
    this.tags = new Int32Array(sab, TAGS_OFFSET, MAX_ARGS);
    this.argsF64 = new Float64Array(sab, ARGS_OFFSET, MAX_ARGS);
    this.argsI64 = new BigInt64Array(sab, ARGS_OFFSET, MAX_ARGS);
    this.results = new Float64Array(sab, RESULTS_OFFSET, MAX_RESULTS);
    this.dataBytes = sab.byteLength - DATA_OFFSET;
    this.data = new Uint8Array(sab, DATA_OFFSET, this.dataBytes);
  }
}

/** What the bootstrap of a worker receives (workerData). */
export interface WorkerBoot {
  channel: SharedArrayBuffer;
  /** The receiving end of the SharedArrayBuffer hand-over port. */
  port: unknown;
  /** Shared counter of kernel-queued shared futex waiters (Int32 at index 0). */
  futexQueued: SharedArrayBuffer;
  moduleUrl: string;
  pid: number;
  argv: string[];
  env: string[];
}
