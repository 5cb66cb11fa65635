/**
 * The guest side of the worker runtime: what a program running on a worker
 * thread sees as its operating system (`os`, the argument of its main).
 *
 * - `os.sys`: the raw system calls, with the names and return convention of
 *   RawSyscalls (>= 0 or -errno, never a throw), plus futex. Each is a
 *   synchronous request over the channel (protocol.ts): the thread blocks in
 *   Atomics.wait until the kernel's thread answers.
 * - the typed API (`os.shmget`, `os.shmat`, `os.read`, ...): ProcessApi over
 *   `os.sys`, throwing SysError and MemoryFault exactly like a Process.
 * - `os.mem`: zero-copy views over the real pages of shared mappings.
 * - futexes with Linux semantics, whose common case (shared FUTEX_WAIT /
 *   FUTEX_WAKE in shared memory) never enters the kernel: a bounded spin
 *   on the backing word (futex-spin.ts), then Atomics.wait; Atomics.notify.
 *
 * This module runs in the worker and imports no kernel code: only the ABI,
 * the typed API and the protocol.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Errno } from '../abi/errno.js';
import { SysError } from '../abi/sys-error.js';
import { TASK_SIZE } from '../abi/constants.js';
import { ProcessApi, type RawLayer } from '../kernel/process-api.js';
import type { AccessFault, AccessResult, U64Arg } from '../kernel/syscalls.js';
import {
  FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMD_MASK, FUTEX_PRIVATE_FLAG, FUTEX_WAIT, FUTEX_WAIT_BITSET,
  FUTEX_WAKE, FUTEX_WAKE_BITSET, futexCmdHasTimeout, futexDecode, monotonicNs, remainingNs, wakeLimit, type FutexTimeout,
} from './futex-abi.js';
import {
  ChannelViews, DATA_IN, DATA_OUT, FAULT_NONE, FAULT_SIGBUS, INVALIDATING_OPS, int32, MAX_ARGS, OP, OP_WORD,
  REQUEST, RESOLVE_KERNEL, STATE, TAG_ABSENT, TAG_BIGINT, TAG_NUMBER, toU64, type WorkerBoot,
} from './protocol.js';
import { guestSpinBudget, SpinState, spinWhileEqual, type SpinBudget } from './futex-spin.js';

/**
 * The raw calls ProcessApi makes, as a structural type. ProcessApi's `raw`
 * is typed as the RawSyscalls class, which has private state, so no other
 * object can be one nominally: the guest's implementation satisfies this
 * interface and is cast to RawSyscalls where ProcessApi asks for one.
 */
export interface RawSyscallsLike {
  shmget(key: number, size: U64Arg, shmflg: number): number;
  shmat(shmid: number, shmaddr: U64Arg, shmflg: number): number;
  shmdt(shmaddr: U64Arg): number;
  shmctl(shmid: number, cmd: number, buf: Uint8Array | null): number;
  mmap(addr: U64Arg, len: U64Arg, prot: number, flags: number, fd?: number, offset?: U64Arg): number;
  munmap(addr: U64Arg, len: U64Arg): number;
  mprotect(addr: U64Arg, len: U64Arg, prot: number): number;
  mremap(oldAddr: U64Arg, oldLen: U64Arg, newLen: U64Arg, flags: number, newAddr?: U64Arg): number;
  madvise(addr: U64Arg, len: U64Arg, advice: number): number;
  read(addr: U64Arg, len: U64Arg): AccessResult;
  write(addr: U64Arg, data: Uint8Array): AccessResult;
  fill(addr: U64Arg, len: U64Arg, byte: number): AccessResult;
}

/** A futex word the guest can wait on directly: an Int32Array over its backing buffer, and its spin state. */
interface FastWord { readonly i32: Int32Array; readonly index: number; readonly spin: SpinState }

const KERNEL = RESOLVE_KERNEL;
const EMPTY = new Uint8Array(0);

/** The guest's end of the system-call channel. */
class Channel {
  readonly v: ChannelViews;
  private readonly buffers = new Map<number, SharedArrayBuffer>();
  private readonly int32s = new WeakMap<SharedArrayBuffer, Int32Array>();
  /** Futex words resolved through the kernel, by address. */
  readonly words = new Map<number | bigint, FastWord | typeof KERNEL>();

  constructor(sab: SharedArrayBuffer, private readonly port: MessagePort) {
    this.v = new ChannelViews(sab);
  }

  /** One system call: the request, the wait, the return value (RESULTS[0]). */
  call(op: number, ...args: unknown[]): number {
    const { i32, tags, argsF64, argsI64 } = this.v;
    i32[OP_WORD] = op;
    for (let i = 0; i < MAX_ARGS; i++) {
      const x = args[i];
      if (typeof x === 'number') {
        tags[i] = TAG_NUMBER;
        argsF64[i] = x;
      } else if (typeof x === 'bigint') {
        tags[i] = TAG_BIGINT;
        argsI64[i] = BigInt.asIntN(64, x);
      } else if (x === undefined) {
        tags[i] = TAG_ABSENT;
      } else {
        // Not a number: the kernel's conversion fails and answers EINVAL.
        tags[i] = TAG_NUMBER;
        argsF64[i] = NaN;
      }
    }
    Atomics.store(i32, STATE, REQUEST);
    Atomics.notify(i32, STATE, 1);
    while (Atomics.load(i32, STATE) === REQUEST) Atomics.wait(i32, STATE, REQUEST);
    if (INVALIDATING_OPS.has(op)) this.invalidate();
    return this.v.results[0]!;
  }

  /** Extra result `i` of the last call. */
  result(i: number): number {
    return this.v.results[i]!;
  }

  /** Drops what the guest cached about its address space (the kernel forgets what it sent at the same calls). */
  invalidate(): void {
    this.words.clear();
    this.buffers.clear();
  }

  /** The buffer the kernel named `id`: cached, or posted on the port before the answer. */
  buffer(id: number): SharedArrayBuffer {
    const b = this.buffers.get(id);
    if (b) return b;
    for (;;) {
      const m = receiveMessageOnPort(this.port) as { message: { id: number; buffer: SharedArrayBuffer } } | undefined;
      if (!m) throw new Error(`runtime: the kernel named buffer ${id} but did not post it`);
      this.buffers.set(m.message.id, m.message.buffer);
      if (m.message.id === id) return m.message.buffer;
    }
  }

  int32(buf: SharedArrayBuffer): Int32Array {
    let a = this.int32s.get(buf);
    if (!a) {
      a = new Int32Array(buf, 0, buf.byteLength >> 2);
      this.int32s.set(buf, a);
    }
    return a;
  }
}

function faultOf(kind: number, offset: bigint): AccessFault {
  return { signal: kind === FAULT_SIGBUS ? 'SIGBUS' : 'SIGSEGV', offset };
}

/** The raw system calls of a guest: RawSyscalls' names and return convention, over the channel. */
export class GuestSyscalls implements RawSyscallsLike {
  private readonly queued: Int32Array;
  /** The spin of a shared FUTEX_WAIT before Atomics.wait (futex-spin.ts): where each word's budget starts, its maximum. */
  private readonly spin: SpinBudget;

  constructor(private readonly ch: Channel, futexQueued: SharedArrayBuffer, env: readonly string[] = []) {
    this.queued = new Int32Array(futexQueued, 0, 1);
    this.spin = guestSpinBudget(env);
  }

  // --- SysV shared memory --------------------------------------------------

  shmget(key: number, size: U64Arg, shmflg: number): number { return this.ch.call(OP.SHMGET, key, size, shmflg); }
  shmat(shmid: number, shmaddr: U64Arg, shmflg: number): number { return this.ch.call(OP.SHMAT, shmid, shmaddr, shmflg); }
  shmdt(shmaddr: U64Arg): number { return this.ch.call(OP.SHMDT, shmaddr); }

  /** shmctl(shmid, cmd, buf): `buf` travels through the data area both ways (null: a NULL pointer). */
  shmctl(shmid: number, cmd: number, buf: Uint8Array | null): number {
    if (buf === null || buf === undefined) return this.ch.call(OP.SHMCTL, shmid, cmd, 0);
    if (!(buf instanceof Uint8Array)) return -Errno.EFAULT;
    const { i32, data, dataBytes } = this.ch.v;
    const n = Math.min(buf.length, dataBytes);
    data.set(buf.subarray(0, n));
    i32[DATA_IN] = n;
    const r = this.ch.call(OP.SHMCTL, shmid, cmd, 1);
    buf.set(data.subarray(0, Math.min(i32[DATA_OUT]!, n)));
    return r;
  }

  // --- memory management ---------------------------------------------------

  mmap(addr: U64Arg, len: U64Arg, prot: number, flags: number, fd?: number, offset?: U64Arg): number {
    return this.ch.call(OP.MMAP, addr, len, prot, flags, fd, offset);
  }
  munmap(addr: U64Arg, len: U64Arg): number { return this.ch.call(OP.MUNMAP, addr, len); }
  mprotect(addr: U64Arg, len: U64Arg, prot: number): number { return this.ch.call(OP.MPROTECT, addr, len, prot); }
  mremap(oldAddr: U64Arg, oldLen: U64Arg, newLen: U64Arg, flags: number, newAddr?: U64Arg): number {
    return this.ch.call(OP.MREMAP, oldAddr, oldLen, newLen, flags, newAddr);
  }
  madvise(addr: U64Arg, len: U64Arg, advice: number): number { return this.ch.call(OP.MADVISE, addr, len, advice); }

  // --- memory access -------------------------------------------------------

  /**
   * Reads `len` bytes (RawSyscalls.read): in requests of at most the data
   * area, stopping at the first fault, with the fault's offset from `addr`.
   */
  read(addr: U64Arg, len: U64Arg): AccessResult {
    const a = toU64(addr);
    const total = toU64(len);
    if (a === null || total === null) return { data: EMPTY, fault: { signal: 'SIGSEGV', offset: 0n } };
    const { i32, data, dataBytes } = this.ch.v;
    const parts: Uint8Array[] = [];
    let got = 0;
    let done = 0n;
    let fault: AccessFault | undefined;
    while (done < total) {
      const cur = a + done;
      if (cur >= TASK_SIZE) { fault = { signal: 'SIGSEGV', offset: done }; break; }
      let n = total - done;
      if (n > BigInt(dataBytes)) n = BigInt(dataBytes);
      if (cur + n > TASK_SIZE) n = TASK_SIZE - cur;
      const r = this.ch.call(OP.READ, cur, Number(n));
      if (r < 0) { fault = { signal: 'SIGSEGV', offset: done }; break; }
      const m = i32[DATA_OUT]!;
      parts.push(data.slice(0, m));
      got += m;
      const kind = this.ch.result(1);
      if (kind !== FAULT_NONE) { fault = faultOf(kind, done + BigInt(this.ch.result(2))); break; }
      done += n;
    }
    let out: Uint8Array;
    if (parts.length === 1) out = parts[0]!;
    else {
      out = new Uint8Array(got);
      let o = 0;
      for (const p of parts) { out.set(p, o); o += p.length; }
    }
    return fault ? { data: out, fault } : { data: out };
  }

  /** Writes `data` (RawSyscalls.write), in chunks of at most the data area. */
  write(addr: U64Arg, bytes: Uint8Array): AccessResult {
    const a = toU64(addr);
    if (a === null || !(bytes instanceof Uint8Array)) return { data: EMPTY, fault: { signal: 'SIGSEGV', offset: 0n } };
    const { i32, data, dataBytes } = this.ch.v;
    let done = 0;
    while (done < bytes.length) {
      const cur = a + BigInt(done);
      if (cur >= TASK_SIZE) return { data: EMPTY, fault: { signal: 'SIGSEGV', offset: BigInt(done) } };
      let n = Math.min(bytes.length - done, dataBytes);
      if (cur + BigInt(n) > TASK_SIZE) n = Number(TASK_SIZE - cur);
      data.set(bytes.subarray(done, done + n));
      i32[DATA_IN] = n;
      const r = this.ch.call(OP.WRITE, cur);
      if (r < 0) return { data: EMPTY, fault: { signal: 'SIGSEGV', offset: BigInt(done) } };
      const kind = this.ch.result(1);
      if (kind !== FAULT_NONE) return { data: EMPTY, fault: faultOf(kind, BigInt(done) + BigInt(this.ch.result(2))) };
      done += n;
    }
    return { data: EMPTY };
  }

  /** Fills `len` bytes with `byte` (RawSyscalls.fill): one request, the kernel chunks. */
  fill(addr: U64Arg, len: U64Arg, byte: number): AccessResult {
    const r = this.ch.call(OP.FILL, addr, len, byte);
    if (r < 0) return { data: EMPTY, fault: { signal: 'SIGSEGV', offset: 0n } };
    const kind = this.ch.result(1);
    return kind !== FAULT_NONE ? { data: EMPTY, fault: faultOf(kind, BigInt(this.ch.result(2))) } : { data: EMPTY };
  }

  // --- processes and credentials -------------------------------------------

  getpid(): number { return this.ch.call(OP.GETPID); }

  /** fork() from a guest is not modelled (a worker is forked by the kernel side: spawnWorker({ parent })). */
  fork(): number { return -Errno.ENOSYS; }

  /** exit_group(): the process ends in the kernel, then the thread. Never returns. */
  exit(code = 0): never {
    this.ch.call(OP.EXIT, code, 0);
    process.exit(int32(code));
  }

  /** exit with the message of an error (what a throwing main does). */
  exitWithError(code: number, message: string): never {
    const bytes = new TextEncoder().encode(message);
    const { i32, data, dataBytes } = this.ch.v;
    const n = Math.min(bytes.length, dataBytes);
    data.set(bytes.subarray(0, n));
    i32[DATA_IN] = n;
    this.ch.call(OP.EXIT, code, 1);
    process.exit(int32(code));
  }

  unshare(flags: number): number { return this.ch.call(OP.UNSHARE, flags); }

  setgroups(groups: number[]): number {
    if (!Array.isArray(groups)) return -Errno.EFAULT;
    const { i32, dataBytes } = this.ch.v;
    if (groups.length * 4 > dataBytes) return -Errno.EINVAL;
    const dv = new DataView(this.ch.v.sab, this.ch.v.data.byteOffset, groups.length * 4);
    groups.forEach((g, i) => dv.setUint32(i * 4, int32(g) >>> 0, true));
    i32[DATA_IN] = groups.length * 4;
    return this.ch.call(OP.SETGROUPS);
  }

  setresuid(ruid: number, euid: number, suid: number): number { return this.ch.call(OP.SETRESUID, ruid, euid, suid); }
  setresgid(rgid: number, egid: number, sgid: number): number { return this.ch.call(OP.SETRESGID, rgid, egid, sgid); }
  prctl(option: number, arg2: U64Arg = 0): number { return this.ch.call(OP.PRCTL, option, arg2); }
  capset(effective: bigint, permitted: bigint, inheritable: bigint): number {
    return this.ch.call(OP.CAPSET, effective, permitted, inheritable);
  }
  setrlimit(resource: number, cur: U64Arg, max: U64Arg): number { return this.ch.call(OP.SETRLIMIT, resource, cur, max); }

  // --- futexes ---------------------------------------------------------------

  /**
   * futex(2): futex(addr, op, val, timeout, addr2, val3), the timeout in
   * nanoseconds (relative for FUTEX_WAIT, absolute CLOCK_MONOTONIC - see
   * os.monotonicNs() - or CLOCK_REALTIME for FUTEX_WAIT_BITSET), absent or
   * null for none. Returns 0 / the number woken, or -errno.
   *
   * Shared FUTEX_WAIT (and FUTEX_WAIT_BITSET with FUTEX_BITSET_MATCH_ANY) on
   * a word of a shared mapping waits on the word's backing memory - a
   * bounded spin, then Atomics.wait (waitOnWord) - and FUTEX_WAKE is
   * Atomics.notify on it: the same file offset is the same memory in every
   * process, which is exactly Linux's shared futex key. Atomics.notify
   * counts only the sleepers: a waiter still spinning is not queued yet, as
   * a Linux task is not before futex_wait_setup(). The word's location is
   * asked of the kernel once and cached until this process changes its
   * mappings. Everything else - bitset waits, private futexes (which must
   * not meet other processes' waiters), words in private
   * memory, FUTEX_WAKE_BITSET - is served by the kernel's wait queues.
   */
  futex(addr: U64Arg, op: number, val: number, timeout?: FutexTimeout, addr2?: U64Arg, val3?: number): number {
    const o = int32(op);
    if (timeout !== undefined && timeout !== null && typeof timeout !== 'number' && typeof timeout !== 'bigint') {
      // get_timespec64() of something that is not a time: EFAULT, for the commands that read one.
      if (futexCmdHasTimeout(o & FUTEX_CMD_MASK)) return -Errno.EFAULT;
      timeout = undefined;
    }
    if (!(o & (FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))) {
      const cmd = o & FUTEX_CMD_MASK;
      if (cmd === FUTEX_WAIT || (cmd === FUTEX_WAIT_BITSET && (int32(val3) >>> 0) === FUTEX_BITSET_MATCH_ANY)) {
        // kernel/futex/waitwake.c futex_wait(), on the word itself.
        const call = futexDecode(o, timeout);
        if (typeof call === 'number') return call;
        const w = this.word(addr);
        if (typeof w !== 'number') return this.waitOnWord(w, int32(val), call.deadline);
        if (w !== KERNEL) return w;
      } else if (cmd === FUTEX_WAKE) {
        // futex_wake(): Atomics.notify wakes the waiters sleeping on the word;
        // the kernel is asked only when that woke fewer than allowed and
        // waiters are queued there (bitset waiters).
        const w = this.word(addr);
        if (typeof w !== 'number') {
          const n = wakeLimit(int32(val));
          let woken = Atomics.notify(w.i32, w.index, n);
          if (woken < n && Atomics.load(this.queued, 0) > 0) {
            const r = this.kernelFutex(addr, FUTEX_WAKE, n - woken, undefined, undefined, undefined);
            if (r > 0) woken += r;
          }
          return woken;
        }
        if (w !== KERNEL) return w;
      }
    }
    return this.kernelFutex(addr, op, val, timeout ?? undefined, addr2, val3);
  }

  /**
   * futex_wait() of a shared futex on its backing word: a bounded spin
   * re-reading the word (futex-spin.ts: -EAGAIN as soon as it differs from
   * `val`, which is futex_wait_setup()'s check made at that moment), then
   * Atomics.wait for what is left of the timeout (0: woken, -EAGAIN,
   * -ETIMEDOUT). The spin never outlasts the timeout, and a timeout of 0 (or
   * a deadline already past) does not spin: the value is checked once.
   */
  private waitOnWord(w: FastWord, val: number, deadline: bigint | null): number {
    let ms = Infinity;
    if (deadline !== null) {
      const left = remainingNs(deadline, false);
      ms = left <= 0n ? 0 : Number(left) / 1e6;
    }
    const spin = ms > 0 ? w.spin.next() : 0;
    let t0 = 0;
    if (spin > 0) {
      t0 = performance.now();
      if (spinWhileEqual(w.i32, w.index, val, t0 + Math.min(spin, ms))) {
        w.spin.hit();
        return -Errno.EAGAIN;
      }
      if (deadline !== null) {
        const left = remainingNs(deadline, false);
        ms = left <= 0n ? 0 : Number(left) / 1e6;
      }
    }
    const r = Atomics.wait(w.i32, w.index, val, ms);
    if (r === 'not-equal') {
      if (spin > 0) w.spin.hit();
      return -Errno.EAGAIN;
    }
    if (spin > 0) w.spin.miss(r === 'ok' ? performance.now() - t0 : null);
    return r === 'ok' ? 0 : -Errno.ETIMEDOUT;
  }

  private kernelFutex(addr: unknown, op: unknown, val: unknown, timeout: unknown, addr2: unknown, val3: unknown): number {
    return this.ch.call(OP.FUTEX, addr, op, val, timeout, addr2, val3);
  }

  /** The backing word of a shared futex at `addr`, KERNEL for private memory, or -errno (not cached). */
  private word(addr: U64Arg): FastWord | number {
    const key = typeof addr === 'number' || typeof addr === 'bigint' ? addr : null;
    if (key !== null) {
      const c = this.ch.words.get(key);
      if (c !== undefined) return c;
    }
    const r = this.ch.call(OP.FUTEX_RESOLVE, addr);
    if (r < 0) return r;
    let w: FastWord | typeof KERNEL;
    if (r === KERNEL) w = KERNEL;
    else {
      const id = this.ch.result(1);
      const index = this.ch.result(2);
      w = { i32: this.ch.int32(this.ch.buffer(id)), index, spin: new SpinState(this.spin) };
    }
    if (key !== null) this.ch.words.set(key, w);
    return w;
  }

  /**
   * A zero-copy view: (buffer, byte offset) of [addr, addr + bytes) of a
   * shared mapping, or -errno (see shared-memory.ts resolveSharedRange).
   */
  view(addr: U64Arg, bytes: U64Arg, write: boolean, align: 1 | 2 | 4 | 8): { buffer: SharedArrayBuffer; byteOffset: number } | number {
    const r = this.ch.call(OP.VIEW, addr, bytes, write ? 1 : 0, align);
    if (r < 0) return r;
    const id = this.ch.result(1);
    const byteOffset = this.ch.result(2);
    return { buffer: this.ch.buffer(id), byteOffset };
  }
}

export interface GuestViewOptions {
  /** false: a read-only view (needs PROT_READ; nothing stops a store through it, the check is the kernel's). Default true. */
  write?: boolean;
}

/** os.mem: zero-copy views of shared mappings (SysV attaches, shared anonymous memory). */
export class GuestMemory {
  constructor(private readonly sys: GuestSyscalls) {}

  private range(addr: U64Arg, count: number, size: 1 | 4 | 8, opts: GuestViewOptions | undefined): { buffer: SharedArrayBuffer; byteOffset: number } {
    if (!Number.isSafeInteger(count) || count <= 0) throw new SysError('view', Errno.EINVAL);
    const r = this.sys.view(addr, count * size, opts?.write ?? true, size);
    if (typeof r === 'number') throw new SysError('view', -r);
    return r;
  }

  /**
   * A Uint8Array over the real pages of [addr, addr + length): every
   * process mapping them sees its stores at once. Throws SysError: EACCES
   * (a writable view without PROT_WRITE, a read-only one without
   * PROT_READ), EFAULT (unmapped, or past the end of the segment), EINVAL
   * (private memory, different files, length 0).
   */
  view(addr: U64Arg, length: number, opts?: GuestViewOptions): Uint8Array {
    const r = this.range(addr, length, 1, opts);
    return new Uint8Array(r.buffer, r.byteOffset, length);
  }

  /** An Int32Array of `length` elements at addr (4-byte aligned, else EINVAL): Atomics work on it. */
  viewInt32(addr: U64Arg, length: number, opts?: GuestViewOptions): Int32Array {
    const r = this.range(addr, length, 4, opts);
    return new Int32Array(r.buffer, r.byteOffset, length);
  }

  /** A BigInt64Array of `length` elements at addr (8-byte aligned, else EINVAL). */
  viewBigInt64(addr: U64Arg, length: number, opts?: GuestViewOptions): BigInt64Array {
    const r = this.range(addr, length, 8, opts);
    return new BigInt64Array(r.buffer, r.byteOffset, length);
  }
}

export interface FutexOptions {
  /** FUTEX_PRIVATE_FLAG: keyed by (process, address); never meets another process's waiters. */
  private?: boolean;
  /** FUTEX_WAIT_BITSET / FUTEX_WAKE_BITSET with this bitset. */
  bitset?: number;
}

/** The guest's operating system: the argument of `main(os)`. */
export class GuestOs extends ProcessApi {
  readonly pid: number;
  readonly argv: readonly string[];
  /** The environment as a record (from the "K=V" list). */
  readonly env: Readonly<Record<string, string>>;
  /** The environment as the kernel keeps it ("K=V" strings). */
  readonly environ: readonly string[];
  readonly sys: GuestSyscalls;
  readonly mem: GuestMemory;

  constructor(boot: WorkerBoot) {
    super();
    const ch = new Channel(boot.channel, boot.port as MessagePort);
    this.sys = new GuestSyscalls(ch, boot.futexQueued, boot.env);
    this.mem = new GuestMemory(this.sys);
    this.pid = boot.pid;
    this.argv = Object.freeze([...boot.argv]);
    this.environ = Object.freeze([...boot.env]);
    const env: Record<string, string> = {};
    for (const kv of boot.env) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    this.env = Object.freeze(env);
  }

  protected get raw(): RawLayer {
    return this.sys;
  }

  /** The raw futex(2) (see GuestSyscalls.futex). */
  futex(addr: U64Arg, op: number, val: number, timeoutNs?: FutexTimeout, addr2?: U64Arg, val3?: number): number {
    return this.sys.futex(addr, op, val, timeoutNs, addr2, val3);
  }

  /**
   * FUTEX_WAIT (or FUTEX_WAIT_BITSET with opts.bitset): sleeps while the
   * word at addr holds `val`, at most timeoutMs milliseconds. Returns 'ok'
   * (woken), 'not-equal' (EAGAIN) or 'timed-out' (ETIMEDOUT), like
   * Atomics.wait; throws SysError for anything else (EINVAL, EFAULT).
   */
  futexWait(addr: U64Arg, val: number, timeoutMs?: number, opts: FutexOptions = {}): 'ok' | 'not-equal' | 'timed-out' {
    const priv = opts.private ? FUTEX_PRIVATE_FLAG : 0;
    let r: number;
    const rel = timeoutMs === undefined || timeoutMs === Infinity ? undefined : BigInt(Math.max(0, Math.round(timeoutMs * 1e6)));
    if (opts.bitset !== undefined) {
      const deadline = rel === undefined ? undefined : monotonicNs() + rel;
      r = this.sys.futex(addr, FUTEX_WAIT_BITSET | priv, val, deadline, 0, opts.bitset);
    } else {
      r = this.sys.futex(addr, FUTEX_WAIT | priv, val, rel);
    }
    if (r === 0) return 'ok';
    if (r === -Errno.EAGAIN) return 'not-equal';
    if (r === -Errno.ETIMEDOUT) return 'timed-out';
    throw new SysError('futex', -r);
  }

  /** FUTEX_WAKE (or FUTEX_WAKE_BITSET): wakes at most n waiters; the number woken. */
  futexWake(addr: U64Arg, n = 1, opts: FutexOptions = {}): number {
    const priv = opts.private ? FUTEX_PRIVATE_FLAG : 0;
    const r = opts.bitset !== undefined
      ? this.sys.futex(addr, FUTEX_WAKE_BITSET | priv, n, undefined, 0, opts.bitset)
      : this.sys.futex(addr, FUTEX_WAKE | priv, n);
    if (r < 0) throw new SysError('futex', -r);
    return r;
  }

  /** CLOCK_MONOTONIC in nanoseconds: the clock of FUTEX_WAIT_BITSET deadlines. */
  monotonicNs(): bigint {
    return monotonicNs();
  }

  /** getpid(). */
  getpid(): number {
    return this.sys.getpid();
  }

  /** exit(code): the process ends; never returns. */
  exit(code = 0): never {
    return this.sys.exit(code);
  }
}

export { SysError };
export { MemoryFault } from '../kernel/process-api.js';
