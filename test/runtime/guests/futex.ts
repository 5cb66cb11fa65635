/**
 * Guest: futex scenarios. argv: [mode, shmid, index, ...]
 */
import type { GuestOs } from '../../../src/runtime/guest.js';
import { Errno } from '../../../src/abi/errno.js';
import {
  FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_WAIT, FUTEX_WAIT_BITSET,
  FUTEX_WAIT_PRIVATE, FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_PRIVATE,
} from '../../../src/runtime/futex-abi.js';
import { assertEq, attachSpread, control, sleep, W } from '../guest-util.js';

const MS = 1_000_000;

export default function main(os: GuestOs): void {
  const [mode, id, index, ...rest] = os.argv;
  const base = attachSpread(os, Number(id), Number(index));
  const c = control(os, base);
  const fw = base + W.futex;

  switch (mode) {
    case 'waiter': {
      // A fast-path waiter: FUTEX_WAIT on the word, woken by another process.
      c.add(W.ready, 1);
      const r = os.futexWait(fw, 0, 10_000);
      assertEq(r, 'ok', 'waiter woken');
      c.add(W.woken, 1);
      return;
    }
    case 'waker': {
      const m = Number(rest[0]);
      const n = Number(rest[1]);
      c.waitAtLeast(W.ready, m);
      sleep(50); // let the last waiter reach Atomics.wait
      assertEq(os.futexWake(fw, n), n, `FUTEX_WAKE ${n} of ${m}`);
      c.waitAtLeast(W.woken, n);
      sleep(50);
      assertEq(c.load(W.woken), n, 'only n woke');
      assertEq(os.futexWake(fw, 100), m - n, 'the rest');
      c.waitAtLeast(W.woken, m);
      assertEq(os.futexWake(fw, 100), 0, 'nobody left');
      return;
    }
    case 'bitwaiter': {
      // A kernel-queued waiter (bitset) or, with bitset 'any', a fast-path one.
      const bits = rest[0] === 'any' ? FUTEX_BITSET_MATCH_ANY : Number(rest[0]);
      c.add(W.ready, 1);
      const r = os.sys.futex(fw, FUTEX_WAIT_BITSET, 0, null, 0, bits);
      assertEq(r, 0, `bitset ${bits.toString(2)} waiter woken`);
      Atomics.or(c.i32, W.bits >> 2, bits === FUTEX_BITSET_MATCH_ANY ? 0x100 : bits);
      c.add(W.woken, 1);
      return;
    }
    case 'bitwaker': {
      c.waitAtLeast(W.ready, 3);
      sleep(50);
      // Wakes the MATCH_ANY waiter (any bitset meets it) and the 0b10 one, not the 0b01 one.
      assertEq(os.sys.futex(fw, FUTEX_WAKE_BITSET, 10, null, 0, 0b10), 2, 'FUTEX_WAKE_BITSET 0b10');
      c.waitAtLeast(W.woken, 2);
      sleep(30);
      assertEq(c.load(W.bits), 0x102, 'woken: MATCH_ANY and 0b10');
      assertEq(os.sys.futex(fw, FUTEX_WAKE_BITSET, 10, null, 0, 0b100), 0, 'no waiter has 0b100');
      assertEq(os.sys.futex(fw, FUTEX_WAKE_BITSET, 10, null, 0, 0b01), 1, 'FUTEX_WAKE_BITSET 0b01');
      c.waitAtLeast(W.woken, 3);
      return;
    }
    case 'kernelwaiter': {
      // A bitset waiter woken by a plain FUTEX_WAKE (the guest's fast path must ask the kernel).
      c.add(W.ready, 1);
      assertEq(os.sys.futex(fw, FUTEX_WAIT_BITSET, 0, null, 0, 1), 0, 'bitset waiter woken by FUTEX_WAKE');
      c.add(W.woken, 1);
      return;
    }
    case 'kernelwaker': {
      c.waitAtLeast(W.ready, 1);
      sleep(30);
      assertEq(os.futexWake(fw, 1), 1, 'FUTEX_WAKE reaches a kernel-queued waiter');
      c.waitAtLeast(W.woken, 1);
      return;
    }
    case 'privwaiter': {
      // A private futex: never met by another process's wake.
      c.add(W.ready, 1);
      const t0 = Date.now();
      assertEq(os.sys.futex(fw, FUTEX_WAIT_PRIVATE, 0, 300 * MS), -Errno.ETIMEDOUT, 'private wait times out');
      if (Date.now() - t0 < 295) throw new Error(`private wait returned after ${Date.now() - t0} ms`);
      c.add(W.woken, 1);
      return;
    }
    case 'privwaker': {
      c.waitAtLeast(W.ready, 1);
      sleep(50);
      assertEq(os.sys.futex(fw, FUTEX_WAKE_PRIVATE, 1), 0, 'a private wake of another process\'s private waiter');
      assertEq(os.sys.futex(fw, FUTEX_WAKE, 1), 0, 'a shared wake of a private waiter');
      return;
    }
    case 'sharedwaiter': {
      c.add(W.ready, 1);
      assertEq(os.futexWait(fw, 0, 10_000), 'ok', 'shared waiter woken by the shared wake');
      c.add(W.woken, 1);
      return;
    }
    case 'sharedwaker': {
      c.waitAtLeast(W.ready, 1);
      sleep(50);
      assertEq(os.sys.futex(fw, FUTEX_WAKE_PRIVATE, 1), 0, 'a private wake of a shared waiter');
      assertEq(os.sys.futex(fw, FUTEX_WAKE, 1), 1, 'the shared wake');
      c.waitAtLeast(W.woken, 1);
      return;
    }
    // --- the spin before Atomics.wait (src/runtime/futex-spin.ts) ---------------
    case 'spinwaiter': {
      // Spawned with a 1 s spin budget: the word changes during the spin, nobody wakes.
      c.add(W.ready, 1);
      const [r, ms] = elapsed(() => os.sys.futex(fw, FUTEX_WAIT, 0, 5_000 * MS));
      assertEq(r, -Errno.EAGAIN, 'a change during the spin is EAGAIN (futex_wait_setup\'s check, made then)');
      if (ms > 900) throw new Error(`the spinning waiter returned after ${ms.toFixed(1)} ms`);
      c.add(W.woken, 1);
      return;
    }
    case 'spinchanger': {
      c.waitAtLeast(W.ready, 1);
      sleep(100); // the waiter spins (1 s)
      // Not queued yet, as a Linux task before futex_wait_setup(): the wake counts nobody.
      assertEq(os.futexWake(fw, 1), 0, 'FUTEX_WAKE of a spinning waiter');
      Atomics.store(c.i32, W.futex >> 2, 1); // and no wake
      c.waitAtLeast(W.woken, 1);
      return;
    }
    case 'spinsleeper': {
      // Spawned with a 20 ms spin budget: sleeps after it; the word never changes.
      c.add(W.ready, 1);
      const [r, ms] = elapsed(() => os.sys.futex(fw, FUTEX_WAIT, 0, 5_000 * MS));
      assertEq(r, 0, 'a wake after the spin wakes');
      atLeast(ms, 150, 'the sleeper');
      c.add(W.woken, 1);
      return;
    }
    case 'spinwaker': {
      c.waitAtLeast(W.ready, 1);
      sleep(200); // past the waiter's 20 ms spin: it sleeps in Atomics.wait
      assertEq(os.futexWake(fw, 1), 1, 'FUTEX_WAKE counts the sleeper');
      c.waitAtLeast(W.woken, 1);
      return;
    }
    case 'spintimeouts': {
      // Spawned with a 1 s spin budget: no spin outlasts the timeout, a zero timeout does not spin.
      const f = os.sys;
      let [r, ms] = elapsed(() => f.futex(fw, FUTEX_WAIT, 0, 0));
      assertEq(r, -Errno.ETIMEDOUT, 'timeout 0');
      if (ms > 100) throw new Error(`timeout 0 returned after ${ms.toFixed(1)} ms: it spun`);
      [r, ms] = elapsed(() => f.futex(fw, FUTEX_WAIT_BITSET, 0, 1n, 0, FUTEX_BITSET_MATCH_ANY));
      assertEq(r, -Errno.ETIMEDOUT, 'a past deadline');
      if (ms > 100) throw new Error(`a past deadline returned after ${ms.toFixed(1)} ms: it spun`);
      [r, ms] = elapsed(() => f.futex(fw, FUTEX_WAIT, 0, 30 * MS));
      assertEq(r, -Errno.ETIMEDOUT, 'a 30 ms timeout');
      atLeast(ms, 29.9, 'a 30 ms timeout');
      if (ms > 500) throw new Error(`a 30 ms timeout returned after ${ms.toFixed(1)} ms: the spin outlasted it`);
      // Another word: the timed-out spin above makes the next wait on fw skip its spin (a real miss).
      const fw2 = base + W.flag;
      [r, ms] = elapsed(() => f.futex(fw2, FUTEX_WAIT_BITSET, 0, os.monotonicNs() + 30n * 1_000_000n, 0, FUTEX_BITSET_MATCH_ANY));
      assertEq(r, -Errno.ETIMEDOUT, 'a deadline 30 ms away');
      atLeast(ms, 29.9, 'a deadline 30 ms away');
      if (ms > 500) throw new Error(`a deadline 30 ms away returned after ${ms.toFixed(1)} ms`);
      [r, ms] = elapsed(() => f.futex(fw, FUTEX_WAIT, 1));
      assertEq(r, -Errno.EAGAIN, 'a different value: EAGAIN at once');
      if (ms > 100) throw new Error(`EAGAIN after ${ms.toFixed(1)} ms`);
      return;
    }
    case 'pingpong': {
      // Hand-offs through FUTEX_WAIT/FUTEX_WAKE with the default spin: no wake-up is lost.
      const rounds = Number(rest[0]);
      const ping = index === '1';
      const wi = W.futex >> 2;
      for (let i = 0; i < rounds; i++) {
        if (ping) {
          Atomics.store(c.i32, wi, 1);
          os.sys.futex(fw, FUTEX_WAKE, 1);
          while (Atomics.load(c.i32, wi) === 1) assertOk(os.sys.futex(fw, FUTEX_WAIT, 1, 10_000 * MS));
        } else {
          while (Atomics.load(c.i32, wi) === 0) assertOk(os.sys.futex(fw, FUTEX_WAIT, 0, 10_000 * MS));
          Atomics.store(c.i32, wi, 0);
          os.sys.futex(fw, FUTEX_WAKE, 1);
          Atomics.add(c.i32, W.counter >> 2, 1);
        }
      }
      return;
    }
    case 'errors': {
      errors(os, base);
      return;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

/** A FUTEX_WAIT of the ping-pong: woken or EAGAIN, never a timeout (a lost wake-up). */
function assertOk(r: number): void {
  if (r !== 0 && r !== -Errno.EAGAIN) throw new Error(`FUTEX_WAIT returned ${r}`);
}

function elapsed(fn: () => number): [number, number] {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t0) / MS];
}

function atLeast(ms: number, min: number, what: string): void {
  if (ms < min) throw new Error(`${what}: returned after ${ms.toFixed(2)} ms, before the ${min} ms timeout`);
}

/** Timeouts, EAGAIN and the error cases, in one process. */
function errors(os: GuestOs, base: number): void {
  const fw = base + W.futex;
  const f = os.sys;
  // EAGAIN: *addr != val, fast path and kernel path.
  assertEq(f.futex(fw, FUTEX_WAIT, 1), -Errno.EAGAIN, 'FUTEX_WAIT EAGAIN');
  assertEq(os.futexWait(fw, 1), 'not-equal', 'futexWait not-equal');
  assertEq(f.futex(fw, FUTEX_WAIT_BITSET, 1, null, 0, 1), -Errno.EAGAIN, 'FUTEX_WAIT_BITSET (kernel) EAGAIN');
  assertEq(f.futex(fw, FUTEX_WAIT_PRIVATE, 1), -Errno.EAGAIN, 'FUTEX_WAIT_PRIVATE EAGAIN');
  // ETIMEDOUT, relative.
  let [r, ms] = elapsed(() => f.futex(fw, FUTEX_WAIT, 0, 40 * MS));
  assertEq(r, -Errno.ETIMEDOUT, 'FUTEX_WAIT ETIMEDOUT');
  atLeast(ms, 39.9, 'FUTEX_WAIT');
  assertEq(os.futexWait(fw, 0, 5), 'timed-out', 'futexWait timed-out');
  assertEq(f.futex(fw, FUTEX_WAIT, 0, 0), -Errno.ETIMEDOUT, 'a zero timeout');
  // ETIMEDOUT, absolute CLOCK_MONOTONIC (fast path with MATCH_ANY, kernel path with a bitset).
  [r, ms] = elapsed(() => f.futex(fw, FUTEX_WAIT_BITSET, 0, os.monotonicNs() + 40n * 1_000_000n, 0, FUTEX_BITSET_MATCH_ANY));
  assertEq(r, -Errno.ETIMEDOUT, 'FUTEX_WAIT_BITSET MATCH_ANY ETIMEDOUT');
  atLeast(ms, 39.9, 'FUTEX_WAIT_BITSET MATCH_ANY');
  [r, ms] = elapsed(() => f.futex(fw, FUTEX_WAIT_BITSET, 0, os.monotonicNs() + 40n * 1_000_000n, 0, 0b1));
  assertEq(r, -Errno.ETIMEDOUT, 'FUTEX_WAIT_BITSET (kernel) ETIMEDOUT');
  atLeast(ms, 39.9, 'FUTEX_WAIT_BITSET (kernel)');
  [r, ms] = elapsed(() => f.futex(fw, FUTEX_WAIT_PRIVATE, 0, 20 * MS));
  assertEq(r, -Errno.ETIMEDOUT, 'FUTEX_WAIT_PRIVATE ETIMEDOUT');
  atLeast(ms, 19.9, 'FUTEX_WAIT_PRIVATE');
  // A deadline already past: at once.
  assertEq(f.futex(fw, FUTEX_WAIT_BITSET, 0, 1n, 0, 1), -Errno.ETIMEDOUT, 'a past deadline (kernel)');
  assertEq(f.futex(fw, FUTEX_WAIT_BITSET, 0, 1n, 0, FUTEX_BITSET_MATCH_ANY), -Errno.ETIMEDOUT, 'a past deadline (fast)');
  // CLOCK_REALTIME deadline.
  const now = BigInt(Date.now()) * 1_000_000n;
  [r, ms] = elapsed(() => f.futex(fw, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, now + 30n * 1_000_000n, 0, 1));
  assertEq(r, -Errno.ETIMEDOUT, 'FUTEX_CLOCK_REALTIME ETIMEDOUT');
  atLeast(ms, 25, 'FUTEX_CLOCK_REALTIME'); // Date.now() has millisecond resolution
  // EINVAL: a negative time, an unaligned address, an empty bitset.
  assertEq(f.futex(fw, FUTEX_WAIT, 0, -1), -Errno.EINVAL, 'negative timeout');
  assertEq(f.futex(fw + 2, FUTEX_WAIT, 0), -Errno.EINVAL, 'unaligned FUTEX_WAIT');
  assertEq(f.futex(fw + 1, FUTEX_WAKE, 1), -Errno.EINVAL, 'unaligned FUTEX_WAKE');
  assertEq(f.futex(fw + 2, FUTEX_WAIT_PRIVATE, 0), -Errno.EINVAL, 'unaligned private FUTEX_WAIT');
  assertEq(f.futex(fw, FUTEX_WAIT_BITSET, 0, null, 0, 0), -Errno.EINVAL, 'FUTEX_WAIT_BITSET bitset 0');
  assertEq(f.futex(fw, FUTEX_WAKE_BITSET, 1, null, 0, 0), -Errno.EINVAL, 'FUTEX_WAKE_BITSET bitset 0');
  // EFAULT: unmapped.
  const unmapped = 0x1000;
  assertEq(f.futex(unmapped, FUTEX_WAIT, 0), -Errno.EFAULT, 'FUTEX_WAIT unmapped');
  assertEq(f.futex(unmapped, FUTEX_WAKE, 1), -Errno.EFAULT, 'FUTEX_WAKE unmapped');
  assertEq(f.futex(unmapped, FUTEX_WAIT_PRIVATE, 0), -Errno.EFAULT, 'FUTEX_WAIT_PRIVATE unmapped');
  // A private key touches no memory: waking one at an unmapped address wakes nobody.
  assertEq(f.futex(unmapped, FUTEX_WAKE_PRIVATE, 1), 0, 'FUTEX_WAKE_PRIVATE unmapped');
  // ENOSYS: FUTEX_CLOCK_REALTIME with FUTEX_WAIT; commands not modelled.
  assertEq(f.futex(fw, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0), -Errno.ENOSYS, 'FUTEX_WAIT|FUTEX_CLOCK_REALTIME');
  assertEq(f.futex(fw, FUTEX_REQUEUE, 1, 1, fw + 4), -Errno.ENOSYS, 'FUTEX_REQUEUE');
  // FUTEX_WAKE without waiters.
  assertEq(f.futex(fw, FUTEX_WAKE, 1), 0, 'no waiters');
  assertEq(f.futex(fw, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1), 0, 'no private waiters');
  // Typed layer errors are SysErrors.
  let code = '';
  try { os.futexWait(fw + 2, 0); } catch (e) { code = (e as { code: string }).code; }
  assertEq(code, 'EINVAL', 'futexWait throws SysError');
  // A word in private memory: served by the kernel, keyed by (mm, address).
  const priv = os.mmapPrivate(4096);
  [r, ms] = elapsed(() => f.futex(priv, FUTEX_WAIT, 0, 20 * MS));
  assertEq(r, -Errno.ETIMEDOUT, 'FUTEX_WAIT in private memory');
  atLeast(ms, 19.9, 'FUTEX_WAIT in private memory');
  os.write(priv, new Uint8Array([7, 0, 0, 0]));
  assertEq(f.futex(priv, FUTEX_WAIT, 0), -Errno.EAGAIN, 'private memory value');
  assertEq(f.futex(priv, FUTEX_WAKE, 1), 0, 'FUTEX_WAKE in private memory');
  // After munmap the cached location is gone: EFAULT.
  const anon = os.mmap(0, 4096);
  assertEq(f.futex(anon, FUTEX_WAKE, 1), 0, 'shared anonymous word');
  os.munmap(anon, 4096);
  assertEq(f.futex(anon, FUTEX_WAKE, 1), -Errno.EFAULT, 'FUTEX_WAKE after munmap');
  assertEq(f.futex(anon, FUTEX_WAIT, 0), -Errno.EFAULT, 'FUTEX_WAIT after munmap');
}
