/**
 * Benchmark of the worker runtime (not a test):
 *
 * - futex ping-pong between two worker processes on a word of a SysV
 *   segment: the round trip through the futex fast path (Atomics.wait /
 *   Atomics.notify on the backing word), through the kernel's wait queue
 *   (FUTEX_WAIT_BITSET / FUTEX_WAKE_BITSET), and bare Atomics.wait/notify
 *   on the same word (no futex layer);
 * - a worker's system-call round trip (getpid) against the floor: a bare
 *   Atomics.wait request / Atomics.waitAsync response between the same two
 *   threads (the worker and the kernel's thread) with no decoding or dispatch;
 * - copy bandwidth through a 64 MiB view of a segment, against a copy between
 *   two private ArrayBuffers and against os.sys.write / os.sys.read (which
 *   copy through the channel's data area).
 *
 * Run: npx tsc -p . && node dist/bench/runtime.js [--quick]
 *
 * This file is also the guest program of the benchmark (its default export).
 */
import { isMainThread } from 'node:worker_threads';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kernel, viewOf, constants as C, type GuestOs } from '../src/index.js';
import { serveFloor } from './lib/floor.js';
import { FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET } from '../src/runtime/futex-abi.js';

const MiB = 1 << 20;
/** Result slots (Float64) in the control segment, from byte RESULTS. */
const RESULTS = 512;
const R = {
  pingFutex: 0, pingKernel: 1, pingAtomics: 2, getpid: 3, floor: 4,
  viewWrite: 5, viewRead: 6, plainCopy: 7, sysWrite: 8, sysRead: 9, viewSetup: 10,
} as const;
/** Words of the control segment (byte offsets). */
const W = { ping: 0, kping: 64, aping: 128, floor: 256 } as const;

function nsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0);
}

/** The guest: argv = [role, control shmid, iterations]. */
export default function main(os: GuestOs): void {
  const [role, idArg, nArg] = os.argv;
  const n = Number(nArg);
  const base = os.shmat(Number(idArg));
  const ctl = os.mem.viewInt32(base, 1024);
  const res = new Float64Array(os.mem.view(base + RESULTS, 16 * 8).buffer, os.mem.view(base + RESULTS, 16 * 8).byteOffset, 16);
  const ping = W.ping / 4, kping = W.kping / 4, aping = W.aping / 4, floor = W.floor / 4;

  if (role === 'ping' || role === 'pong') {
    const me = role === 'ping' ? 1 : 0; // the value this side waits to change away from
    const futexRound = (word: number, wait: (v: number) => void, wake: () => void, rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        if (me === 1) {
          Atomics.store(ctl, word, 1);
          wake();
          while (Atomics.load(ctl, word) === 1) wait(1);
        } else {
          while (Atomics.load(ctl, word) === 0) wait(0);
          Atomics.store(ctl, word, 0);
          wake();
        }
      }
    };
    const addr = (w: number) => base + w * 4;
    const run = (slot: number, word: number, wait: (v: number) => void, wake: () => void, rounds: number) => {
      futexRound(word, wait, wake, Math.min(1000, rounds)); // warm-up
      const t0 = process.hrtime.bigint();
      futexRound(word, wait, wake, rounds);
      if (me === 1) res[slot] = nsSince(t0) / rounds;
    };
    // The fast path: shared FUTEX_WAIT / FUTEX_WAKE.
    run(R.pingFutex, ping, (v) => os.sys.futex(addr(ping), FUTEX_WAIT, v), () => os.sys.futex(addr(ping), FUTEX_WAKE, 1), n);
    // The kernel's wait queue: bitset waits, answered by the kernel's thread.
    run(R.pingKernel, kping, (v) => os.sys.futex(addr(kping), FUTEX_WAIT_BITSET, v, null, 0, 1),
      () => os.sys.futex(addr(kping), FUTEX_WAKE_BITSET, 1, null, 0, 1), Math.max(1000, n >> 2));
    // Bare Atomics on the same memory: the floor of the fast path.
    run(R.pingAtomics, aping, (v) => Atomics.wait(ctl, aping, v), () => Atomics.notify(ctl, aping, 1), n);
    return;
  }

  if (role === 'syscall') {
    for (let i = 0; i < 2000; i++) os.sys.getpid();
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) os.sys.getpid();
    res[R.getpid] = nsSince(t0) / n;
    // The floor: the same two threads, a bare request / response on a segment word.
    const bare = (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        Atomics.store(ctl, floor, 1);
        Atomics.notify(ctl, floor, 1);
        while (Atomics.load(ctl, floor) === 1) Atomics.wait(ctl, floor, 1);
      }
    };
    bare(2000);
    t0 = process.hrtime.bigint();
    bare(n);
    res[R.floor] = nsSince(t0) / n;
    Atomics.store(ctl, floor, 3);
    Atomics.notify(ctl, floor, 1);
    return;
  }

  if (role === 'copy') {
    const size = 64 * MiB;
    const id = os.shmget(C.IPC_PRIVATE, size, C.IPC_CREAT | 0o600);
    const a = os.shmat(id);
    os.shmRemove(id);
    let t0 = process.hrtime.bigint();
    const view = os.mem.view(a, size);
    res[R.viewSetup] = nsSince(t0) / 1e6;
    const src = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) src[i] = i & 0xff;
    const dst = new Uint8Array(size);
    const gbps = (bytes: number, ns: number) => bytes / ns; // bytes per ns = GB/s
    const time = (fn: () => void, reps: number) => {
      fn();
      const t = process.hrtime.bigint();
      for (let i = 0; i < reps; i++) fn();
      return gbps(size * reps, nsSince(t));
    };
    const reps = Math.max(2, Math.min(10, n));
    res[R.viewWrite] = time(() => view.set(src), reps);
    res[R.viewRead] = time(() => dst.set(view), reps);
    const other = new Uint8Array(size);
    res[R.plainCopy] = time(() => other.set(src), reps);
    t0 = process.hrtime.bigint();
    os.write(a, src);
    res[R.sysWrite] = gbps(size, nsSince(t0));
    t0 = process.hrtime.bigint();
    os.read(a, size);
    res[R.sysRead] = gbps(size, nsSince(t0));
    os.shmdt(a);
    return;
  }
  throw new Error(`unknown role ${role}`);
}


async function run(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const kernel = new Kernel();
  const host = kernel.spawn({ name: 'bench' });
  const id = host.shmget(C.IPC_PRIVATE, 8192, C.IPC_CREAT | 0o600);
  const addr = host.shmat(id);
  const v = viewOf(host, addr, 8192);
  if (typeof v === 'number') throw new Error(`view: ${v}`);
  const ctl = new Int32Array(v.buffer, v.byteOffset, 1024);
  const res = new Float64Array(v.buffer, v.byteOffset + RESULTS, 16);
  const me = new URL(import.meta.url);
  const n = quick ? 5000 : 50000;

  const pp = [
    kernel.spawnWorker(me, { name: 'ping', argv: ['ping', String(id), String(n)] }),
    kernel.spawnWorker(me, { name: 'pong', argv: ['pong', String(id), String(n)] }),
  ];
  for (const e of await Promise.all(pp.map((h) => h.exited))) if (e.code !== 0) throw new Error(`ping-pong: ${JSON.stringify(e)}`);

  const floorDone = serveFloor(ctl, W.floor / 4);
  const sc = kernel.spawnWorker(me, { name: 'syscall', argv: ['syscall', String(id), String(n)] });
  const se = await sc.exited;
  if (se.code !== 0) throw new Error(`syscall: ${JSON.stringify(se)}`);
  await floorDone;

  const cp = kernel.spawnWorker(me, { name: 'copy', argv: ['copy', String(id), String(quick ? 2 : 8)] });
  const ce = await cp.exited;
  if (ce.code !== 0) throw new Error(`copy: ${JSON.stringify(ce)}`);

  const f = (x: number, d = 0) => x.toFixed(d);
  console.log(`worker runtime benchmark (node ${process.version}, ${n} iterations)`);
  console.log('futex ping-pong between two worker processes (one round trip = two wake-ups):');
  console.log(`  futex fast path (FUTEX_WAIT/FUTEX_WAKE)       ${f(res[R.pingFutex]!)} ns/round trip`);
  console.log(`  kernel wait queue (FUTEX_WAIT/WAKE_BITSET)    ${f(res[R.pingKernel]!)} ns/round trip  (${f(res[R.pingKernel]! / res[R.pingFutex]!, 2)}x the fast path)`);
  console.log(`  bare Atomics.wait/notify on the same word     ${f(res[R.pingAtomics]!)} ns/round trip  (fast path = ${f(res[R.pingFutex]! / res[R.pingAtomics]!, 2)}x this)`);
  console.log('system-call round trip (worker -> kernel thread -> worker):');
  console.log(`  getpid                                        ${f(res[R.getpid]!)} ns`);
  console.log(`  floor: bare Atomics.wait / waitAsync reply    ${f(res[R.floor]!)} ns  (getpid = ${f(res[R.getpid]! / res[R.floor]!, 2)}x the floor)`);
  console.log('copy bandwidth, 64 MiB:');
  console.log(`  view setup (validate + populate 16384 pages)  ${f(res[R.viewSetup]!, 1)} ms`);
  console.log(`  into a view (view.set(src))                   ${f(res[R.viewWrite]!, 2)} GB/s`);
  console.log(`  out of a view (dst.set(view))                 ${f(res[R.viewRead]!, 2)} GB/s`);
  console.log(`  private ArrayBuffer to ArrayBuffer            ${f(res[R.plainCopy]!, 2)} GB/s  (view write = ${f(res[R.viewWrite]! / res[R.plainCopy]!, 2)}x this)`);
  console.log(`  os.sys.write through the channel (1 MiB)      ${f(res[R.sysWrite]!, 2)} GB/s  (view = ${f(res[R.viewWrite]! / res[R.sysWrite]!, 1)}x this)`);
  console.log(`  os.sys.read through the channel (1 MiB)       ${f(res[R.sysRead]!, 2)} GB/s  (view = ${f(res[R.viewRead]! / res[R.sysRead]!, 1)}x this)`);

  host.shmdt(addr);
  host.shmRemove(id);
  kernel.shutdown();
  await kernel.shutdownWorkers();
  if (kernel.allocator.allocatedPages !== 0) throw new Error(`leak: ${kernel.allocator.allocatedPages} pages`);
}

if (isMainThread && process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await run();
}
