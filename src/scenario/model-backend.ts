/**
 * The model backend: runs scenarios on this project's kernel, one fresh
 * Kernel per scenario (the initial state of scenario spec section 1: a
 * root process p0 with the reference capabilities, RLIMIT_MEMLOCK 8 MiB,
 * an empty IPC namespace with default limits).
 */
import type { AccessResult, Backend, ProcHandle, ShmctlResult, SysResult } from './backend.js';
import { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { CLONE_NEWIPC, PR_SET_KEEPCAPS } from '../kernel/syscalls.js';
import { ProcFs } from '../proc/procfs.js';
import { RLIMIT_MEMLOCK } from '../abi/constants.js';


function result(r: number): SysResult {
  return r < 0 ? { ok: false, errno: -r } : { ok: true, value: BigInt(r) };
}

function zero(r: number): SysResult<0n> {
  return r < 0 ? { ok: false, errno: -r } : { ok: true, value: 0n };
}

export class ModelBackend implements Backend {
  readonly kernel = new Kernel();
  readonly proc = new ProcFs(this.kernel);
  private readonly procs = new Map<ProcHandle, Process>();

  private p(h: ProcHandle): Process {
    const p = this.procs.get(h);
    if (!p) throw new Error(`model backend: no process with handle ${h}`);
    return p;
  }

  async start(): Promise<number> {
    const p0 = this.kernel.spawn({ name: 'p0' });
    this.procs.set(0, p0);
    return p0.pid;
  }

  async fork(parent: ProcHandle, child: ProcHandle): Promise<SysResult<number>> {
    const pid = this.p(parent).sys.fork();
    if (pid < 0) return { ok: false, errno: -pid };
    this.procs.set(child, this.kernel.processes.get(pid)!);
    return { ok: true, value: pid };
  }

  async exit(h: ProcHandle): Promise<void> {
    this.p(h).sys.exit(0);
  }

  async creds(h: ProcHandle, uid: number, gid: number, groups: number[], caps: bigint): Promise<SysResult<0n>> {
    const s = this.p(h).sys;
    for (const step of [
      () => s.setgroups(groups),
      () => s.setresgid(gid, gid, gid),
      () => s.prctl(PR_SET_KEEPCAPS, 1),
      () => s.setresuid(uid, uid, uid),
      () => s.capset(caps, caps, 0n),
    ]) {
      const r = step();
      if (r < 0) return { ok: false, errno: -r };
    }
    return { ok: true, value: 0n };
  }

  async unshareIpc(h: ProcHandle): Promise<SysResult<0n>> {
    return zero(this.p(h).sys.unshare(CLONE_NEWIPC));
  }

  async setrlimitMemlock(h: ProcHandle, cur: bigint, max: bigint): Promise<SysResult<0n>> {
    return zero(this.p(h).sys.setrlimit(RLIMIT_MEMLOCK, cur, max));
  }

  async shmget(h: ProcHandle, key: number, size: bigint, flags: number): Promise<SysResult> {
    return result(this.p(h).sys.shmget(key, size, flags));
  }

  async shmat(h: ProcHandle, id: number, addr: bigint, flags: number): Promise<SysResult> {
    return result(this.p(h).sys.shmat(id, addr, flags));
  }

  async shmdt(h: ProcHandle, addr: bigint): Promise<SysResult> {
    return result(this.p(h).sys.shmdt(addr));
  }

  async shmctl(h: ProcHandle, id: number, cmd: number, buf: Uint8Array): Promise<ShmctlResult> {
    const copy = buf.slice();
    return { ret: result(this.p(h).sys.shmctl(id, cmd, copy)), buf: copy };
  }

  async mmap(h: ProcHandle, addr: bigint, len: bigint, prot: number, flags: number): Promise<SysResult> {
    return result(this.p(h).sys.mmap(addr, len, prot, flags));
  }

  async munmap(h: ProcHandle, addr: bigint, len: bigint): Promise<SysResult> {
    return result(this.p(h).sys.munmap(addr, len));
  }

  async mprotect(h: ProcHandle, addr: bigint, len: bigint, prot: number): Promise<SysResult> {
    return result(this.p(h).sys.mprotect(addr, len, prot));
  }

  async mremap(h: ProcHandle, old: bigint, oldLen: bigint, newLen: bigint, flags: number, newAddr: bigint): Promise<SysResult> {
    return result(this.p(h).sys.mremap(old, oldLen, newLen, flags, newAddr));
  }

  async madvise(h: ProcHandle, addr: bigint, len: bigint, advice: number): Promise<SysResult> {
    return result(this.p(h).sys.madvise(addr, len, advice));
  }

  async read(h: ProcHandle, addr: bigint, len: bigint): Promise<AccessResult> {
    return this.p(h).sys.read(addr, len);
  }

  async write(h: ProcHandle, addr: bigint, data: Uint8Array): Promise<AccessResult> {
    return this.p(h).sys.write(addr, data);
  }

  async fill(h: ProcHandle, addr: bigint, len: bigint, byte: number): Promise<AccessResult> {
    return this.p(h).sys.fill(addr, len, byte);
  }

  async readFile(h: ProcHandle, path: string): Promise<SysResult<string>> {
    return this.proc.read(path, this.p(h));
  }

  async writeFile(h: ProcHandle, path: string, text: string): Promise<SysResult<0n>> {
    const r = this.proc.write(path, text, this.p(h));
    return r.ok ? { ok: true, value: 0n } : r;
  }

  async close(): Promise<void> {
    this.kernel.shutdown();
  }
}

export function createModelBackend(): Backend {
  return new ModelBackend();
}
