/**
 * The kernel's futex wait queues (kernel/futex/core.c futex_hash buckets,
 * futex_queue / futex_unqueue; kernel/futex/waitwake.c futex_wait(),
 * futex_wake()) for the waits that cannot be an Atomics.wait on the word
 * itself: bitset waits (FUTEX_WAIT_BITSET with a bitset other than
 * FUTEX_BITSET_MATCH_ANY), private futexes, and futexes in private memory.
 *
 * Shared futexes in shared file mappings normally never come here: a
 * FUTEX_WAIT is Atomics.wait on the backing word and a FUTEX_WAKE
 * Atomics.notify on it, in the guest (see guest.ts). Waiters of such a key
 * that are queued here (bitset waiters) are counted in `queuedShared`, an
 * Int32 every guest can read, so that a guest's FUTEX_WAKE calls the kernel
 * only when Atomics.notify woke fewer than asked and queued waiters exist.
 */
import { Errno } from '../abi/errno.js';
import type { Process } from '../kernel/process.js';
import type { PageCache } from '../mm/page-cache.js';
import {
  FUTEX_BITSET_MATCH_ANY, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET,
  futexDecode, remainingNs, wakeLimit, type FutexTimeout,
} from './futex-abi.js';
import { int32 } from './protocol.js';
import { futexLocation, IdMap } from './shared-memory.js';

/** A task sleeping in futex_wait_queue(): its channel request is answered when it is woken. */
export interface FutexWaiter {
  readonly key: string;
  readonly bitset: number;
  readonly counted: boolean;
  /** Who waits (the worker's connection): its waits go when it exits. */
  readonly owner: object;
  timer: ReturnType<typeof setTimeout> | null;
  /** Answers the wait: 0 when woken, -ETIMEDOUT. Called exactly once. */
  readonly done: (ret: number) => void;
}

/** The result of a futex call that put the caller to sleep. */
export const PARKED = Symbol('parked');

export class FutexTable {
  /** Waiters per key, in queue order (futex_hash_bucket chains, FIFO within one priority). */
  private readonly queues = new Map<string, Set<FutexWaiter>>();
  private readonly byOwner = new Map<object, Set<FutexWaiter>>();
  /** Shared with every guest: [0] = kernel-queued waiters on shared-file-mapping keys. */
  readonly queuedSharedBuffer = new SharedArrayBuffer(64);
  readonly queuedShared = new Int32Array(this.queuedSharedBuffer, 0, 1);
  readonly cacheIds = new IdMap<PageCache>();

  /** Number of queued waiters. */
  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }

  /** futex_queue(). */
  private enqueue(w: FutexWaiter): void {
    let q = this.queues.get(w.key);
    if (!q) this.queues.set(w.key, (q = new Set()));
    q.add(w);
    let o = this.byOwner.get(w.owner);
    if (!o) this.byOwner.set(w.owner, (o = new Set()));
    o.add(w);
  }

  /** futex_unqueue(): true if it was queued. */
  private unqueue(w: FutexWaiter): boolean {
    const q = this.queues.get(w.key);
    if (!q || !q.delete(w)) return false;
    if (q.size === 0) this.queues.delete(w.key);
    const o = this.byOwner.get(w.owner);
    if (o) {
      o.delete(w);
      if (o.size === 0) this.byOwner.delete(w.owner);
    }
    if (w.counted) Atomics.sub(this.queuedShared, 0, 1);
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    return true;
  }

  /** Drops every wait of `owner` without answering it (the task exited: do_exit). */
  removeOwner(owner: object): void {
    const o = this.byOwner.get(owner);
    if (!o) return;
    for (const w of [...o]) this.unqueue(w);
  }

  /** The queue-side part of futex_wake(): wakes at most `n` waiters of `key` whose bitset meets `bitset`. */
  private wakeQueued(key: string, n: number, bitset: number): number {
    const q = this.queues.get(key);
    if (!q) return 0;
    let woken = 0;
    for (const w of [...q]) {
      if (woken >= n) break;
      // "Check if one of the bits is set in both bitsets"
      if (((w.bitset & bitset) >>> 0) === 0) continue;
      this.unqueue(w);
      woken++;
      w.done(0);
    }
    return woken;
  }

  /**
   * futex(2) on the kernel side for process `p` (do_futex()): FUTEX_WAIT,
   * FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET, each with
   * FUTEX_PRIVATE_FLAG; FUTEX_CLOCK_REALTIME with FUTEX_WAIT_BITSET. A wait
   * that sleeps returns PARKED and answers later through `done`; the other
   * commands (requeue, wake-op, PI) are not modelled: ENOSYS.
   */
  futex(p: Process, owner: object, addr: unknown, op: unknown, val: unknown, timeout: unknown, val3: unknown,
    done: (ret: number) => void): number | typeof PARKED {
    if (typeof op !== 'number' && typeof op !== 'bigint') return -Errno.EINVAL;
    const call = futexDecode(int32(op), timeout as FutexTimeout);
    if (typeof call === 'number') return call;
    const v = int32(val);
    const v3 = (int32(val3) >>> 0);
    switch (call.cmd) {
      case FUTEX_WAIT:
        return this.wait(p, owner, addr, !call.priv, v, call.deadline, false, FUTEX_BITSET_MATCH_ANY, done);
      case FUTEX_WAIT_BITSET:
        return this.wait(p, owner, addr, !call.priv, v, call.deadline, call.realtime, v3, done);
      case FUTEX_WAKE:
        return this.wake(p, addr, !call.priv, v, FUTEX_BITSET_MATCH_ANY);
      case FUTEX_WAKE_BITSET:
        return this.wake(p, addr, !call.priv, v, v3);
      default:
        return -Errno.ENOSYS;
    }
  }

  /**
   * futex_wait(): EINVAL for an empty bitset, then futex_wait_setup() (the
   * key, the value compared with `val`: EAGAIN when it differs), then the
   * sleep, which a deadline already past ends at once (ETIMEDOUT).
   *
   * For a counted key the waiter is published (queuedShared) before the
   * value is read, and a guest's FUTEX_WAKE stores its new value before it
   * reads queuedShared: either the waker sees the waiter and calls the
   * kernel, or the kernel sees the new value (the ordering Linux gets from
   * the hash bucket's waiter count, futex_hb_waiters_inc()).
   */
  private wait(p: Process, owner: object, addr: unknown, shared: boolean, val: number, deadline: bigint | null,
    realtime: boolean, bitset: number, done: (ret: number) => void): number | typeof PARKED {
    if (bitset === 0) return -Errno.EINVAL;
    const loc = futexLocation(p, addr, shared, this.cacheIds);
    if (typeof loc === 'number') return loc;
    if (loc.counted) Atomics.add(this.queuedShared, 0, 1);
    const cur = loc.read();
    const fail = (e: number): number => {
      if (loc.counted) Atomics.sub(this.queuedShared, 0, 1);
      return e;
    };
    if (cur === null) return fail(-Errno.EFAULT);
    if (cur !== val) return fail(-Errno.EAGAIN);
    if (deadline !== null && remainingNs(deadline, realtime) <= 0n) return fail(-Errno.ETIMEDOUT);
    const w: FutexWaiter = { key: loc.key, bitset, counted: loc.counted, owner, timer: null, done };
    // Already counted above for a counted key: enqueue without counting again.
    this.enqueue(w);
    if (deadline !== null) this.armTimer(w, deadline, realtime);
    return PARKED;
  }

  /**
   * The hrtimer of a timed wait (futex_setup_timer()): when it fires,
   * futex_wait_queue() returns and the wait is -ETIMEDOUT unless it was
   * woken first. The event loop's timers have millisecond granularity and
   * may fire early (libuv measures from the loop's cached time), so the
   * deadline is checked again and the timer re-armed for what is left: a
   * wait never times out before its deadline.
   */
  private armTimer(w: FutexWaiter, deadline: bigint, realtime: boolean): void {
    const left = remainingNs(deadline, realtime);
    if (left <= 0n) {
      if (this.unqueue(w)) w.done(-Errno.ETIMEDOUT);
      return;
    }
    const ms = Number((left + 999_999n) / 1_000_000n);
    // Beyond setTimeout's range (~24.8 days): re-armed when that much has passed.
    w.timer = setTimeout(() => this.armTimer(w, deadline, realtime), Math.min(ms, 0x7fffffff));
  }

  /**
   * futex_wake(): EINVAL for an empty bitset, the key (a private key
   * touches no memory), then at most wakeLimit(nr) waiters: those sleeping
   * in Atomics.wait on the word (all FUTEX_BITSET_MATCH_ANY, so any bitset
   * meets theirs) and those queued here whose bitset meets `bitset`.
   */
  private wake(p: Process, addr: unknown, shared: boolean, nr: number, bitset: number): number {
    if (bitset === 0) return -Errno.EINVAL;
    const loc = futexLocation(p, addr, shared, this.cacheIds);
    if (typeof loc === 'number') return loc;
    const n = wakeLimit(nr);
    let woken = 0;
    if (loc.i32) woken = Atomics.notify(loc.i32, loc.index, n);
    if (woken < n) woken += this.wakeQueued(loc.key, n - woken, bitset);
    return woken;
  }
}
