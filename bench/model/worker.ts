/**
 * The worker-runtime rows: futex ping-pong between two worker processes on
 * a word of a SysV segment, and a worker's system-call round trip against
 * the bare Atomics floor between the same two threads. The workers stay up
 * across runs, so the harness can interleave their runs with the native
 * ones; each run is started by bumping a command word (see worker-guest.ts).
 *
 * The kernel's thread (this one) serves the workers' system calls, so it
 * never blocks: completions are awaited with Atomics.waitAsync.
 */
import { Kernel, constants as C, viewOf, type Process, type WorkerHandle } from '../../src/index.js';
import { CTL_BYTES, MODE, RES, RES_OFFSET, W } from './worker-guest.js';
import { serveFloor, waitAsync } from '../lib/floor.js';


/** Resolves once ctl[index] !== value. */
async function until(ctl: Int32Array, index: number, value: number, what: string, handles: WorkerHandle[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Atomics.load(ctl, index) === value) {
    for (const h of handles) if (h.error) throw new Error(`worker ${what}: ${h.error}`);
    if (Date.now() > deadline) throw new Error(`worker ${what}: no answer in 60 s`);
    const r = waitAsync!(ctl, index, value, 1000);
    if (r.async) await r.value;
  }
}


interface Group {
  id: number;
  addr: number;
  ctl: Int32Array;
  res: Float64Array;
  handles: WorkerHandle[];
  seq: number;
}

export class WorkerBench {
  private constructor(
    private readonly kernel: Kernel,
    private readonly host: Process,
    private readonly pp: Group,
    private readonly sc: Group,
  ) {}

  /** Starts the workers; a string says why the worker runtime cannot run here. */
  static async start(): Promise<WorkerBench | string> {
    if (!waitAsync) return 'pending (worker runtime): no Atomics.waitAsync';
    const kernel = new Kernel();
    if (typeof (kernel as { spawnWorker?: unknown }).spawnWorker !== 'function') return 'pending (worker runtime)';
    const host = kernel.spawn({ name: 'bench' });
    const guest = new URL('./worker-guest.js', import.meta.url);
    const group = (roles: string[]): Group => {
      const id = host.shmget(C.IPC_PRIVATE, CTL_BYTES, C.IPC_CREAT | 0o600);
      const addr = host.shmat(id);
      const v = viewOf(host, addr, CTL_BYTES);
      if (typeof v === 'number') throw new Error(`viewOf: errno ${-v}`);
      const ctl = new Int32Array(v.buffer, v.byteOffset, CTL_BYTES / 4);
      const res = new Float64Array(v.buffer, v.byteOffset + RES_OFFSET, 8);
      const handles = roles.map((role) => kernel.spawnWorker(guest, { name: role, argv: [role, String(id)] }));
      return { id, addr, ctl, res, handles, seq: 0 };
    };
    try {
      const b = new WorkerBench(kernel, host, group(['ping', 'pong']), group(['syscall']));
      // A first short run of each proves the runtime works end to end.
      await b.pingPong(100);
      await b.syscall(100);
      return b;
    } catch (e) {
      await kernel.shutdownWorkers().catch(() => undefined);
      return `pending (worker runtime): ${(e as Error).message}`;
    }
  }

  private command(g: Group, n: number): number {
    g.seq++;
    Atomics.store(g.ctl, W.n, n);
    Atomics.store(g.ctl, W.cmd, g.seq);
    Atomics.notify(g.ctl, W.cmd);
    return g.seq;
  }

  /** n round trips between the two workers (futex(2), or bare Atomics): ns per round trip. */
  async pingPong(n: number, bare = false): Promise<number> {
    const g = this.pp;
    Atomics.store(g.ctl, W.mode, bare ? MODE.atomics : MODE.futex);
    const before = Atomics.load(g.ctl, W.donePing);
    this.command(g, n);
    await until(g.ctl, W.donePing, before, 'ping-pong', g.handles);
    return g.res[RES.ping]!;
  }

  /** n getpid round trips and n bare floor round trips: ns per round trip of each. */
  async syscall(n: number): Promise<{ getpid: number; floor: number }> {
    const g = this.sc;
    Atomics.store(g.ctl, W.floor, 0);
    const floor = serveFloor(g.ctl, W.floor);
    const before = Atomics.load(g.ctl, W.doneSyscall);
    this.command(g, n);
    await until(g.ctl, W.doneSyscall, before, 'syscall', g.handles);
    await floor;
    return { getpid: g.res[RES.getpid]!, floor: g.res[RES.floor]! };
  }

  async close(): Promise<void> {
    for (const g of [this.pp, this.sc]) {
      this.command(g, -1);
      await Promise.all(g.handles.map((h) => h.exited));
    }
    for (const g of [this.pp, this.sc]) {
      this.host.shmdt(g.addr);
      this.host.shmRemove(g.id);
    }
    this.kernel.shutdown();
    await this.kernel.shutdownWorkers();
  }
}
