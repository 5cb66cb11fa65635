/**
 * 64-bit unsigned system-call words (unsigned long) without BigInt in the
 * common case. A `Word` is a value in [0, 2^64) held as a number when it is
 * below 2^53 (so it is exact), and as a bigint only above: every user
 * address (below TASK_SIZE, 2^47) and every sane length stays a number, and
 * only the arguments that make Linux return an overflow errno take the
 * BigInt path. Allocating two BigInts per argument was most of the cost of
 * a shmget lookup or a shmat (docs/perf.md).
 */

/** An unsigned long: a number when < 2^53, else a bigint (never both for one value). */
export type Word = number | bigint;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);

/**
 * Reduces any argument modulo 2^64, as the C ABI does with an unsigned
 * long. NaN and infinities, which have no C value, become 0 rather than
 * throw (a guest error is a value, never an exception).
 */
export function word(v: number | bigint): Word {
  if (typeof v === 'number') {
    if (v >= 0 && v <= MAX_SAFE && Number.isInteger(v)) return v;
    if (!Number.isFinite(v)) return 0;
    v = BigInt(Math.trunc(v));
  }
  const b = BigInt.asUintN(64, v);
  return b <= MAX_SAFE_BIG ? Number(b) : b;
}

/** The word as a bigint (for arithmetic that may wrap modulo 2^64). */
export function wordBig(w: Word): bigint {
  return typeof w === 'bigint' ? w : BigInt(w);
}

/**
 * x mod m for a power of two m and a non-negative integer x below 2^53.
 * Addresses above 2^31 are doubles to V8, and `%` on doubles is a call to
 * fmod (~20 ns here, the x87 remainder loop); dividing by a power of two,
 * flooring and multiplying back are exact and cost a few cycles.
 */
export function modPow2(x: number, m: number): number {
  return x - Math.floor(x / m) * m;
}

/** The low bits of a word under `mask` (mask + 1 a power of two, < 2^31): alignment checks on either representation. */
export function lowBits(w: Word, mask: number): number {
  return typeof w === 'number' ? modPow2(w, mask + 1) : Number(w & BigInt(mask));
}
