/**
 * The kernel side of the worker runtime: processes whose programs run
 * concurrently on worker_threads, each with its pid, credentials and address
 * space, making synchronous system calls that the kernel's thread serves.
 *
 * One Connection per worker process. The kernel's thread waits for a
 * request with Atomics.waitAsync on the channel's STATE word (never
 * spinning, never polling), serves it synchronously - so calls of many
 * workers are serialized, each one happens entirely or not at all, as if
 * under one big kernel lock - and answers through the channel. A futex wait
 * that must sleep in the kernel (futex-table.ts) is answered only when it is
 * woken or times out.
 *
 * Process exit (kernel/exit.c do_exit()) has four causes, all ending in
 * kernel.exit(process, code): the guest's main returns (code 0, or its
 * numeric result) or throws (code 1, the message on the handle), it calls
 * exit, or it is killed from outside (handle.kill(): the kernel exits the
 * process at once, then terminates the thread). A worker killed while it
 * builds a request leaves nothing half done: the kernel is on its own
 * thread and serves whole calls only.
 */
import { MessageChannel, Worker, type MessagePort, type WorkerOptions } from 'node:worker_threads';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Errno } from '../abi/errno.js';
import { SysError } from '../abi/sys-error.js';
import type { Credentials } from '../auth/cred.js';
import type { Kernel } from '../kernel/kernel.js';
import type { IpcNamespace } from '../kernel/ipc-namespace.js';
import type { Process, Rlimit } from '../kernel/process.js';
import type { U64Arg } from '../kernel/syscalls.js';
import { FutexTable, PARKED } from './futex-table.js';
import {
  ChannelViews, channelBytes, DATA_IN, DATA_OUT, DEFAULT_DATA_BYTES, FAULT_NONE, FAULT_SIGBUS, FAULT_SIGSEGV,
  INVALIDATING_OPS, MAX_ARGS, OP, OP_WORD, REQUEST, RESOLVE_FAST, RESOLVE_KERNEL, RESPONSE, STATE,
  TAG_ABSENT, TAG_BIGINT, TAG_NUMBER, type WorkerBoot,
} from './protocol.js';
import { futexLocation, IdMap, resolveSharedRange, toU64 } from './shared-memory.js';

/** Options of spawnWorker(). */
export interface SpawnWorkerOptions {
  /** argv of the process (/proc/PID/cmdline); default [name]. */
  argv?: string[];
  /** The environment, as "K=V" strings or a record (/proc/PID/environ). */
  env?: string[] | Record<string, string>;
  /** Credentials; default root (a spawn) or the parent's (a fork). */
  creds?: Credentials;
  /** Fork this process (kernel/fork.c copy_process): the child inherits its attachments and shared memory. */
  parent?: Process;
  /** The process name (comm). */
  name?: string;
  /** RLIMIT_MEMLOCK of a spawned process. */
  memlock?: Rlimit;
  /** IPC namespace of a spawned process; default the initial one. */
  ipcNs?: IpcNamespace;
  /** Size of the channel's data area (payloads above it are chunked); default 1 MiB. */
  dataBytes?: number;
  /** Options passed to the Worker (stdout, stderr, resourceLimits, execArgv). */
  worker?: Pick<WorkerOptions, 'stdout' | 'stderr' | 'resourceLimits' | 'execArgv'>;
}

/** How a worker process ended. */
export interface WorkerExit {
  /** The exit code (kernel.exit's code): 128 + the signal number when killed. */
  code: number;
  /** The signal that killed it (handle.kill()). */
  signal?: string;
  /** The message of the error the guest threw. */
  error?: string;
}

/** A running worker process. */
export interface WorkerHandle {
  readonly pid: number;
  readonly process: Process;
  readonly worker: Worker;
  /** Resolves when the thread is gone and the process has exited. */
  readonly exited: Promise<WorkerExit>;
  /** The message of the error the guest threw, once it did. */
  readonly error: string | undefined;
  /** Ends the process at once (kernel.exit), then its thread (worker.terminate()). Default SIGKILL. */
  kill(signal?: string | number): void;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
};

function signalOf(sig: string | number | undefined): { name: string; nr: number } {
  if (sig === undefined) return { name: 'SIGKILL', nr: 9 };
  if (typeof sig === 'number') {
    const name = Object.keys(SIGNALS).find((k) => SIGNALS[k] === sig);
    if (!name) throw new TypeError(`kill: unknown signal ${sig}`);
    return { name, nr: sig };
  }
  const nr = SIGNALS[sig];
  if (nr === undefined) throw new TypeError(`kill: unknown signal ${sig}`);
  return { name: sig, nr };
}

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
/** Atomics.waitAsync (ES2024; not in this project's lib). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): WaitAsyncResult }).waitAsync;

const KNOWN_OPS: ReadonlySet<number> = new Set<number>(Object.values(OP));

const BOOTSTRAP_URL = new URL('./worker-bootstrap.js', import.meta.url);

function moduleHref(m: string | URL): string {
  if (m instanceof URL) return m.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(m) && !isAbsolute(m)) return m;
  return pathToFileURL(resolve(m)).href;
}

function envList(env: SpawnWorkerOptions['env']): string[] | undefined {
  if (env === undefined) return undefined;
  if (Array.isArray(env)) return [...env];
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** The worker runtime of one kernel. */
export class WorkerRuntime {
  readonly futex = new FutexTable();
  /** Ids of the buffers handed to guests. */
  readonly bufferIds = new IdMap<SharedArrayBuffer>();
  /** Live connections by process. */
  readonly connections = new Map<Process, Connection>();
  /** Exceptions the kernel code threw while serving a call (the guest got EINVAL); the last 16. */
  readonly errors: unknown[] = [];

  constructor(readonly kernel: Kernel) {}

  /** Number of live worker processes. */
  get size(): number {
    return this.connections.size;
  }

  spawn(moduleUrl: string | URL, opts: SpawnWorkerOptions = {}): WorkerHandle {
    const k = this.kernel;
    const env = envList(opts.env);
    let p: Process;
    if (opts.parent) {
      if (!opts.parent.alive) throw new SysError('fork', Errno.ESRCH);
      p = k.fork(opts.parent);
      if (opts.name !== undefined) p.comm = opts.name.slice(0, 15);
      if (opts.argv) p.argv = [...opts.argv];
      if (env) p.env = env;
      if (opts.creds) p.cred = opts.creds;
    } else {
      p = k.spawn({
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.argv ? { argv: [...opts.argv] } : {}),
        ...(env ? { env } : {}),
        ...(opts.creds ? { cred: opts.creds } : {}),
        ...(opts.memlock ? { memlock: opts.memlock } : {}),
        ...(opts.ipcNs ? { ipcNs: opts.ipcNs } : {}),
      });
    }
    const dataBytes = Math.max(4096, Math.floor(opts.dataBytes ?? DEFAULT_DATA_BYTES));
    const channel = new SharedArrayBuffer(channelBytes(dataBytes));
    const { port1, port2 } = new MessageChannel();
    const boot: WorkerBoot = {
      channel, port: port2, futexQueued: this.futex.queuedSharedBuffer, moduleUrl: moduleHref(moduleUrl),
      pid: p.pid, argv: [...p.argv], env: [...p.env],
    };
    let worker: Worker;
    try {
      worker = new Worker(BOOTSTRAP_URL, {
        ...opts.worker, workerData: boot, transferList: [port2], name: `pid ${p.pid} ${p.comm}`,
      });
    } catch (e) {
      port1.close();
      k.exit(p, 1);
      throw e;
    }
    const conn = new Connection(this, p, worker, channel, port1);
    this.connections.set(p, conn);
    conn.start();
    return conn;
  }

  /** The process exited in the kernel (kernel.exit from anywhere): its thread goes too. */
  onProcessExit(p: Process): void {
    this.connections.get(p)?.exitedInKernel();
  }

  /** Ends every worker process and waits for their threads. */
  async shutdown(): Promise<void> {
    const all = [...this.connections.values()];
    for (const c of all) c.kill('SIGKILL');
    await Promise.all(all.map((c) => c.exited));
  }

  noteError(e: unknown): void {
    this.errors.push(e);
    if (this.errors.length > 16) this.errors.shift();
  }
}

const runtimes = new WeakMap<Kernel, WorkerRuntime>();

/** The worker runtime of a kernel (created on first use). */
export function runtimeOf(kernel: Kernel): WorkerRuntime {
  let rt = runtimes.get(kernel);
  if (!rt) {
    const created = new WorkerRuntime(kernel);
    kernel.onExit((p) => created.onProcessExit(p));
    runtimes.set(kernel, (rt = created));
  }
  return rt;
}

/** The runtime of a kernel if it has one (no creation). */
export function existingRuntimeOf(kernel: Kernel): WorkerRuntime | undefined {
  return runtimes.get(kernel);
}

/**
 * Runs the default export `main(os)` of `moduleUrl` on a worker thread as a
 * new process: a fresh spawn, or a fork of `opts.parent`.
 */
export function spawnWorker(kernel: Kernel, moduleUrl: string | URL, opts: SpawnWorkerOptions = {}): WorkerHandle {
  return runtimeOf(kernel).spawn(moduleUrl, opts);
}

/** Ends every worker process of `kernel` and waits for their threads. */
export async function shutdownWorkers(kernel: Kernel): Promise<void> {
  await runtimes.get(kernel)?.shutdown();
}

/** One worker process: its channel, its thread, its handle. */
class Connection implements WorkerHandle {
  readonly pid: number;
  readonly exited: Promise<WorkerExit>;
  error: string | undefined;
  private resolveExited!: (e: WorkerExit) => void;
  private closed = false;
  private threadGone = false;
  private exitInfo: WorkerExit | null = null;
  private lastError: string | undefined;
  private readonly ch: ChannelViews;
  /** Ids of the buffers posted to the guest since its caches were last dropped. */
  private readonly sent = new Set<number>();
  private readonly args: unknown[] = new Array(MAX_ARGS);

  constructor(
    private readonly rt: WorkerRuntime,
    readonly process: Process,
    readonly worker: Worker,
    channel: SharedArrayBuffer,
    private readonly port: MessagePort,
  ) {
    this.pid = process.pid;
    this.ch = new ChannelViews(channel);
    this.exited = new Promise((res) => { this.resolveExited = res; });
    port.unref();
    worker.on('error', (e: unknown) => {
      this.lastError = e instanceof Error ? e.message : String(e);
    });
    worker.on('exit', (code: number) => {
      this.threadGone = true;
      // The thread is gone: a process that did not exit through the kernel exits now.
      this.finish({ code, ...(this.lastError !== undefined ? { error: this.lastError } : {}) }, false);
      this.port.close();
      // Release the kernel's pending Atomics.waitAsync on the channel (nobody else waits there now).
      Atomics.notify(this.ch.i32, STATE);
      this.rt.connections.delete(this.process);
      this.resolveExited(this.exitInfo!);
    });
  }

  start(): void {
    this.arm();
  }

  // ------------------------------------------------------------ the channel

  /** Waits (asynchronously) for the guest's next request. */
  private arm(): void {
    if (this.closed) return;
    const i32 = this.ch.i32;
    const st = Atomics.load(i32, STATE);
    if (st === REQUEST) {
      setImmediate(this.onWake);
      return;
    }
    const r = waitAsync(i32, STATE, st);
    if (r.async) void r.value.then(this.onWake);
    else setImmediate(this.onWake);
  }

  private readonly onWake = (): void => {
    if (this.closed) return;
    if (Atomics.load(this.ch.i32, STATE) !== REQUEST) {
      this.arm();
      return;
    }
    this.serve();
  };

  /** Serves one request, synchronously. */
  private serve(): void {
    const { i32, tags, argsF64, argsI64 } = this.ch;
    if (!this.process.alive) {
      // Exited behind the runtime's back (kernel.exit of a kernel without the hook).
      this.exitedInKernel();
      return;
    }
    const op = i32[OP_WORD]!;
    const a = this.args;
    // C has no NaN: a value that is no integer at all is EINVAL (futex reads its own time argument).
    let garbage = false;
    for (let i = 0; i < MAX_ARGS; i++) {
      const t = tags[i];
      if (t === TAG_NUMBER) {
        const x = argsF64[i]!;
        if (!Number.isFinite(x) && op !== OP.FUTEX) garbage = true;
        a[i] = x;
      } else if (t === TAG_BIGINT) a[i] = argsI64[i];
      else {
        if (t !== TAG_ABSENT) garbage = true;
        a[i] = undefined;
      }
    }
    i32[DATA_OUT] = 0;
    let ret: number | typeof PARKED;
    try {
      ret = garbage && KNOWN_OPS.has(op) ? -Errno.EINVAL : this.dispatch(op, a);
    } catch (e) {
      // The raw layer threw (it does for arguments that are not numbers, e.g. a missing
      // one): EINVAL for the guest, and a note for whoever looks for kernel bugs.
      this.rt.noteError(e);
      ret = -Errno.EINVAL;
    }
    if (ret === PARKED) return;
    this.respond(ret);
  }

  /** Answers the pending request; the connection then waits for the next (unless closed). */
  private respond(ret: number): void {
    this.ch.results[0] = ret;
    Atomics.store(this.ch.i32, STATE, RESPONSE);
    Atomics.notify(this.ch.i32, STATE);
    this.arm();
  }

  /** The payload size the guest claims, within the data area. */
  private dataIn(): number {
    const n = this.ch.i32[DATA_IN]!;
    return n >= 0 && n <= this.ch.dataBytes ? n : -1;
  }

  private setFault(f: { signal: 'SIGSEGV' | 'SIGBUS'; offset: bigint } | undefined): void {
    const r = this.ch.results;
    if (!f) {
      r[1] = FAULT_NONE;
      r[2] = 0;
      return;
    }
    r[1] = f.signal === 'SIGBUS' ? FAULT_SIGBUS : FAULT_SIGSEGV;
    r[2] = Number(f.offset);
  }

  /** Posts a buffer to the guest (before the answer that names it) unless it has it. */
  private share(buf: SharedArrayBuffer): number {
    const id = this.rt.bufferIds.id(buf);
    if (!this.sent.has(id)) {
      this.sent.add(id);
      this.port.postMessage({ id, buffer: buf });
    }
    return id;
  }

  /**
   * The system-call table (arch/x86/entry/syscall_64.c sys_call_table):
   * each operation is the process's RawSyscalls method - shmget(2),
   * shmat(2), shmdt(2), shmctl(2), mmap(2), munmap(2), mprotect(2),
   * mremap(2), madvise(2), getpid(2), exit_group(2), futex(2), unshare(2),
   * setgroups(2), setresuid(2), setresgid(2), prctl(2), capset(2),
   * prlimit64(2) - or one of the runtime's own (memory access by copy,
   * views, futex word resolution). Unknown operations are ENOSYS.
   */
  private dispatch(op: number, a: unknown[]): number | typeof PARKED {
    const p = this.process;
    const s = p.sys;
    const n = (x: unknown) => x as number;
    const u = (x: unknown) => x as U64Arg;
    if (INVALIDATING_OPS.has(op)) this.sent.clear();
    switch (op) {
      case OP.SHMGET: return s.shmget(n(a[0]), u(a[1]), n(a[2]));
      case OP.SHMAT: return s.shmat(n(a[0]), u(a[1]), n(a[2]));
      case OP.SHMDT: return s.shmdt(u(a[0]));
      case OP.SHMCTL: {
        let buf: Uint8Array | null = null;
        if (a[2] === 1) {
          const len = this.dataIn();
          if (len < 0) return -Errno.EFAULT;
          buf = this.ch.data.slice(0, len);
        }
        const r = s.shmctl(n(a[0]), n(a[1]), buf);
        if (buf) {
          this.ch.data.set(buf);
          this.ch.i32[DATA_OUT] = buf.length;
        }
        return r;
      }
      case OP.MMAP: return s.mmap(u(a[0]), u(a[1]), n(a[2]), n(a[3]), a[4] as number | undefined, a[5] as U64Arg | undefined);
      case OP.MUNMAP: return s.munmap(u(a[0]), u(a[1]));
      case OP.MPROTECT: return s.mprotect(u(a[0]), u(a[1]), n(a[2]));
      case OP.MREMAP: return s.mremap(u(a[0]), u(a[1]), u(a[2]), n(a[3]), a[4] as U64Arg | undefined);
      case OP.MADVISE: return s.madvise(u(a[0]), u(a[1]), n(a[2]));
      case OP.GETPID: return s.getpid();
      case OP.READ: {
        const len = toU64(a[1]);
        if (len === null || len > BigInt(this.ch.dataBytes)) return -Errno.EINVAL;
        const r = s.read(u(a[0]), len);
        this.ch.data.set(r.data);
        this.ch.i32[DATA_OUT] = r.data.length;
        this.setFault(r.fault);
        return 0;
      }
      case OP.WRITE: {
        const len = this.dataIn();
        if (len < 0) return -Errno.EINVAL;
        this.setFault(s.write(u(a[0]), this.ch.data.subarray(0, len)).fault);
        return 0;
      }
      case OP.FILL:
        this.setFault(s.fill(u(a[0]), u(a[1]), n(a[2])).fault);
        return 0;
      case OP.EXIT: {
        const code = typeof a[0] === 'number' || typeof a[0] === 'bigint' ? Number(BigInt.asIntN(32, BigInt(a[0]))) : 0;
        let error: string | undefined;
        if (a[1] === 1) {
          const len = this.dataIn();
          if (len > 0) error = new TextDecoder().decode(this.ch.data.slice(0, len));
        }
        // exit_group(): the process ends here; the answer lets the guest end its thread.
        this.finish({ code, ...(error !== undefined ? { error } : {}) }, false);
        this.ch.results[0] = 0;
        Atomics.store(this.ch.i32, STATE, RESPONSE);
        Atomics.notify(this.ch.i32, STATE);
        return PARKED;
      }
      case OP.FUTEX:
        return this.rt.futex.futex(p, this, a[0], a[1], a[2], a[3], a[5], (ret) => {
          if (!this.closed) this.respond(ret);
        });
      case OP.FUTEX_RESOLVE: {
        const loc = futexLocation(p, a[0], true, this.rt.futex.cacheIds);
        if (typeof loc === 'number') return loc;
        if (!loc.buffer) return RESOLVE_KERNEL;
        this.ch.results[1] = this.share(loc.buffer);
        this.ch.results[2] = loc.index;
        return RESOLVE_FAST;
      }
      case OP.VIEW: {
        const align = a[3];
        if (align !== 1 && align !== 2 && align !== 4 && align !== 8) return -Errno.EINVAL;
        const r = resolveSharedRange(p, a[0], a[1], { write: a[2] === 1, align });
        if (typeof r === 'number') return r;
        this.ch.results[1] = this.share(r.buffer);
        this.ch.results[2] = r.byteOffset;
        return 0;
      }
      case OP.UNSHARE: return s.unshare(n(a[0]));
      case OP.SETGROUPS: {
        const len = this.dataIn();
        if (len < 0 || len % 4) return -Errno.EINVAL;
        const dv = new DataView(this.ch.sab, this.ch.data.byteOffset, len);
        const groups: number[] = [];
        for (let i = 0; i < len; i += 4) groups.push(dv.getUint32(i, true));
        return s.setgroups(groups);
      }
      case OP.SETRESUID: return s.setresuid(n(a[0]), n(a[1]), n(a[2]));
      case OP.SETRESGID: return s.setresgid(n(a[0]), n(a[1]), n(a[2]));
      case OP.PRCTL: return s.prctl(n(a[0]), u(a[1] ?? 0));
      case OP.CAPSET: {
        const big = (x: unknown) => toU64(x);
        const e = big(a[0]), pm = big(a[1]), ih = big(a[2]);
        if (e === null || pm === null || ih === null) return -Errno.EFAULT;
        return s.capset(e, pm, ih);
      }
      case OP.SETRLIMIT: return s.setrlimit(n(a[0]), u(a[1]), u(a[2]));
      default:
        return -Errno.ENOSYS;
    }
  }

  // ------------------------------------------------------------ lifecycle

  /**
   * The process ends (do_exit()): its kernel-queued futex waits go, the
   * kernel tears its address space down (nattch, RMID'd segments destroyed
   * at the last detach, shm_rmid_forced orphans), and with `terminate` the
   * thread is stopped too.
   */
  private finish(info: WorkerExit, terminate: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.exitInfo = info;
    if (info.error !== undefined) this.error = info.error;
    this.rt.futex.removeOwner(this);
    if (this.process.alive) this.rt.kernel.exit(this.process, info.code);
    if (terminate) void this.worker.terminate().catch(() => undefined);
  }

  /** kernel.exit() ended the process: stop the thread. */
  exitedInKernel(): void {
    this.finish({ code: this.process.exitCode ?? 0 }, true);
  }

  kill(signal?: string | number): void {
    const sig = signalOf(signal);
    if (this.closed) {
      // Already exited in the kernel; make sure the thread goes as well.
      if (!this.threadGone) void this.worker.terminate().catch(() => undefined);
      return;
    }
    this.finish({ code: 128 + sig.nr, signal: sig.name }, true);
  }
}
