/**
 * The bounded, adaptive spin of a guest's shared FUTEX_WAIT before it sleeps
 * in Atomics.wait (guest.ts).
 *
 * Why: V8's Atomics.wait parks the thread on a condition variable under one
 * process-wide mutex (FutexEmulation), so a sleep and its wake-up cost more
 * than the native futex they are built on; when the waker runs on another
 * CPU and answers within a few microseconds, re-reading the word is much
 * cheaper than parking.
 *
 * Why it is Linux: futex_wait() compares the word with `val` once, in
 * futex_wait_setup() under the hash bucket's lock, and returns -EAGAIN when
 * they differ; nothing bounds how late after the system call's entry that
 * happens (the task may be preempted first). A spin that sees the word
 * differ returns -EAGAIN: the check simply happened at that moment. Until
 * the spin ends the waiter is not queued, as a Linux task is not before
 * futex_wait_setup(): a FUTEX_WAKE meanwhile does not count it (it returns
 * how many it woke), and a wake that does not change the word is not seen -
 * the same race every futex user already handles by changing the word
 * before waking. After the spin the wait is the plain Atomics.wait, which
 * compares again atomically with its queuing, so a wake after the spin still
 * wakes. Linux's own spinning (mutex_spin_on_owner, glibc's
 * PTHREAD_MUTEX_ADAPTIVE_NP) is likewise bounded and used only with more
 * than one CPU.
 */
import { availableParallelism } from 'node:os';

/**
 * The guest environment variable that fixes the spin budget in ns (0: never
 * spin; no adaptation), like a glibc tunable (glibc.pthread.mutex_spin_count).
 */
export const SPIN_ENV = 'SYSVSHM_FUTEX_SPIN_NS';
/**
 * The first budget of a word: long enough for a waker that is running on
 * another CPU to answer (a store and an Atomics.notify take well under a
 * microsecond), short against a park and wake-up of Atomics.wait.
 */
export const DEFAULT_SPIN_NS = 4_000;
/**
 * What a word's budget may grow to. A waiter whose partner was itself
 * asleep sees the word change only after that partner's wake-up, and
 * Atomics.wait wakes a thread in about 9 us (90th percentile 11-13 us,
 * measured on the 2-CPU machine of docs/perf.md, whether or not the waker
 * spins meanwhile). With a budget below that, two processes handing a word
 * back and forth each spin, miss and sleep, for ever (4 us stayed at 2x
 * native); growing to cover one wake-up lets them settle into handing off
 * without sleeping.
 */
export const MAX_SPIN_NS = 20_000;
/**
 * A waiter woken within this many times the maximum budget after its spin
 * began had a near miss: the maximum spin plus its own wake-up, so a longer
 * spin (up to the maximum) could have caught the change.
 */
export const NEAR_MISS_FACTOR = 2;
/** Upper bound of a configured budget (1 s): a bad value must not turn a wait into a busy loop. */
export const MAX_SETTING_NS = 1_000_000_000;
/** After k spins in a row that were real misses, the next 2^k - 1 waits (k <= this) do not spin. */
export const MAX_BACKOFF_SHIFT = 6;
/** Word reads between two looks at the clock. */
const CHUNK = 32;

/** A budget in ns: where a word starts and how far it may grow (both 0: no spin). */
export interface SpinBudget { readonly initialNs: number; readonly maxNs: number }

/**
 * The spin budget of a guest: the environment's SYSVSHM_FUTEX_SPIN_NS when
 * it is a number >= 0 (fixed: initial = max, clamped to MAX_SETTING_NS);
 * else, with more than one CPU, DEFAULT_SPIN_NS growing up to MAX_SPIN_NS,
 * and with one CPU none: a waiter spinning on the only CPU would only delay
 * the waker it waits for.
 */
export function spinBudget(cpus: number, setting: string | undefined): SpinBudget {
  if (setting !== undefined && setting.trim() !== '') {
    const n = Number(setting);
    if (Number.isFinite(n) && n >= 0) {
      const ns = Math.min(Math.floor(n), MAX_SETTING_NS);
      return { initialNs: ns, maxNs: ns };
    }
  }
  return cpus > 1 ? { initialNs: DEFAULT_SPIN_NS, maxNs: MAX_SPIN_NS } : { initialNs: 0, maxNs: 0 };
}

/** The budget of this guest, from its environment ("K=V" strings). */
export function guestSpinBudget(env: readonly string[]): SpinBudget {
  const prefix = `${SPIN_ENV}=`;
  const kv = env.find((e) => e.startsWith(prefix));
  return spinBudget(availableParallelism(), kv?.slice(prefix.length));
}

/**
 * Re-reads `i32[index]` until it differs from `val` (true) or
 * performance.now() reaches `limitMs` (false). At least one read is made.
 * JavaScript has no pause instruction here (Atomics.pause is newer than
 * Node 20); the clock call every CHUNK reads is the back-off.
 */
export function spinWhileEqual(i32: Int32Array, index: number, val: number, limitMs: number): boolean {
  for (;;) {
    for (let k = 0; k < CHUNK; k++) if (Atomics.load(i32, index) !== val) return true;
    if (performance.now() >= limitMs) return false;
  }
}

/**
 * The adaptive part, per futex word of a process (the word's use decides:
 * a hand-off word and a long-wait word behave differently).
 *
 * - A hit: the spin saw the word change; it cost only the time until then.
 * - A near miss: the budget is below its maximum and the waiter slept and
 *   was woken within NEAR_MISS_FACTOR x the maximum after its spin began: a
 *   hand-off a longer spin could have caught. The budget doubles (up to the
 *   maximum); no back-off.
 * - A real miss: any other miss (woken later, timed out, or missed with the
 *   full budget). The spin was wasted CPU, so after k of them in a row the
 *   next 2^k - 1 waits on the word sleep at once (k <= MAX_BACKOFF_SHIFT:
 *   one wait in 64 still probes); a hit resets the count. The budget stays:
 *   a word whose waits are long spins little, and rarely. A miss with the
 *   full budget counts as real because then the partner could not answer
 *   within it - typically its CPU is taken by other work, and a waiter that
 *   keeps spinning only keeps another CPU from it (measured with one
 *   CPU-bound process beside the ping-pong: 14.6 us per round trip when
 *   such misses did not back off, 9.7 us when they do, 9.0 us without any
 *   spin).
 */
export class SpinState {
  private budgetMs: number;
  private readonly maxMs: number;
  private misses = 0;
  private skip = 0;

  constructor(budget: SpinBudget) {
    this.budgetMs = budget.initialNs / 1e6;
    this.maxMs = budget.maxNs / 1e6;
  }

  /** The spin of this wait in ms (0: sleep at once); counts down the waits to skip. */
  next(): number {
    if (this.skip === 0) return this.budgetMs;
    this.skip--;
    return 0;
  }

  /** The word changed during the spin (or at the check right after it). */
  hit(): void {
    this.misses = 0;
  }

  /** The spin ended and the waiter slept; `wokenAfterMs`: from the spin's start to the wake-up, null if it timed out. */
  miss(wokenAfterMs: number | null): void {
    if (wokenAfterMs !== null && wokenAfterMs <= NEAR_MISS_FACTOR * this.maxMs && this.budgetMs < this.maxMs) {
      this.budgetMs = Math.min(this.maxMs, this.budgetMs * 2);
      return;
    }
    if (this.misses < MAX_BACKOFF_SHIFT) this.misses++;
    this.skip = (1 << this.misses) - 1;
  }

  /** The current budget in ms (for tests). */
  get currentMs(): number {
    return this.budgetMs;
  }

  /** Waits left that will not spin (for tests). */
  get skipping(): number {
    return this.skip;
  }
}

