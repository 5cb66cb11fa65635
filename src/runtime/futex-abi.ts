/**
 * futex(2) numbers (include/uapi/linux/futex.h) and the argument checks both
 * sides of the runtime share (kernel/futex/syscalls.c sys_futex, do_futex).
 */
import { Errno } from '../abi/errno.js';

export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
export const FUTEX_FD = 2;
export const FUTEX_REQUEUE = 3;
export const FUTEX_CMP_REQUEUE = 4;
export const FUTEX_WAKE_OP = 5;
export const FUTEX_LOCK_PI = 6;
export const FUTEX_UNLOCK_PI = 7;
export const FUTEX_TRYLOCK_PI = 8;
export const FUTEX_WAIT_BITSET = 9;
export const FUTEX_WAKE_BITSET = 10;
export const FUTEX_WAIT_REQUEUE_PI = 11;
export const FUTEX_CMP_REQUEUE_PI = 12;
export const FUTEX_LOCK_PI2 = 13;

export const FUTEX_PRIVATE_FLAG = 128;
export const FUTEX_CLOCK_REALTIME = 256;
export const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

export const FUTEX_WAIT_PRIVATE = FUTEX_WAIT | FUTEX_PRIVATE_FLAG;
export const FUTEX_WAKE_PRIVATE = FUTEX_WAKE | FUTEX_PRIVATE_FLAG;
export const FUTEX_WAIT_BITSET_PRIVATE = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG;
export const FUTEX_WAKE_BITSET_PRIVATE = FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG;

/** FUTEX_BITSET_MATCH_ANY: what FUTEX_WAIT and FUTEX_WAKE use as their bitset. */
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/** KTIME_MAX: timeouts are clamped to it (ktime_add_safe). */
const KTIME_MAX = (1n << 63n) - 1n;

/**
 * CLOCK_MONOTONIC in nanoseconds (ktime_get()): Node's hrtime is
 * clock_gettime(CLOCK_MONOTONIC) and the same clock in every thread of the
 * process, so an absolute FUTEX_WAIT_BITSET deadline means the same in the
 * guest and in the kernel.
 */
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

/** CLOCK_REALTIME in nanoseconds (ktime_get_real()), for FUTEX_CLOCK_REALTIME. */
export function realtimeNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** The timeout argument: absent (NULL: wait forever), or a duration / deadline in nanoseconds. */
export type FutexTimeout = number | bigint | null | undefined;

/** futex_cmd_has_timeout(): the commands whose fourth argument is a time. */
export function futexCmdHasTimeout(cmd: number): boolean {
  return cmd === FUTEX_WAIT || cmd === FUTEX_LOCK_PI || cmd === FUTEX_LOCK_PI2
    || cmd === FUTEX_WAIT_BITSET || cmd === FUTEX_WAIT_REQUEUE_PI;
}

/** A decoded futex call: the command, its flags and the deadline (ns on the op's clock; null: none). */
export interface FutexCall { cmd: number; priv: boolean; realtime: boolean; deadline: bigint | null }

/**
 * sys_futex() then do_futex(), up to the command switch: for a command with
 * a timeout, the time is read (get_timespec64: -EFAULT for something that is
 * not a time) and checked (futex_init_timeout: -EINVAL when negative); a
 * FUTEX_WAIT timeout is relative and becomes ktime_get() + t, a
 * FUTEX_WAIT_BITSET one is absolute (CLOCK_MONOTONIC, or CLOCK_REALTIME with
 * FUTEX_CLOCK_REALTIME). Then FUTEX_CLOCK_REALTIME on a command that takes
 * no absolute time is -ENOSYS.
 */
export function futexDecode(op: number, timeout: FutexTimeout): FutexCall | number {
  const o = op | 0;
  const cmd = o & FUTEX_CMD_MASK;
  const realtime = (o & FUTEX_CLOCK_REALTIME) !== 0;
  let deadline: bigint | null = null;
  if (timeout !== undefined && timeout !== null && futexCmdHasTimeout(cmd)) {
    let t: bigint;
    if (typeof timeout === 'bigint') t = timeout;
    else if (typeof timeout === 'number') {
      if (Number.isNaN(timeout)) return -Errno.EINVAL;
      t = timeout === Infinity ? KTIME_MAX : timeout === -Infinity ? -1n : BigInt(Math.trunc(timeout));
    } else return -Errno.EFAULT;
    if (t < 0n) return -Errno.EINVAL; // !timespec64_valid()
    if (t > KTIME_MAX) t = KTIME_MAX;
    if (cmd === FUTEX_WAIT) {
      t = monotonicNs() + t; // ktime_add_safe(ktime_get(), t)
      if (t > KTIME_MAX) t = KTIME_MAX;
    }
    deadline = t;
  }
  // do_futex(): FLAGS_CLOCKRT only for FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_LOCK_PI2.
  if (realtime && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT_REQUEUE_PI && cmd !== FUTEX_LOCK_PI2) return -Errno.ENOSYS;
  return { cmd, priv: (o & FUTEX_PRIVATE_FLAG) !== 0, realtime: realtime && cmd !== FUTEX_WAIT, deadline };
}

/** Nanoseconds left until `deadline` on the op's clock (<= 0: expired). */
export function remainingNs(deadline: bigint, realtime: boolean): bigint {
  return deadline - (realtime ? realtimeNs() : monotonicNs());
}

/**
 * futex_wake()'s loop wakes a waiter and then checks `++ret >= nr_wake`, so
 * the legacy FUTEX_WAKE wakes one waiter even for nr_wake <= 0 (only futex2's
 * FLAGS_STRICT returns 0 early): the most a wake may wake.
 */
export function wakeLimit(nr: number): number {
  const n = nr | 0;
  return n < 1 ? 1 : n;
}
