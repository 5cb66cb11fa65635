/** Helpers for the test guests (run on worker threads). */
import type { GuestOs } from '../../src/runtime/guest.js';

/** Word offsets (bytes) of the tests' control segment. */
export const W = { futex: 0, ready: 4, woken: 8, flag: 12, bits: 16, counter: 20, aux: 24, data: 1024 } as const;

/** Sleeps `ms` milliseconds without the event loop (this thread only). */
export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Attaches segment `id` after mapping `index` pages of private memory, so that
 * processes with different indexes attach it at different addresses.
 */
export function attachSpread(os: GuestOs, id: number, index: number): number {
  if (index > 0) os.mmapPrivate(index * 4096);
  return os.shmat(id);
}

/** The control words of a segment attached at `base`. */
export function control(os: GuestOs, base: number) {
  const i32 = os.mem.viewInt32(base, 256);
  const at = (off: number) => off >> 2;
  return {
    i32,
    load: (off: number) => Atomics.load(i32, at(off)),
    /** Adds and wakes the word's waiters. */
    add: (off: number, v: number) => {
      const r = Atomics.add(i32, at(off), v);
      os.futexWake(base + off, 0x7fffffff);
      return r;
    },
    /** Stores and wakes the word's waiters. */
    set: (off: number, v: number) => {
      Atomics.store(i32, at(off), v);
      os.futexWake(base + off, 0x7fffffff);
    },
    /** Sleeps until the word is >= target (the writer wakes it), at most `ms` in all. */
    waitAtLeast: (off: number, target: number, ms = 10_000) => {
      const end = Date.now() + ms;
      for (;;) {
        const v = Atomics.load(i32, at(off));
        if (v >= target) return v;
        const left = end - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for word ${off} >= ${target} (is ${v})`);
        os.futexWait(base + off, v, Math.min(left, 100));
      }
    },
  };
}

export function assertEq<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}

export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b).replace(/\0+$/, '');
}
