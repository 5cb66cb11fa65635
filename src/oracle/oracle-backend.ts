/**
 * The Linux oracle backend: every scenario system call is performed on the
 * real kernel by a real process (see oracle/agent.c for the process tree).
 *
 * Protocol with the hub (stdin/stdout pipes, little-endian):
 *   request  = u32 len | op u32 | slot u32 | slot2 u32 | pad u32 | a[6] u64 | payload
 *   response = u32 len | type u32 | err i32 | sig i32 | pad u32 | ret i64 | off u64 | payload
 * A request yields zero or more 'D' (data) frames and then one 'R' (result)
 * or 'X' (the process died) frame; the first frame of a run is 'H' (hello).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Capability } from '../abi/constants.js';
import type {
  AccessResult, Backend, ProcHandle, ShmctlResult, SysResult,
} from '../scenario/backend.js';
import { ensureOracle, OracleUnavailableError } from './build.js';

export { OracleUnavailableError } from './build.js';

const OP = {
  START: 1, FORK: 2, EXIT: 3, CREDS: 4, UNSHARE: 5, SETRLIMIT: 6,
  SHMGET: 7, SHMAT: 8, SHMDT: 9, SHMCTL: 10, MMAP: 11, MUNMAP: 12, MPROTECT: 13,
  MREMAP: 14, MADVISE: 15, READ: 16, WRITE: 17, FILL: 18, READFILE: 19,
  WRITEFILE: 20, QUIT: 21, EXEC: 22,
} as const;

const T_HELLO = 0x48; // 'H'
const T_DATA = 0x44; // 'D'
const T_RESULT = 0x52; // 'R'
const T_DIED = 0x58; // 'X'

const REQ_HDR = 64;
const RSP_HDR = 32;
const MAX_SLOTS = 4096;
/** writeFile travels in one agent message (one write(2) for sysctls). */
const MAX_WRITEFILE = 32768 - 4;
const SIGBUS = 7;
const SIGSEGV = 11;
import { SHMID64_DS_SIZE as SHMID_DS_SIZE } from '../abi/structs.js';

interface Frame { type: number; err: number; sig: number; ret: bigint; off: bigint; payload: Buffer }
interface Reply extends Frame { data: Buffer[]; dataFrames: Frame[] }

interface Pending {
  data: Buffer[];
  /** The 'D' frames themselves (exec tells stdout from stderr by their ret). */
  dataFrames: Frame[];
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

/** What exec() returns: the program's output, its exit status and its pid. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** The exit status, or 128 + the signal number if a signal killed it (as a shell reports it). */
  status: number;
  /** The program's pid in the run's PID namespace (the pids scenario results use). */
  pid: number;
}

/** exec() argument vectors travel in one request. */
const MAX_EXEC_ARGV = 32768;

export interface OracleOptions {
  /** Do not print the CAP_SYS_RESOURCE warning (ORACLE_QUIET=1 does the same). */
  quiet?: boolean;
}

// Hubs still running in this Node process: killed on exit, so that no agent
// outlives Node even if close() was never called (the hub's death makes the
// driver clean up; see agent.c).
const liveHubs = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackHub(hub: ChildProcess): void {
  liveHubs.add(hub);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const h of liveHubs) {
        try { h.kill('SIGKILL'); } catch { /* already gone */ }
      }
    });
  }
}

let warned = false;
/**
 * oracle-notes B1: without CAP_SYS_RESOURCE in the bounding set (proc(5)
 * CapBnd), raising RLIMIT_MEMLOCK or asking for that capability fails with
 * EPERM where the reference machines succeed.
 */
function warnCapabilities(quiet: boolean): void {
  if (warned || quiet || process.env.ORACLE_QUIET === '1') return;
  warned = true;
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m && ((BigInt('0x' + m[1]) >> BigInt(Capability.CAP_SYS_RESOURCE)) & 1n) === 0n) {
      process.stderr.write('oracle: warning: CAP_SYS_RESOURCE is not in the bounding set; '
        + "'setrlimit MEMLOCK' above 8388608 and 'creds caps=CAP_SYS_RESOURCE' will fail with EPERM (ORACLE_QUIET=1 silences this)\n");
    }
  } catch { /* no /proc: nothing to say */ }
}

function sysResult(r: Reply): SysResult {
  return r.err !== 0 ? { ok: false, errno: r.err } : { ok: true, value: r.ret };
}
function zeroResult(r: Reply): SysResult<0n> {
  return r.err !== 0 ? { ok: false, errno: r.err } : { ok: true, value: 0n };
}
function accessResult(r: Reply): AccessResult {
  const data = new Uint8Array(r.data.length === 1 ? r.data[0] : Buffer.concat(r.data));
  if (r.sig === 0) return { data };
  return { data, fault: { signal: r.sig === SIGBUS ? 'SIGBUS' : 'SIGSEGV', offset: r.off } };
}
/** An int parameter (already 32-bit) as the sign-extended 64-bit register value. */
function int64(n: number): bigint {
  return BigInt.asUintN(64, BigInt(n | 0));
}
function u64(n: bigint): bigint {
  return BigInt.asUintN(64, n);
}

export class OracleBackend implements Backend {
  private readonly quiet: boolean;
  private hub: ChildProcess | undefined;
  private rx: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private hello: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private broken: Error | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private stderrText = '';
  private readonly slots = new Map<ProcHandle, number>();
  private readonly exited = new Set<ProcHandle>();
  private nextSlot = 0;
  private readonly hostPidList: number[] = [];

  constructor(options: OracleOptions = {}) {
    this.quiet = options.quiet ?? false;
  }

  /**
   * Pids, in the machine's initial PID namespace, of every process this run
   * started (hub, driver, agents). Scenario pids returned by start()/fork()
   * are pids of the run's own PID namespace. For tests of the cleanup.
   */
  hostPids(): number[] {
    return [...this.hostPidList];
  }

  async start(): Promise<number> {
    if (this.hub) throw new Error('oracle: start() called twice');
    warnCapabilities(this.quiet);
    const bin = await ensureOracle();
    if (!bin.staticallyLinked && !this.quiet && process.env.ORACLE_QUIET !== '1') {
      process.stderr.write('oracle: warning: static libc missing; the agent is dynamically linked and the address layout may differ\n');
    }
    // detached: its own session, so a terminal's Ctrl-C reaches Node only;
    // Node's death still takes the hub along (PR_SET_PDEATHSIG in agent.c).
    const hub = spawn(bin.path, ['--lock', bin.lockPath], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.hub = hub;
    trackHub(hub);
    if (hub.pid !== undefined) this.hostPidList.push(hub.pid);
    const helloDone = new Promise<void>((resolve, reject) => { this.hello = { resolve, reject }; });
    hub.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    hub.stderr!.on('data', (chunk: Buffer) => { this.stderrText = (this.stderrText + chunk.toString('utf8')).slice(-4000); });
    hub.stdin!.on('error', () => { /* EPIPE: reported by the exit handler */ });
    hub.on('error', (e) => this.fail(new Error(`oracle: cannot run ${bin.path}: ${e.message}`)));
    // 'close' comes after the pipes are drained: any frame still in flight
    // has been delivered, so a request still pending then is truly lost.
    hub.on('close', (code, signal) => {
      liveHubs.delete(hub);
      if (!this.closing || this.pending) {
        const why = signal ? `signal ${signal}` : `status ${code}`;
        const err = this.stderrText.trim();
        this.fail(new Error(`oracle: the hub exited unexpectedly (${why})${err ? `: ${err}` : ''}`));
      }
    });
    this.setRef(true);
    await helloDone;
    const slot = this.assignSlot(0);
    const r = await this.call(OP.START, slot, 0, []);
    if (r.err !== 0) throw new Error(`oracle: cannot start p0: errno ${r.err}`);
    this.hostPidList.push(Number(r.off));
    return Number(r.ret);
  }

  async fork(parent: ProcHandle, child: ProcHandle): Promise<SysResult<number>> {
    const p = this.slot(parent);
    if (this.slots.has(child)) throw new Error(`oracle: process handle ${child} already used`);
    const c = this.assignSlot(child);
    const r = await this.call(OP.FORK, p, c, []);
    if (r.err !== 0) {
      this.slots.delete(child);
      return { ok: false, errno: r.err };
    }
    this.hostPidList.push(Number(r.off));
    return { ok: true, value: Number(r.ret) };
  }

  async exit(proc: ProcHandle): Promise<void> {
    const s = this.slot(proc);
    await this.call(OP.EXIT, s, 0, []);
    this.exited.add(proc);
  }

  async creds(proc: ProcHandle, uid: number, gid: number, groups: number[], caps: bigint): Promise<SysResult<0n>> {
    const payload = Buffer.alloc(groups.length * 4);
    groups.forEach((g, i) => payload.writeUInt32LE(g >>> 0, i * 4));
    if (payload.length > 32768) throw new Error('oracle: too many supplementary groups');
    return zeroResult(await this.call(OP.CREDS, this.slot(proc), 0,
      [BigInt(uid >>> 0), BigInt(gid >>> 0), u64(caps)], payload));
  }

  async unshareIpc(proc: ProcHandle): Promise<SysResult<0n>> {
    return zeroResult(await this.call(OP.UNSHARE, this.slot(proc), 0, []));
  }

  async setrlimitMemlock(proc: ProcHandle, cur: bigint, max: bigint): Promise<SysResult<0n>> {
    return zeroResult(await this.call(OP.SETRLIMIT, this.slot(proc), 0, [u64(cur), u64(max)]));
  }

  async shmget(proc: ProcHandle, key: number, size: bigint, flags: number): Promise<SysResult> {
    return sysResult(await this.call(OP.SHMGET, this.slot(proc), 0, [int64(key), u64(size), int64(flags)]));
  }

  async shmat(proc: ProcHandle, id: number, addr: bigint, flags: number): Promise<SysResult> {
    return sysResult(await this.call(OP.SHMAT, this.slot(proc), 0, [int64(id), u64(addr), int64(flags)]));
  }

  async shmdt(proc: ProcHandle, addr: bigint): Promise<SysResult> {
    return sysResult(await this.call(OP.SHMDT, this.slot(proc), 0, [u64(addr)]));
  }

  async shmctl(proc: ProcHandle, id: number, cmd: number, buf: Uint8Array): Promise<ShmctlResult> {
    const inBuf = Buffer.alloc(SHMID_DS_SIZE);
    inBuf.set(buf.subarray(0, SHMID_DS_SIZE));
    const r = await this.call(OP.SHMCTL, this.slot(proc), 0, [int64(id), int64(cmd)], inBuf);
    const out = new Uint8Array(SHMID_DS_SIZE);
    out.set(r.payload.subarray(0, SHMID_DS_SIZE));
    return { ret: sysResult(r), buf: out };
  }

  async mmap(proc: ProcHandle, addr: bigint, len: bigint, prot: number, flags: number): Promise<SysResult> {
    return sysResult(await this.call(OP.MMAP, this.slot(proc), 0, [u64(addr), u64(len), int64(prot), int64(flags)]));
  }

  async munmap(proc: ProcHandle, addr: bigint, len: bigint): Promise<SysResult> {
    return sysResult(await this.call(OP.MUNMAP, this.slot(proc), 0, [u64(addr), u64(len)]));
  }

  async mprotect(proc: ProcHandle, addr: bigint, len: bigint, prot: number): Promise<SysResult> {
    return sysResult(await this.call(OP.MPROTECT, this.slot(proc), 0, [u64(addr), u64(len), int64(prot)]));
  }

  async mremap(proc: ProcHandle, old: bigint, oldLen: bigint, newLen: bigint, flags: number, newAddr: bigint): Promise<SysResult> {
    return sysResult(await this.call(OP.MREMAP, this.slot(proc), 0,
      [u64(old), u64(oldLen), u64(newLen), int64(flags), u64(newAddr)]));
  }

  async madvise(proc: ProcHandle, addr: bigint, len: bigint, advice: number): Promise<SysResult> {
    return sysResult(await this.call(OP.MADVISE, this.slot(proc), 0, [u64(addr), u64(len), int64(advice)]));
  }

  async read(proc: ProcHandle, addr: bigint, len: bigint): Promise<AccessResult> {
    return accessResult(await this.call(OP.READ, this.slot(proc), 0, [u64(addr), u64(len)]));
  }

  async write(proc: ProcHandle, addr: bigint, data: Uint8Array): Promise<AccessResult> {
    const r = await this.call(OP.WRITE, this.slot(proc), 0, [u64(addr), BigInt(data.length)], Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return accessResult({ ...r, data: [] });
  }

  async fill(proc: ProcHandle, addr: bigint, len: bigint, byte: number): Promise<AccessResult> {
    const r = await this.call(OP.FILL, this.slot(proc), 0, [u64(addr), u64(len), BigInt(byte & 0xff)]);
    return accessResult({ ...r, data: [] });
  }

  async readFile(proc: ProcHandle, path: string): Promise<SysResult<string>> {
    const r = await this.call(OP.READFILE, this.slot(proc), 0, [], Buffer.from(path, 'utf8'));
    if (r.err !== 0) return { ok: false, errno: r.err };
    return { ok: true, value: Buffer.concat(r.data).toString('utf8') };
  }

  async writeFile(proc: ProcHandle, path: string, text: string): Promise<SysResult<0n>> {
    const p = Buffer.from(path, 'utf8');
    const t = Buffer.from(text, 'utf8');
    if (4 + p.length + t.length > MAX_WRITEFILE) throw new Error('oracle: writeFile text too long');
    const payload = Buffer.alloc(4 + p.length + t.length);
    payload.writeUInt32LE(p.length, 0);
    p.copy(payload, 4);
    t.copy(payload, 4 + p.length);
    return zeroResult(await this.call(OP.WRITEFILE, this.slot(proc), 0, [], payload));
  }

  /**
   * Runs a program as a child of the scenario process `proc` (not part of
   * the Backend interface): the agent clones a child that shares its memory
   * until execve(2) (CLONE_VM|CLONE_VFORK, like posix_spawn(3)), so the agent
   * maps nothing and no attach is copied or closed; the program runs with
   * the process's credentials (as execve(2) transforms them), rlimits and IPC
   * namespace, stdin /dev/null, environment TZ=UTC LC_ALL=C and
   * PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin.
   * argv[0] is looked up in that PATH unless it contains a '/'. A program that
   * cannot be executed exits with 127 (not found) or 126.
   */
  async exec(proc: ProcHandle, argv: string[]): Promise<ExecResult> {
    if (argv.length === 0) throw new Error('oracle: exec needs at least argv[0]');
    if (argv.some((a) => a.includes('\0'))) throw new Error('oracle: exec arguments cannot contain NUL');
    const payload = Buffer.from(argv.map((a) => a + '\0').join(''), 'utf8');
    if (payload.length > MAX_EXEC_ARGV) throw new Error('oracle: exec argument vector too long');
    const r = await this.call(OP.EXEC, this.slot(proc), 0, [BigInt(argv.length)], payload);
    if (r.err !== 0) throw new Error(`oracle: cannot run ${argv[0]}: errno ${r.err}`);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    for (const f of r.dataFrames) (f.ret === 2n ? err : out).push(f.payload);
    const st = Number(r.ret);
    // wait(2) status: WIFEXITED -> WEXITSTATUS, WIFSIGNALED -> 128 + WTERMSIG.
    const status = (st & 0x7f) === 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f);
    return {
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      status,
      pid: Number(r.off),
    };
  }

  /**
   * Ends the run: the driver SIGKILLs every agent, reaps them, and IPC_RMIDs
   * every segment of every IPC namespace the run used; the hub then exits.
   * Resolves once the hub has exited. Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<void> {
    const hub = this.hub;
    if (!hub) return;
    const gone = new Promise<void>((resolve) => {
      if (!liveHubs.has(hub)) resolve();
      else hub.once('close', () => resolve());
    });
    try {
      await this.enqueue(() => {
        this.closing = true;
        return this.rpc(OP.QUIT, 0, 0, [], undefined);
      });
    } catch { /* the hub died on the way; its death still cleans up */ }
    this.closing = true;
    this.setRef(true);
    try { hub.stdin!.end(); } catch { /* already closed */ }
    await gone;
    liveHubs.delete(hub);
    this.broken ??= new Error('oracle: backend closed');
  }

  // ---------------------------------------------------------------- plumbing

  private assignSlot(handle: ProcHandle): number {
    if (this.nextSlot >= MAX_SLOTS) throw new Error(`oracle: more than ${MAX_SLOTS} processes`);
    const s = this.nextSlot++;
    this.slots.set(handle, s);
    return s;
  }

  private slot(handle: ProcHandle): number {
    const s = this.slots.get(handle);
    if (s === undefined) throw new Error(`oracle: unknown process handle ${handle}`);
    if (this.exited.has(handle)) throw new Error(`oracle: process handle ${handle} has exited`);
    return s;
  }

  /** Serialises requests: one request in flight at a time. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private call(op: number, slot: number, slot2: number, args: bigint[], payload?: Buffer): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('oracle: backend closed'));
    return this.enqueue(() => this.rpc(op, slot, slot2, args, payload));
  }

  private rpc(op: number, slot: number, slot2: number, args: bigint[], payload: Buffer | undefined): Promise<Reply> {
    if (this.broken) return Promise.reject(this.broken);
    const hub = this.hub;
    if (!hub) return Promise.reject(new Error('oracle: start() was not called'));
    const plen = payload?.length ?? 0;
    const head = Buffer.alloc(4 + REQ_HDR);
    head.writeUInt32LE(REQ_HDR + plen, 0);
    head.writeUInt32LE(op, 4);
    head.writeUInt32LE(slot, 8);
    head.writeUInt32LE(slot2, 12);
    args.forEach((a, i) => head.writeBigUInt64LE(a, 20 + 8 * i));
    return new Promise<Reply>((resolve, reject) => {
      this.pending = { data: [], dataFrames: [], resolve, reject };
      this.setRef(true);
      hub.stdin!.write(head);
      if (payload && plen > 0) hub.stdin!.write(payload);
    });
  }

  private onData(chunk: Buffer): void {
    this.rx = this.rx.length ? Buffer.concat([this.rx, chunk]) : chunk;
    let pos = 0;
    while (this.rx.length - pos >= 4) {
      const len = this.rx.readUInt32LE(pos);
      if (this.rx.length - pos - 4 < len) break;
      const f = this.rx.subarray(pos + 4, pos + 4 + len);
      pos += 4 + len;
      if (len < RSP_HDR) { this.fail(new Error('oracle: malformed frame from the hub')); return; }
      this.onFrame({
        type: f.readUInt32LE(0),
        err: f.readInt32LE(4),
        sig: f.readInt32LE(8),
        ret: f.readBigInt64LE(16),
        off: f.readBigUInt64LE(24),
        payload: Buffer.from(f.subarray(RSP_HDR)),
      });
    }
    this.rx = pos === this.rx.length ? Buffer.alloc(0) : this.rx.subarray(pos);
  }

  private onFrame(f: Frame): void {
    if (f.type === T_HELLO) {
      const h = this.hello;
      this.hello = undefined;
      if (!h) return;
      if (f.err !== 0) {
        const text = f.payload.toString('utf8') || `errno ${f.err}`;
        const e = new OracleUnavailableError(`oracle: cannot start (${text})`);
        this.broken = e;
        h.reject(e);
      } else {
        this.hostPidList.push(Number(f.off));
        h.resolve();
        this.setRef(false);
      }
      return;
    }
    const p = this.pending;
    if (!p) { this.fail(new Error('oracle: unexpected frame from the hub')); return; }
    if (f.type === T_DATA) { p.data.push(f.payload); p.dataFrames.push(f); return; }
    this.pending = undefined;
    this.setRef(false);
    if (f.type === T_RESULT) p.resolve({ ...f, data: p.data, dataFrames: p.dataFrames });
    else if (f.type === T_DIED) p.reject(new Error(`oracle: ${f.payload.toString('utf8') || 'scenario process died'}`));
    else this.fail(new Error(`oracle: unknown frame type ${f.type}`));
  }

  /** The hub is unusable: reject whatever waits and every later request. */
  private fail(e: Error): void {
    this.broken ??= e;
    const h = this.hello;
    this.hello = undefined;
    h?.reject(e);
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
    this.setRef(false);
  }

  /** Keep Node alive only while a request is in flight (unref'd when idle). */
  private setRef(on: boolean): void {
    const hub = this.hub;
    if (!hub) return;
    const handles = [hub, hub.stdin, hub.stdout, hub.stderr] as unknown as Array<{ ref?: () => void; unref?: () => void } | null>;
    for (const h of handles) {
      if (!h) continue;
      if (on) h.ref?.(); else h.unref?.();
    }
  }
}
