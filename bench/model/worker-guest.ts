/**
 * The guest program of the worker-runtime rows (bench/model/worker.ts runs
 * it with kernel.spawnWorker): argv = [role, control shmid].
 *
 * The control segment (8 KiB, attached by every party) holds, as Int32
 * words: CMD (a sequence number the host bumps to start a run), N (the
 * operations of the run; -1 ends the program), DONE (the last sequence
 * number finished, per role), the futex word of the ping-pong and the word
 * of the bare request/response floor; and, as Float64 slots, the results.
 *
 * Roles:
 *  - ping / pong: N round trips of FUTEX_WAIT / FUTEX_WAKE on the futex word
 *    (ping sets it to 1 and wakes, waits while 1; pong waits while 0, sets
 *    0 and wakes) - the same loop as the native benchmark's processes; with
 *    W.mode = MODE.atomics the same loop with bare Atomics.wait/notify on
 *    the word (no futex layer: the floor of the fast path);
 *  - syscall: N getpid() round trips to the kernel's thread, then N bare
 *    Atomics.wait requests answered by the kernel's thread with
 *    Atomics.waitAsync (the floor: the same two threads, no decoding, no
 *    dispatch).
 *
 * The control handshake uses bare Atomics on the view; it is not timed.
 */
import type { GuestOs } from '../../src/index.js';

export const W = { cmd: 0, n: 1, donePing: 2, doneSyscall: 3, mode: 4, futex: 16, floor: 32 } as const;
/** W.mode of a ping-pong run: through futex(2), or bare Atomics.wait/notify on the same word (the floor). */
export const MODE = { futex: 0, atomics: 1 } as const;
export const RES = { ping: 0, getpid: 1, floor: 2 } as const;
/** Byte offset of the Float64 results. */
export const RES_OFFSET = 512;
export const CTL_BYTES = 8192;
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;

function nsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0);
}

export default function main(os: GuestOs): void {
  const [role, idArg] = os.argv;
  const base = os.shmat(Number(idArg));
  const ctl = os.mem.viewInt32(base, CTL_BYTES / 4);
  const res = new Float64Array(ctl.buffer, ctl.byteOffset + RES_OFFSET, 8);
  const futexAddr = base + W.futex * 4;
  let seq = 0;
  for (;;) {
    // Wait for the next command.
    while (Atomics.load(ctl, W.cmd) === seq) Atomics.wait(ctl, W.cmd, seq);
    seq = Atomics.load(ctl, W.cmd);
    const n = Atomics.load(ctl, W.n);
    if (n < 0) break;
    const bare = Atomics.load(ctl, W.mode) === MODE.atomics;
    if (role === 'ping' && bare) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        Atomics.store(ctl, W.futex, 1);
        Atomics.notify(ctl, W.futex, 1);
        while (Atomics.load(ctl, W.futex) === 1) Atomics.wait(ctl, W.futex, 1);
      }
      res[RES.ping] = nsSince(t0) / n;
      Atomics.store(ctl, W.donePing, seq);
      Atomics.notify(ctl, W.donePing);
    } else if (role === 'pong' && bare) {
      for (let i = 0; i < n; i++) {
        while (Atomics.load(ctl, W.futex) === 0) Atomics.wait(ctl, W.futex, 0);
        Atomics.store(ctl, W.futex, 0);
        Atomics.notify(ctl, W.futex, 1);
      }
    } else if (role === 'ping') {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        Atomics.store(ctl, W.futex, 1);
        os.sys.futex(futexAddr, FUTEX_WAKE, 1);
        while (Atomics.load(ctl, W.futex) === 1) os.sys.futex(futexAddr, FUTEX_WAIT, 1);
      }
      res[RES.ping] = nsSince(t0) / n;
      Atomics.store(ctl, W.donePing, seq);
      Atomics.notify(ctl, W.donePing);
    } else if (role === 'pong') {
      for (let i = 0; i < n; i++) {
        while (Atomics.load(ctl, W.futex) === 0) os.sys.futex(futexAddr, FUTEX_WAIT, 0);
        Atomics.store(ctl, W.futex, 0);
        os.sys.futex(futexAddr, FUTEX_WAKE, 1);
      }
    } else if (role === 'syscall') {
      let t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) os.sys.getpid();
      res[RES.getpid] = nsSince(t0) / n;
      t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        Atomics.store(ctl, W.floor, 1);
        Atomics.notify(ctl, W.floor, 1);
        while (Atomics.load(ctl, W.floor) === 1) Atomics.wait(ctl, W.floor, 1);
      }
      res[RES.floor] = nsSince(t0) / n;
      Atomics.store(ctl, W.floor, 3); // ends the kernel thread's floor server
      Atomics.notify(ctl, W.floor, 1);
      Atomics.store(ctl, W.doneSyscall, seq);
      Atomics.notify(ctl, W.doneSyscall);
    } else {
      throw new Error(`unknown role ${role}`);
    }
  }
  os.shmdt(base);
}
