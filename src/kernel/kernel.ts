/**
 * The model kernel: pids, the initial user and IPC namespaces, page
 * accounting, per-user memlock counters, and the process lifecycle
 * (kernel/fork.c copy_process, kernel/exit.c do_exit, kernel/fork.c
 * ksys_unshare for CLONE_NEWIPC).
 */

import { initialRootCredentials, type Credentials } from '../auth/cred.js';
import { initUserNs, type UserNamespace } from '../auth/userns.js';
import { UcountsTable } from '../auth/ucounts.js';
import { PageAllocator, type PageAllocatorOptions } from '../mm/page-allocator.js';
import { AddressSpace } from '../mm/address-space.js';
import type { HugetlbConfig, ShmKernelContext } from '../shm/namespace.js';
import { exitShm } from '../shm/exit.js';
import { SysError } from '../abi/sys-error.js';
import { IpcNamespace } from './ipc-namespace.js';
import { COARSE_BASE, COARSE_STALE, coarseClockWord, coarseSeconds } from './coarse-clock.js';
import { Process, type Rlimit } from './process.js';


export interface KernelOptions extends PageAllocatorOptions {
  /** Wall-clock seconds (ktime_get_real_seconds); defaults to the host clock's seconds, read as Linux reads xtime (kernel/coarse-clock.ts). */
  clock?: () => number;
  /** Huge page sizes and pools; defaults to x86_64's 2 MiB and 1 GiB with empty pools. */
  hugetlb?: Partial<HugetlbConfig>;
  /** The first pid handed out (default 1). */
  firstPid?: number;
}

export interface SpawnOptions {
  /** Process name (comm), default "init" for the first process, else "proc". */
  name?: string;
  argv?: string[];
  env?: string[];
  /** Credentials; default: root with the reference capability set. */
  cred?: Credentials;
  /** RLIMIT_MEMLOCK; default 8 MiB soft and hard. */
  memlock?: Rlimit;
  /** IPC namespace; default the initial one. */
  ipcNs?: IpcNamespace;
}

export const DEFAULT_MEMLOCK = 8n << 20n;

export class Kernel implements ShmKernelContext {
  readonly allocator: PageAllocator;
  readonly hugetlb: HugetlbConfig;
  readonly initUserNs: UserNamespace = initUserNs;
  readonly initIpcNs: IpcNamespace;
  readonly ucounts = new UcountsTable();
  /** Live and exited processes by pid (exited ones keep their pid for reports). */
  readonly processes = new Map<number, Process>();
  private nextPid: number;
  private readonly clock: () => number;
  /** The default clock's word (coarse-clock.ts), read in place by now(); null with a `clock` option. */
  private readonly clockWord: Int32Array | null;

  constructor(opts: KernelOptions = {}) {
    this.allocator = new PageAllocator(opts);
    this.clock = opts.clock ?? coarseSeconds;
    this.clockWord = opts.clock ? null : coarseClockWord();
    this.hugetlb = {
      sizes: [2 << 20, 1 << 30],
      freePages: () => 0,
      shmGroup: 0,
      ...opts.hugetlb,
    };
    this.nextPid = opts.firstPid ?? 1;
    this.initIpcNs = new IpcNamespace(this.initUserNs, this, true);
    // The initial namespace lives as long as the kernel (init_ipc_ns is static).
    this.initIpcNs.get();
  }

  /**
   * ktime_get_real_seconds(): whole seconds. Inside a `withTime` scope (one
   * system call that touches many segments, like fork or exit) the clock is
   * read once: a read costs ~60 ns here, and fork with 1000 attachments
   * used to read it 2000 times. The result is the same to the second.
   */
  now(): number {
    if (this.callTime >= 0) return this.callTime;
    const w = this.clockWord;
    return w !== null && w[COARSE_STALE] === 0 ? COARSE_BASE + w[0]! : this.clock();
  }

  /** The clock read once for the system call in progress, or -1 outside one. */
  private callTime = -1;

  /** Runs `fn` as one system call for the clock: every now() in it returns the same second. */
  private withTime<T>(fn: () => T): T {
    if (this.callTime >= 0) return fn();
    this.callTime = this.now();
    try {
      return fn();
    } finally {
      this.callTime = -1;
    }
  }

  /** Live processes. */
  get live(): Process[] {
    return [...this.processes.values()].filter((p) => p.alive);
  }

  /** Creates a process with a fresh, empty address space. */
  spawn(opts: SpawnOptions = {}): Process {
    const pid = this.nextPid++;
    const p = new Process(this, pid, 0, {
      comm: opts.name ?? (pid === 1 ? 'init' : 'proc'),
      argv: opts.argv ?? [opts.name ?? 'proc'],
      env: opts.env ?? [],
      cred: opts.cred ?? initialRootCredentials(this.initUserNs),
      ipcNs: opts.ipcNs ?? this.initIpcNs,
      memlock: opts.memlock ?? { cur: DEFAULT_MEMLOCK, max: DEFAULT_MEMLOCK },
      mm: new AddressSpace(this.allocator, { stack: true }),
    });
    this.processes.set(pid, p);
    return p;
  }

  /**
   * copy_process(): the child shares the parent's credentials and IPC
   * namespace, copies its limits and (dup_mmap) its address space, and has
   * created no segments.
   */
  fork(parent: Process): Process {
    const child = this.tryFork(parent);
    if (typeof child === 'number') throw new SysError('fork', -child);
    return child;
  }

  /** fork() for the raw layer: the child, or a negative errno (ENOMEM from dup_mmap). */
  tryFork(parent: Process): Process | number {
    const mm = this.withTime(() => parent.mm.tryFork(parent));
    if (typeof mm === 'number') return mm; // dup_mmap failed: no child
    const pid = this.nextPid++;
    const child = new Process(this, pid, parent.pid, {
      comm: parent.comm, argv: [...parent.argv], env: [...parent.env], cred: parent.cred,
      ipcNs: parent.ipcNs, memlock: { ...parent.memlock }, mm,
    });
    child.oomScoreAdj = parent.oomScoreAdj;
    child.oomScoreAdjMin = parent.oomScoreAdjMin;
    this.processes.set(pid, child);
    return child;
  }

  /**
   * do_exit(): exit_mm() tears the address space down (closing every VMA),
   * exit_shm() orphans the segments the process created, then the namespace
   * references go (exit_task_namespaces).
   */
  exit(p: Process, code = 0): void {
    if (!p.alive) return;
    p.alive = false;
    p.exitCode = code;
    this.withTime(() => {
      p.mm.teardown(p);
      exitShm(p);
    });
    p.ipcNs.put();
    for (const fn of this.exitNotifiers) fn(p);
  }

  /** Called after every process exit, whoever caused it (the worker runtime stops the thread). */
  private readonly exitNotifiers = new Set<(p: Process) => void>();

  /** Registers an exit notifier; returns its removal. */
  onExit(fn: (p: Process) => void): () => void {
    this.exitNotifiers.add(fn);
    return () => this.exitNotifiers.delete(fn);
  }

  /**
   * ksys_unshare(CLONE_NEWIPC): the caller's segments become orphans of the
   * old namespace (exit_shm), then it moves to a new, empty namespace owned
   * by its user namespace.
   */
  unshareIpc(p: Process): IpcNamespace {
    const ns = new IpcNamespace(p.cred.userNs, this);
    exitShm(p);
    const old = p.ipcNs;
    ns.get();
    p.ipcNs = ns;
    old.put();
    return ns;
  }

  private reader: Process | null = null;

  /**
   * A root process of the initial namespaces that is not in the process
   * table: what procfs reads as when the caller names no process.
   */
  rootReader(): Process {
    if (!this.reader) {
      this.reader = new Process(this, 0, 0, {
        comm: 'kernel', argv: [], env: [], cred: initialRootCredentials(this.initUserNs),
        ipcNs: this.initIpcNs, memlock: { cur: DEFAULT_MEMLOCK, max: DEFAULT_MEMLOCK },
        mm: new AddressSpace(this.allocator),
      });
    }
    return this.reader;
  }

  /** Ends every process; the initial namespace's segments stay (like a running system). */
  shutdown(): void {
    for (const p of this.live) this.exit(p);
  }
}

