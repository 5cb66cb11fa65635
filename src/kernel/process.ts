/**
 * A process of the model kernel (struct task_struct with one thread): pid,
 * name, credentials, IPC namespace, RLIMIT_MEMLOCK, address space, and the
 * segments it created (task->sysvshm). Its system calls are in `sys`
 * (raw: a negative errno on failure); the methods on Process itself are the
 * typed API, which throws SysError.
 */
import type { Credentials } from '../auth/cred.js';
import { capable } from '../auth/capability.js';
import type { Ucounts } from '../auth/ucounts.js';
import type { AddressSpace } from '../mm/address-space.js';
import { ShmClist } from '../shm/segment.js';
import type { ShmNamespace } from '../shm/namespace.js';
import type { ShmTask } from '../shm/task.js';
import type { IpcNamespace } from './ipc-namespace.js';
import type { Kernel } from './kernel.js';
import { RawSyscalls } from './syscalls.js';
import { ProcessApi } from './process-api.js';

export interface Rlimit {
  cur: bigint;
  max: bigint;
}

export class Process extends ProcessApi implements ShmTask {
  /** The raw system-call layer: every call returns >= 0 or a negative errno. */
  readonly sys: RawSyscalls;
  /** task->comm (at most 15 bytes). */
  comm: string;
  argv: string[];
  env: string[];
  cred: Credentials;
  /** current->nsproxy->ipc_ns: holds a reference while the process is alive. */
  ipcNs: IpcNamespace;
  /** RLIMIT_MEMLOCK (bytes; 2^64-1 is RLIM_INFINITY). */
  memlock: Rlimit;
  mm: AddressSpace;
  readonly shmCreated = new ShmClist();
  /** /proc/PID/oom_score_adj: -1000..1000. */
  oomScoreAdj = 0;
  /** signal->oom_score_adj_min: unprivileged writes may not go below it. */
  oomScoreAdjMin = 0;
  alive = true;
  /** Exit status once exited. */
  exitCode: number | null = null;

  constructor(
    readonly kernel: Kernel,
    readonly pid: number,
    readonly ppid: number,
    init: { comm: string; argv: string[]; env: string[]; cred: Credentials; ipcNs: IpcNamespace; memlock: Rlimit; mm: AddressSpace },
  ) {
    super();
    this.comm = init.comm.slice(0, 15);
    this.argv = init.argv;
    this.env = init.env;
    this.cred = init.cred;
    this.ipcNs = init.ipcNs;
    this.memlock = init.memlock;
    this.mm = init.mm;
    this.ipcNs.get();
    this.sys = new RawSyscalls(this);
  }

  protected get raw(): RawSyscalls {
    return this.sys;
  }

  get shmNs(): ShmNamespace {
    return this.ipcNs.shm;
  }

  /** capable(): the capability in the initial user namespace. */
  capable(cap: number): boolean {
    return capable(this.cred, cap);
  }

  rlimitMemlock(): bigint {
    return this.memlock.cur;
  }

  /** current_ucounts(): keyed by (user namespace, real uid). */
  ucounts(): Ucounts {
    return this.kernel.ucounts.get(this.cred.userNs, this.cred.uid);
  }
}
