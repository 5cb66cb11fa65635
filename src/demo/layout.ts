/**
 * The demo's shared-memory protocol: what the producer, the consumers and the
 * kernel side's monitor agree on about the one segment they share.
 *
 * The segment is one header page followed by the ring:
 *
 *     [0, 4096)             the header (Int32 words and BigInt64 fields)
 *     [4096, 4096 + size)   the ring: `capacity` slots of `message` bytes
 *
 * It is a broadcast ring: every consumer reads every message. The producer
 * owns the write index; each consumer owns its read index; a slot may be
 * overwritten only when every consumer has read it. Indexes are message
 * counts kept as full numbers in each process and published as their low
 * 32 bits (differences are taken modulo 2^32, so they may wrap).
 *
 * Futex words (shared futexes: every process maps the segment at an address
 * of its own, they meet by segment offset, as on Linux):
 *
 * - WRITE: consumers sleep on it when the ring is empty (they count
 *   themselves in SLEEPERS first, so the producer wakes only when someone
 *   sleeps);
 * - SPACE: the producer sleeps on it when the ring is full, after storing in
 *   NEED the read index every consumer must reach; a consumer that reaches
 *   it bumps SPACE and wakes the producer;
 * - READY, ATTACHED, FINISHED, REPORT: the phases (header written; consumers
 *   attached; results published; report taken by the kernel side).
 *
 * A message is `message` bytes: word 0 its sequence number (low 32 bits),
 * word 1 its kind (DATA, or END for the end marker), then a payload of
 * xorshift32 words seeded by the sequence number. Every process folds every
 * byte of every data message it wrote or read into a 32-bit FNV-1a.
 *
 * This module imports nothing: it runs in the workers and on the kernel side.
 */

/** The key the producer creates the segment with and the consumers look it up by ("SYSV" in ASCII). */
export const DEMO_KEY = 0x53595356;

export const PAGE = 4096;
/** The header's size; the ring starts here. */
export const HEADER_BYTES = PAGE;
/** Header magic ("DEMO"), written last-but-one before READY. */
export const MAGIC = 0x4f4d4544;

/** Int32 word indexes of the header's control words (each group on a cache line of its own). */
export const H = {
  MAGIC: 0,
  CAPACITY: 1,
  MESSAGE: 2,
  CONSUMERS: 3,
  /** 0 until the producer has written the header (futex). */
  READY: 4,
  /** Consumers attached (futex: the producer waits for all). */
  ATTACHED: 5,
  /** STATE_*: what the producer is doing (read by the monitor). */
  STATE: 6,
  /** Processes that published their results (futex: the kernel side waits with Atomics.waitAsync). */
  FINISHED: 7,
  /** 0 until the kernel side has taken its report (futex: every worker waits before detaching). */
  REPORT: 8,
  /** The producer's write index, low 32 bits (futex: empty-ring waits). */
  WRITE: 16,
  /** Consumers asleep (or about to be) on WRITE. */
  SLEEPERS: 17,
  /** Bumped by consumers to wake the producer (futex: full-ring waits). */
  SPACE: 32,
  /** 1 while the producer waits for space. */
  PRODUCER_WAITING: 33,
  /** The read index (low 32 bits) every consumer must reach before the producer goes on. */
  NEED: 34,
} as const;

export const STATE_STARTING = 0;
export const STATE_RUNNING = 1;
export const STATE_STOPPED = 2;

/**
 * Per-process result slots: slot 0 the producer, slot i the consumer i,
 * SLOT_BYTES each from SLOTS_OFFSET. Word offsets inside a slot (Int32),
 * and BigInt64 element offsets inside it.
 */
export const SLOTS_OFFSET = 256;
export const SLOT_BYTES = 64;
export const S = {
  /** The consumer's read index, low 32 bits (the producer's slot leaves it 0). */
  READ: 0,
  PID: 1,
  /** The FNV-1a of every data byte, as an Int32. */
  CHECKSUM: 2,
  /** Messages out of sequence or of an unknown kind. */
  ERRORS: 3,
  /** 1 once the results are final. */
  DONE: 4,
  /** shmget(key, 0, 0) answers ENOENT before the segment existed (consumers). */
  LOOKUP_RETRIES: 5,
  SHMID: 6,
  /** Futex waits: the producer's on a full ring, a consumer's on an empty one. */
  WAITS: 7,
} as const;
export const S64 = {
  /** Data messages written or read (BigInt64 element 4: byte 32 of the slot). */
  COUNT: 4,
  /** The address the process attached the segment at. */
  ADDR: 5,
  /** Nanoseconds from the first data message to the end marker (producer). */
  ELAPSED_NS: 6,
} as const;
/** The most consumers the header has slots for (1 producer + 32 consumers: 33 * 64 bytes from 256). */
export const MAX_CONSUMERS = 32;

/** Word offset of field `w` of slot `i`. */
export function slotWord(i: number, w: number): number {
  return (SLOTS_OFFSET + i * SLOT_BYTES) / 4 + w;
}

/** BigInt64 element of field `e` of slot `i`. */
export function slotBig(i: number, e: number): number {
  return (SLOTS_OFFSET + i * SLOT_BYTES) / 8 + e;
}

/** Message kinds (word 1). */
export const KIND_DATA = 0x41544144;  // "DATA"
export const KIND_END = 0x21444e45;   // "END!"

export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 16777619;

/** Folds bytes [from, to) of `u8` into the FNV-1a hash `h` (a 32-bit value kept as an Int32). */
export function fnv1a(h: number, u8: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    h ^= u8[i]!;
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/**
 * Writes data message `seq` into `words` at word index `at`: the sequence
 * number, DATA, then `n - 2` xorshift32 words whose seed depends on seq.
 */
export function fillMessage(words: Int32Array, at: number, n: number, seq: number): void {
  let s = (Math.imul(seq + 1, 0x9e3779b1) ^ 0x6a09e667) | 1;
  for (let j = 2; j < n; j++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[at + j] = s;
  }
  words[at] = seq | 0;
  words[at + 1] = KIND_DATA;
}

/** The geometry of a ring of `size` bytes and messages of `message` bytes. */
export function geometry(size: number, message: number): { capacity: number; segmentBytes: number; batch: number } {
  const capacity = Math.floor(size / message);
  // Indexes are published every `batch` messages: a few cache lines of traffic, not one per message.
  const batch = Math.max(1, Math.min(64, capacity >> 3));
  return { capacity, segmentBytes: HEADER_BYTES + size, batch };
}

/** An unsigned 32-bit value as 0x%08x. */
export function hex32(x: number): string {
  return '0x' + (x >>> 0).toString(16).padStart(8, '0');
}
