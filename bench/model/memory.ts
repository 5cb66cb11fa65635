/**
 * The memory rows of the benchmark, run in a Node process of their own
 * (`node --expose-gc dist/bench/model/memory.js`) so that nothing else the
 * harness allocated moves the numbers. Prints one JSON object:
 *
 *   { "tib": { rss: [...], heap: [...] },      RSS and V8 heap growth per 1 TiB
 *                                               SHM_NORESERVE segment, attached,
 *                                               one page touched (8 at a time:
 *                                               RSS moves in steps of whole heap
 *                                               pages, so one alone reads 0 or 128 KiB)
 *     "empty": { rss: [...], heap: [...] } }   RSS and V8 heap+external growth
 *                                               per empty segment (10 000
 *                                               IPC_PRIVATE 4 KiB segments)
 *
 * Each list has one value per repetition (the harness takes the median).
 * The 1 TiB segments' heap figure leaves out external memory: V8 counts a
 * SharedArrayBuffer's whole (virtual, untouched) size there.
 */
import { Kernel, constants as C } from '../../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc;

function settle(): void {
  if (!gc) throw new Error('memory benchmark: run node with --expose-gc');
  for (let i = 0; i < 4; i++) gc();
}

function sample(): { rss: number; heap: number; external: number } {
  settle();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external };
}

function ok(what: string, r: number): number {
  if (r < 0) throw new Error(`${what}: errno ${-r}`);
  return r;
}

const TIB = 2 ** 40;

function tib(reps: number): { rss: number[]; heap: number[] } {
  const rss: number[] = [], heap: number[] = [];
  const kernel = new Kernel();
  const p = kernel.spawn({ name: 'mem' });
  const one = new Uint8Array([1]);
  const K = 8;
  // The first repetition warms the code paths (and their allocations).
  for (let r = -1; r < reps; r++) {
    const before = sample();
    const segs: [number, number][] = [];
    for (let i = 0; i < K; i++) {
      const id = ok('shmget', p.sys.shmget(C.IPC_PRIVATE, TIB, C.IPC_CREAT | C.SHM_NORESERVE | 0o600));
      const a = ok('shmat', p.sys.shmat(id, 0, 0));
      if (p.sys.write(a + TIB / 2, one).fault) throw new Error('write faulted');
      segs.push([id, a]);
    }
    const after = sample();
    if (r >= 0) { rss.push((after.rss - before.rss) / K); heap.push((after.heap - before.heap) / K); }
    for (const [id, a] of segs) {
      ok('shmdt', p.sys.shmdt(a));
      ok('shmctl', p.sys.shmctl(id, C.IPC_RMID, null));
    }
  }
  kernel.shutdown();
  return { rss, heap };
}

function empty(count: number, reps: number): { rss: number[]; heap: number[] } {
  const rss: number[] = [], heap: number[] = [];
  for (let r = -1; r < reps; r++) {
    const kernel = new Kernel();
    const p = kernel.spawn({ name: 'mem' });
    ok('sysctl', kernel.proc.write('/proc/sys/kernel/shmmni', '32768\n', p).ok ? 0 : -1);
    const ids: number[] = [];
    const before = sample();
    for (let i = 0; i < count; i++) ids.push(ok('shmget', p.sys.shmget(C.IPC_PRIVATE, 4096, C.IPC_CREAT | 0o600)));
    const after = sample();
    if (r >= 0) { rss.push((after.rss - before.rss) / count); heap.push((after.heap + after.external - before.heap - before.external) / count); }
    for (const id of ids) ok('shmctl', p.sys.shmctl(id, C.IPC_RMID, null));
    kernel.shutdown();
  }
  return { rss, heap };
}

const reps = Number(process.argv[2] ?? 5);
const out = { tib: tib(reps), empty: empty(10000, reps) };
process.stdout.write(JSON.stringify(out) + '\n');
