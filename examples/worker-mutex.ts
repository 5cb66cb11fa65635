/**
 * Worker processes that synchronise through a SysV segment with a futex
 * mutex and condition variables (examples/futex-sync.ts):
 *
 * - "counter" processes increment a plain (non-atomic) counter under the
 *   mutex: no increment is lost;
 * - a "producer" and several "consumers" pass items through a bounded ring
 *   buffer guarded by a mutex and two condition variables (not empty, not
 *   full): every item is consumed once.
 *
 * Every process attaches the segment at a different address (each maps a
 * different number of pages first), so the futexes meet by segment offset,
 * as on Linux.
 *
 * Run: npm run build && node dist/examples/worker-mutex.js
 *
 * This file is both the demo (on the main thread) and the guest program
 * (its default export, run on each worker).
 */
import { isMainThread } from 'node:worker_threads';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kernel, constants as C, type GuestOs } from '../src/index.js';
import { CondVar, Mutex } from './futex-sync.js';

/** Layout of the shared segment (byte offsets). */
const L = {
  mutex: 0, counter: 4,
  qMutex: 64, notEmpty: 68, notFull: 72, head: 76, tail: 80, count: 84, total: 88, consumed: 92,
  ring: 128,
} as const;
const CAP = 16;
const SEGMENT_SIZE = 4096;

/** The guest program: argv = [role, shmid, index, ...role arguments]. */
export default function main(os: GuestOs): number {
  const [role, idArg, indexArg, ...rest] = os.argv;
  // Shift this process's attach address: index pages of private memory first.
  const index = Number(indexArg);
  if (index > 0) os.mmapPrivate(index * 4096);
  const base = os.shmat(Number(idArg));
  const mem = os.mem.viewInt32(base, SEGMENT_SIZE / 4);
  const at = (off: number) => off / 4;

  if (role === 'counter') {
    const m = new Mutex(os, base + L.mutex);
    const n = Number(rest[0]);
    for (let i = 0; i < n; i++) {
      m.lock();
      const c = mem[at(L.counter)]!;
      // Widen the window a lost update would need.
      if ((i & 63) === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0);
      mem[at(L.counter)] = c + 1;
      m.unlock();
    }
    return 0;
  }

  const qm = new Mutex(os, base + L.qMutex);
  const notEmpty = new CondVar(os, base + L.notEmpty);
  const notFull = new CondVar(os, base + L.notFull);
  if (role === 'producer') {
    const items = Number(rest[0]);
    const consumers = Number(rest[1]);
    const push = (item: number) => {
      qm.lock();
      while (mem[at(L.count)] === CAP) notFull.wait(qm);
      const tail = mem[at(L.tail)]!;
      mem[at(L.ring) + tail] = item;
      mem[at(L.tail)] = (tail + 1) % CAP;
      mem[at(L.count)]!++;
      notEmpty.signal();
      qm.unlock();
    };
    for (let i = 1; i <= items; i++) push(i);
    for (let i = 0; i < consumers; i++) push(-1); // one end marker per consumer
    return 0;
  }
  if (role === 'consumer') {
    for (;;) {
      qm.lock();
      while (mem[at(L.count)] === 0) notEmpty.wait(qm);
      const head = mem[at(L.head)]!;
      const item = mem[at(L.ring) + head]!;
      mem[at(L.head)] = (head + 1) % CAP;
      mem[at(L.count)]!--;
      notFull.signal();
      if (item > 0) {
        mem[at(L.total)]! += item;
        mem[at(L.consumed)]!++;
      }
      qm.unlock();
      if (item < 0) return 0;
    }
  }
  throw new Error(`unknown role ${role}`);
}

export interface DemoOptions { counters?: number; iterations?: number; consumers?: number; items?: number }
export interface DemoResult {
  counter: number; expectedCounter: number;
  total: number; expectedTotal: number; consumed: number;
  exitCodes: number[]; allocatedPagesAfter: number;
}

/** Runs the demo on a fresh kernel and returns what the segment holds at the end. */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const counters = opts.counters ?? 4;
  const iterations = opts.iterations ?? 5000;
  const consumers = opts.consumers ?? 3;
  const items = opts.items ?? 2000;
  const kernel = new Kernel();
  const host = kernel.spawn({ name: 'host' });
  const id = host.shmget(C.IPC_PRIVATE, SEGMENT_SIZE, C.IPC_CREAT | 0o600);
  const me = new URL(import.meta.url);
  const handles = [];
  let index = 0;
  for (let i = 0; i < counters; i++) {
    handles.push(kernel.spawnWorker(me, { name: 'counter', argv: ['counter', String(id), String(index++), String(iterations)] }));
  }
  for (let i = 0; i < consumers; i++) {
    handles.push(kernel.spawnWorker(me, { name: 'consumer', argv: ['consumer', String(id), String(index++)] }));
  }
  handles.push(kernel.spawnWorker(me, { name: 'producer', argv: ['producer', String(id), String(index++), String(items), String(consumers)] }));
  const exits = await Promise.all(handles.map((h) => h.exited));
  const addr = host.shmat(id);
  const word = (off: number) => new DataView(host.read(addr + off, 4).buffer).getInt32(0, true);
  const result: DemoResult = {
    counter: word(L.counter), expectedCounter: counters * iterations,
    total: word(L.total), expectedTotal: (items * (items + 1)) / 2, consumed: word(L.consumed),
    exitCodes: exits.map((e) => e.code), allocatedPagesAfter: -1,
  };
  host.shmdt(addr);
  host.shmRemove(id);
  kernel.exit(host);
  result.allocatedPagesAfter = kernel.allocator.allocatedPages;
  return result;
}

if (isMainThread && process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const t0 = performance.now();
  const r = await runDemo();
  const ms = (performance.now() - t0).toFixed(0);
  console.log(`counter: ${r.counter} (expected ${r.expectedCounter})`);
  console.log(`items consumed: ${r.consumed}, sum ${r.total} (expected ${r.expectedTotal})`);
  console.log(`exit codes: ${r.exitCodes.join(' ')}; pages allocated after exit: ${r.allocatedPagesAfter}; ${ms} ms`);
  if (r.counter !== r.expectedCounter || r.total !== r.expectedTotal) process.exitCode = 1;
}
