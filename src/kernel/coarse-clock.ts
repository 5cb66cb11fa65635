/**
 * The kernel's default wall clock, ktime_get_real_seconds(): whole seconds
 * since the epoch, as shm_atim, shm_dtim and shm_ctim record them.
 *
 * Linux does not read the clock source for this: it returns xtime_sec,
 * which the timekeeping code updates on the timer tick. Reading the host
 * clock costs ~60 ns here (Date.now()), two per shmat + shmdt, so the model
 * does what Linux does: a ticker thread stores the seconds into a shared
 * word when each second begins, and a read is one load of that word. Like
 * xtime, the word lags the true second boundary by the tick's wake-up
 * latency (well under a millisecond on an idle core).
 *
 * The ticker is one worker thread per Node process, started by the first
 * Kernel that uses it (or the first read) and unref'd (it never keeps the
 * process alive); it costs ~10 MiB of RSS once. Where no worker can be
 * started, reads fall back to Date.now().
 * A Kernel given its own `clock` option never starts it.
 */
import { Worker } from 'node:worker_threads';

/** The seconds are stored relative to this base, so they fit an Int32 for 68 years. */
const BASE = Math.floor(Date.now() / 1000);

const TICKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const cell = new Int32Array(workerData.buffer);
for (;;) {
  const ms = Date.now();
  Atomics.store(cell, 0, Math.floor(ms / 1000) - workerData.base);
  // Sleep until just after the next second begins (nothing ever notifies cell[1]).
  Atomics.wait(cell, 1, 0, 1001 - (ms % 1000));
}
`;

/** The seconds of the clock word are relative to this. */
export const COARSE_BASE = BASE;
/** Index of the clock word's stale flag: 1 once the ticker is gone (then read the host clock). */
export const COARSE_STALE = 2;

/**
 * cell[0]: seconds - BASE, written by the ticker; cell[1]: the ticker's
 * sleeping word; cell[COARSE_STALE]: set when the ticker dies.
 */
let cell: Int32Array | null = null;
let unavailable = false;

function startTicker(): Int32Array | null {
  try {
    const buffer = new SharedArrayBuffer(12);
    const c = new Int32Array(buffer);
    // Valid at once: the ticker takes over when its thread is up.
    Atomics.store(c, 0, Math.floor(Date.now() / 1000) - BASE);
    const worker = new Worker(TICKER_SOURCE, { eval: true, workerData: { buffer, base: BASE } });
    worker.unref();
    // A ticker that dies leaves the word stale: fall back to the host clock.
    const dead = (): void => { c[COARSE_STALE] = 1; cell = null; unavailable = true; };
    worker.on('error', dead);
    worker.on('exit', dead);
    return c;
  } catch {
    unavailable = true;
    return null;
  }
}

/**
 * The clock word itself (starting the ticker), or null where no ticker can
 * run: a kernel reads `COARSE_BASE + word[0]` in place while
 * `word[COARSE_STALE]` is 0, which saves the call on the shmat and shmdt
 * paths (two reads per pair).
 */
export function coarseClockWord(): Int32Array | null {
  return cell ?? (unavailable ? null : (cell = startTicker()));
}

/**
 * ktime_get_real_seconds(). A plain read of the word: an aligned Int32
 * element is tear-free in the ECMAScript memory model (it reads the old or
 * the new second, like READ_ONCE of xtime_sec), and Atomics.load costs
 * ~15 ns more here, a third of what the read is for.
 */
export function coarseSeconds(): number {
  const c = cell ?? (unavailable ? null : (cell = startTicker()));
  return c ? BASE + c[0]! : Math.floor(Date.now() / 1000);
}
