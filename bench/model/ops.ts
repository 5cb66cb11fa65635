/**
 * The model side of each benchmark: the same operations as
 * bench/native/shmbench.c, on a fresh Kernel (the model's equivalent of the
 * fresh IPC namespace the native side runs in), through the raw system-call
 * layer `p.sys.*` (what an emulator forwards guest system calls to: C
 * arguments in, `>= 0` or `-errno` out) and, for fork/exit, `kernel.fork` /
 * `kernel.exit`.
 *
 * Every benchmark has the shape of the native one: setup() builds the state,
 * run(n) performs n operations (or, for page benchmarks, n segments' worth)
 * and returns the elapsed nanoseconds and the number of operations, and
 * teardown() removes everything (the page allocator must be back to zero).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Kernel, constants as C, viewOf, type Process } from '../../src/index.js';

export interface RunResult { ns: number; ops: number }

export interface ModelBench {
  setup(): void;
  run(n: number): RunResult;
  teardown(): void;
}

const PAGE = 4096;
const KEY_BASE = 0x5b000000;
const ONE = new Uint8Array([1]);

function now(): number {
  return Number(process.hrtime.bigint());
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * A full garbage collection, outside the timed part: a destroyed segment's
 * SharedArrayBuffer goes back to the OS only when V8 collects it, while the
 * native side's IPC_RMID frees the pages at once. Without this, runs that
 * make 64 MiB segments grow the process by 64 MiB each, and on a VM the
 * first touch of memory the guest never used costs several times more.
 */
export function collect(): void {
  gc();
}

function ok(what: string, r: number): number {
  if (r < 0) throw new Error(`model: ${what} failed with errno ${-r}`);
  return r;
}

/** A fresh kernel with one process (and kernel.shmmni raised to IPCMNI, as the native side does). */
function world(): { kernel: Kernel; p: Process } {
  const kernel = new Kernel();
  const p = kernel.spawn({ name: 'bench' });
  const w = kernel.proc.write('/proc/sys/kernel/shmmni', '32768\n', p);
  if (!w.ok) throw new Error(`model: raising kernel.shmmni failed (errno ${w.errno})`);
  return { kernel, p };
}

function finish(kernel: Kernel): void {
  kernel.shutdown();
  for (const id of [...kernel.initIpcNs.shm.ids].map((s) => s.id)) {
    const shp = kernel.initIpcNs.shm.ids.obtainObjectIdr(id);
    if (typeof shp !== 'number') kernel.initIpcNs.shm.destroy(shp);
  }
  if (kernel.allocator.allocatedPages !== 0) throw new Error(`model: ${kernel.allocator.allocatedPages} pages leaked`);
}

/** shmget(IPC_PRIVATE, 4096) + shmat + one-byte write + shmdt + IPC_RMID. */
export function cycle(): ModelBench {
  let kernel: Kernel, p: Process;
  return {
    setup() { ({ kernel, p } = world()); },
    run(n) {
      const sys = p.sys;
      const t0 = now();
      for (let i = 0; i < n; i++) {
        const id = sys.shmget(C.IPC_PRIVATE, PAGE, C.IPC_CREAT | 0o600);
        if (id < 0) ok('shmget', id);
        const a = sys.shmat(id, 0, 0);
        if (a < 0) ok('shmat', a);
        if (sys.write(a, ONE).fault) throw new Error('model: write faulted');
        const r1 = sys.shmdt(a);
        if (r1 < 0) ok('shmdt', r1);
        const r2 = sys.shmctl(id, C.IPC_RMID, null);
        if (r2 < 0) ok('shmctl', r2);
      }
      return { ns: now() - t0, ops: n };
    },
    teardown() { finish(kernel); },
  };
}

/** shmget(key, 0, 0) with `segments` segments in the namespace. */
export function lookup(segments: number): ModelBench {
  let kernel: Kernel, p: Process;
  let key = 0;
  return {
    setup() {
      ({ kernel, p } = world());
      for (let i = 0; i < segments; i++) ok('shmget', p.sys.shmget(KEY_BASE + i, PAGE, C.IPC_CREAT | C.IPC_EXCL | 0o600));
      key = KEY_BASE + (segments >> 1);
    },
    run(n) {
      const sys = p.sys;
      const t0 = now();
      for (let i = 0; i < n; i++) {
        const r = sys.shmget(key, 0, 0);
        if (r < 0) ok('shmget', r);
      }
      return { ns: now() - t0, ops: n };
    },
    teardown() { finish(kernel); },
  };
}

/** Maps `count` separate one-page VMAs (alternating protections, one page apart) just below the mmap base. */
export function makeVmas(p: Process, count: number): void {
  if (count === 0) return;
  const len = count * 2 * PAGE;
  const base = ok('mmap', p.sys.mmap(0, len, C.PROT_NONE, C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_NORESERVE));
  ok('munmap', p.sys.munmap(base, len));
  for (let i = 0; i < count; i++) {
    ok('mmap', p.sys.mmap(base + i * 2 * PAGE, PAGE, i & 1 ? C.PROT_READ : C.PROT_READ | C.PROT_WRITE,
      C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_FIXED));
  }
}

/** shmat + shmdt of a 4 KiB segment with `vmas` other VMAs in the process. */
export function attach(vmas: number): ModelBench {
  let kernel: Kernel, p: Process;
  let id = 0;
  return {
    setup() {
      ({ kernel, p } = world());
      makeVmas(p, vmas);
      id = ok('shmget', p.sys.shmget(C.IPC_PRIVATE, PAGE, C.IPC_CREAT | 0o600));
    },
    run(n) {
      const sys = p.sys;
      const t0 = now();
      for (let i = 0; i < n; i++) {
        const a = sys.shmat(id, 0, 0);
        if (a < 0) ok('shmat', a);
        const r = sys.shmdt(a);
        if (r < 0) ok('shmdt', r);
      }
      return { ns: now() - t0, ops: n };
    },
    teardown() { finish(kernel); },
  };
}

/** shmctl(IPC_STAT) into a caller's buffer. */
export function stat(): ModelBench {
  let kernel: Kernel, p: Process;
  let id = 0;
  const buf = new Uint8Array(112);
  return {
    setup() {
      ({ kernel, p } = world());
      id = ok('shmget', p.sys.shmget(C.IPC_PRIVATE, PAGE, C.IPC_CREAT | 0o600));
    },
    run(n) {
      const sys = p.sys;
      const t0 = now();
      for (let i = 0; i < n; i++) {
        const r = sys.shmctl(id, C.IPC_STAT, buf);
        if (r < 0) ok('shmctl', r);
      }
      return { ns: now() - t0, ops: n };
    },
    teardown() { finish(kernel); },
  };
}

/** fork + child exit, with `attached` segments attached (removed, so they die with the last detach). */
export function fork(attached: number): ModelBench {
  let kernel: Kernel, p: Process;
  return {
    setup() {
      ({ kernel, p } = world());
      for (let i = 0; i < attached; i++) {
        const id = ok('shmget', p.sys.shmget(C.IPC_PRIVATE, PAGE, C.IPC_CREAT | 0o600));
        ok('shmat', p.sys.shmat(id, 0, 0));
        ok('shmctl', p.sys.shmctl(id, C.IPC_RMID, null));
      }
    },
    run(n) {
      const t0 = now();
      for (let i = 0; i < n; i++) {
        const child = kernel.fork(p);
        kernel.exit(child);
      }
      const ns = now() - t0;
      // Exited processes stay in the table for reports; drop them so that
      // long runs do not accumulate garbage (not timed).
      for (const [pid, q] of kernel.processes) if (!q.alive) kernel.processes.delete(pid);
      return { ns, ops: n };
    },
    teardown() { finish(kernel); },
  };
}

/**
 * `n` fresh segments of `pages` pages: the first touch (a one-byte write
 * through the checked access path) of every page is timed (mode 'touch'), or
 * the shmdt + IPC_RMID of the fully touched segment ('teardown').
 */
export function touch(pages: number, mode: 'touch' | 'teardown' = 'touch'): ModelBench {
  let kernel: Kernel, p: Process;
  return {
    setup() { ({ kernel, p } = world()); },
    run(n) {
      const sys = p.sys;
      let total = 0;
      for (let i = 0; i < n; i++) {
        const id = ok('shmget', sys.shmget(C.IPC_PRIVATE, pages * PAGE, C.IPC_CREAT | 0o600));
        const a = ok('shmat', sys.shmat(id, 0, 0));
        let t0 = now();
        for (let off = 0; off < pages * PAGE; off += PAGE) {
          if (sys.write(a + off, ONE).fault) throw new Error('model: touch faulted');
        }
        let t1 = now();
        if (mode === 'touch') total += t1 - t0;
        t0 = now();
        ok('shmdt', sys.shmdt(a));
        ok('shmctl', sys.shmctl(id, C.IPC_RMID, null));
        t1 = now();
        if (mode === 'teardown') total += t1 - t0;
        if (pages >= 4096) collect();
      }
      return { ns: total, ops: n * pages };
    },
    teardown() { finish(kernel); },
  };
}

/**
 * A zero-copy view of a whole attached segment: the runtime's viewOf() when
 * it is there, else the segment's PageCache storage over its (populated)
 * pages.
 */
function segmentView(p: Process, addr: number, len: number): { view: Uint8Array; how: string } {
  if (typeof viewOf === 'function') {
    const v = viewOf(p, addr, len);
    if (typeof v !== 'number') return { view: v, how: 'viewOf' };
  }
  ok('madvise', p.sys.madvise(addr, len, C.MADV_POPULATE_WRITE));
  const vma = p.mm.lookupVma(addr);
  const st = vma?.file?.cache.storage(vma.linear(addr), vma.linear(addr) + len / PAGE);
  if (!st) throw new Error('model: no storage for the segment');
  return { view: new Uint8Array(st.buffer, st.byteOffset, len), how: 'PageCache.storage' };
}

/** memcpy(3) into any byte range: Buffer#fill with a source as long as the range is one memcpy. */
export function memcpyInto(dst: Uint8Array, src: Uint8Array): void {
  if (src.length !== dst.length) throw new RangeError('memcpyInto: lengths differ');
  Buffer.prototype.fill.call(dst, src);
}

export type CopyMethod = 'memcpy' | 'set' | 'write';

/**
 * `mib` MiB copied into an attached, fully faulted segment: through a
 * zero-copy view with memcpy ('memcpy': Buffer#fill, what a native memcpy
 * does) or TypedArray#set ('set': V8's copy into shared memory), or through
 * the checked access path ('write': p.sys.write, every page's VMA and
 * permission checked).
 */
export function copy(mib: number, method: CopyMethod): ModelBench & { how(): string } {
  let kernel: Kernel, p: Process;
  const len = mib << 20;
  let src: Uint8Array, view: Uint8Array | null = null, addr = 0, how = '';
  return {
    setup() {
      ({ kernel, p } = world());
      const id = ok('shmget', p.sys.shmget(C.IPC_PRIVATE, len, C.IPC_CREAT | 0o600));
      addr = ok('shmat', p.sys.shmat(id, 0, 0));
      ok('shmctl', p.sys.shmctl(id, C.IPC_RMID, null));
      src = new Uint8Array(len);
      for (let i = 0; i < len; i += 64) src[i] = (i * 7) & 0xff;
      if (method === 'write') {
        ok('madvise', p.sys.madvise(addr, len, C.MADV_POPULATE_WRITE));
      } else {
        const v = segmentView(p, addr, len);
        view = v.view;
        how = `${method} via ${v.how}`;
        view.fill(1);
      }
    },
    run(n) {
      const t0 = now();
      for (let i = 0; i < n; i++) {
        if (method === 'memcpy') memcpyInto(view!, src);
        else if (method === 'set') view!.set(src);
        else if (p.sys.write(addr, src).fault) throw new Error('model: write faulted');
      }
      return { ns: now() - t0, ops: n };
    },
    teardown() {
      view = null;
      finish(kernel);
      collect();
    },
    how: () => how,
  };
}

/**
 * The floor under the model's first touch: a store into each page of a
 * fresh `pages`-page SharedArrayBuffer, with no model at all. Its cost is
 * the host kernel's anonymous page fault in the Node process (every model
 * page is a page of this process), which no model can avoid on memory it
 * has never touched.
 */
export function hostTouch(pages: number): ModelBench {
  return {
    setup() { /* nothing */ },
    run(n) {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const u = new Uint8Array(new SharedArrayBuffer(pages * PAGE));
        const t0 = now();
        for (let off = 0; off < pages * PAGE; off += PAGE) u[off] = 1;
        total += now() - t0;
        collect();
      }
      return { ns: total, ops: n * pages };
    },
    teardown() { /* nothing */ },
  };
}

/** The model benchmarks by name, for the per-row agent (bench/model/agent.ts). */
export const BENCHES = {
  cycle: () => cycle(),
  lookup: (segments: number) => lookup(segments),
  attach: (vmas: number) => attach(vmas),
  stat: () => stat(),
  fork: (attached: number) => fork(attached),
  touch: (pages: number, mode?: 'touch' | 'teardown') => touch(pages, mode),
  hostTouch: (pages: number) => hostTouch(pages),
  copy: (mib: number, method: CopyMethod) => copy(mib, method),
} as const;

export type BenchName = keyof typeof BENCHES;
export type BenchSpec = { [K in BenchName]: [K, ...Parameters<(typeof BENCHES)[K]>] }[BenchName];

export function makeBench(spec: BenchSpec): ModelBench & { how?(): string } {
  const [name, ...args] = spec;
  return (BENCHES[name] as (...a: unknown[]) => ModelBench)(...args);
}
