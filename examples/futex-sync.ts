/**
 * A process-shared mutex and condition variable built on futexes, for worker
 * processes of the sysvshm runtime (the way glibc builds
 * PTHREAD_PROCESS_SHARED ones, in miniature).
 *
 * The mutex is the classic one of Ulrich Drepper, "Futexes Are Tricky"
 * (mutex #3): the word is 0 unlocked, 1 locked, 2 locked with (possible)
 * waiters; an uncontended lock and unlock are one atomic instruction each
 * and never enter the kernel. The condition variable is a sequence counter:
 * a waiter samples it, unlocks, sleeps while it is unchanged; signal and
 * broadcast bump it and wake one / all.
 *
 * Both live in a shared mapping (a SysV segment or shared anonymous memory)
 * and use shared futexes (no FUTEX_PRIVATE_FLAG), so processes that attach
 * the segment at different addresses still meet: the futex key is the
 * segment's page and offset, not the address.
 */

/** What these primitives need of a guest's `os` (GuestOs has it). */
export interface FutexOs {
  mem: { viewInt32(addr: number, length: number): Int32Array };
  futexWait(addr: number, val: number, timeoutMs?: number): 'ok' | 'not-equal' | 'timed-out';
  futexWake(addr: number, n?: number): number;
}

const INT_MAX = 0x7fffffff;

/** A futex mutex at `addr` (a 4-byte aligned word of shared memory, initially 0). */
export class Mutex {
  private readonly w: Int32Array;

  constructor(private readonly os: FutexOs, readonly addr: number) {
    this.w = os.mem.viewInt32(addr, 1);
  }

  /** Takes the mutex, sleeping in FUTEX_WAIT while another process holds it. */
  lock(): void {
    // c = cmpxchg(val, 0, 1): the uncontended case stays in user space.
    let c = Atomics.compareExchange(this.w, 0, 0, 1);
    if (c === 0) return;
    // Mark it contended (2) so that the holder's unlock wakes someone.
    if (c !== 2) c = Atomics.exchange(this.w, 0, 2);
    while (c !== 0) {
      this.os.futexWait(this.addr, 2);
      c = Atomics.exchange(this.w, 0, 2);
    }
  }

  /** Takes the mutex as a contended one (after a condition wait: others may sleep on it). */
  lockContended(): void {
    let c = Atomics.exchange(this.w, 0, 2);
    while (c !== 0) {
      this.os.futexWait(this.addr, 2);
      c = Atomics.exchange(this.w, 0, 2);
    }
  }

  /** Takes the mutex if it is free. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.w, 0, 0, 1) === 0;
  }

  /** Releases the mutex; wakes one sleeper if there may be any. */
  unlock(): void {
    // atomic_dec(val) != 1: it was 2, someone may sleep.
    if (Atomics.sub(this.w, 0, 1) !== 1) {
      Atomics.store(this.w, 0, 0);
      this.os.futexWake(this.addr, 1);
    }
  }

  /** Runs fn with the mutex held. */
  with<T>(fn: () => T): T {
    this.lock();
    try {
      return fn();
    } finally {
      this.unlock();
    }
  }
}

/** A futex condition variable at `addr` (a 4-byte aligned word of shared memory, initially 0). */
export class CondVar {
  private readonly seq: Int32Array;

  constructor(private readonly os: FutexOs, readonly addr: number) {
    this.seq = os.mem.viewInt32(addr, 1);
  }

  /**
   * Atomically releases `m` and sleeps until signalled (or timeoutMs
   * passes: then 'timed-out'); holds `m` again on return. As with
   * pthread_cond_wait, wake-ups may be spurious: wait in a loop on the
   * predicate.
   */
  wait(m: Mutex, timeoutMs?: number): 'ok' | 'timed-out' {
    const s = Atomics.load(this.seq, 0);
    m.unlock();
    // A signal between the unlock and the wait changed seq: FUTEX_WAIT returns at once (EAGAIN).
    const r = this.os.futexWait(this.addr, s, timeoutMs);
    m.lockContended();
    return r === 'timed-out' ? 'timed-out' : 'ok';
  }

  /** Wakes one waiter. */
  signal(): void {
    Atomics.add(this.seq, 0, 1);
    this.os.futexWake(this.addr, 1);
  }

  /** Wakes every waiter. */
  broadcast(): void {
    Atomics.add(this.seq, 0, 1);
    this.os.futexWake(this.addr, INT_MAX);
  }
}
