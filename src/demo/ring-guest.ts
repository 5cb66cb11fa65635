/**
 * The demo's worker program (the default export runs on each worker
 * process): the producer or a consumer of the broadcast ring described in
 * layout.ts.
 *
 *     argv: producer KEY SIZE MESSAGE CONSUMERS SECONDS SPREAD
 *           consumer INDEX KEY SPREAD [CRASH_AFTER]
 *
 * SPREAD is a number of pages of private memory the process maps before it
 * attaches the segment, a stand-in for the different libraries and heaps of
 * real programs: the kernel places the segment at a different address in
 * each process, and the futexes still meet (by segment offset).
 *
 * Nothing here spins: every wait is a futex wait (or, before the segment
 * exists, a sleep) with a timeout, after which the process looks at its
 * deadlines again, so that a peer that died makes it fail instead of hang.
 */
import { IPC_CREAT, IPC_EXCL } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import type { GuestOs } from '../runtime/guest.js';
import {
  FNV_OFFSET, H, HEADER_BYTES, KIND_DATA, KIND_END, MAGIC, PAGE, S, S64, STATE_RUNNING, STATE_STOPPED,
  fillMessage, fnv1a, geometry, slotBig, slotWord,
} from './layout.js';

const INT_MAX = 0x7fffffff;
/** How long a futex wait lasts before the waiter looks at its deadlines again. */
const WAIT_MS = 100;
/** How long a peer may show no sign of life before this process gives up. */
const PEER_TIMEOUT_MS = 10_000;
/** How long the workers wait for the kernel side to take its report. */
const REPORT_TIMEOUT_MS = 30_000;

/** Sleeps on this thread (nanosleep). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The segment as a process sees it once attached. */
interface Attached {
  base: number;
  hdr: Int32Array;
  hdr64: BigInt64Array;
  ring: Uint8Array;
  ringWords: Int32Array;
}

function views(os: GuestOs, base: number, ringBytes: number, writeRing: boolean): Attached {
  return {
    base,
    hdr: os.mem.viewInt32(base, HEADER_BYTES / 4),
    hdr64: os.mem.viewBigInt64(base, HEADER_BYTES / 8),
    ring: os.mem.view(base + HEADER_BYTES, ringBytes, { write: writeRing }),
    ringWords: os.mem.viewInt32(base + HEADER_BYTES, ringBytes / 4, { write: writeRing }),
  };
}

/** Waits on futex word `w` until pred() holds; throws after `timeoutMs` of waiting. */
function waitFor(os: GuestOs, seg: Attached, w: number, pred: () => boolean, timeoutMs: number, what: string): void {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = Atomics.load(seg.hdr, w);
    if (pred()) return;
    if (performance.now() > end) throw new Error(`gave up waiting ${timeoutMs / 1000} s for ${what}`);
    os.futexWait(seg.base + w * 4, v, WAIT_MS);
  }
}

export default function main(os: GuestOs): number {
  const role = os.argv[1];
  if (role === 'producer') return producer(os);
  if (role === 'consumer') return consumer(os);
  throw new Error(`unknown role '${role}'`);
}

function producer(os: GuestOs): number {
  const [key, size, message, consumers, seconds, spread] = os.argv.slice(2).map(Number) as [number, number, number, number, number, number];
  const { capacity, segmentBytes, batch } = geometry(size, message);
  const ringBytes = capacity * message;
  const words = message / 4;

  if (spread > 0) os.mmapPrivate(spread * PAGE);
  // A fresh segment under the key, or an error (EEXIST: someone else's).
  const id = os.shmget(key, segmentBytes, IPC_CREAT | IPC_EXCL | 0o600);
  const base = os.shmat(id);
  const seg = views(os, base, ringBytes, true);
  const { hdr, hdr64, ring, ringWords } = seg;

  hdr[H.CAPACITY] = capacity;
  hdr[H.MESSAGE] = message;
  hdr[H.CONSUMERS] = consumers;
  hdr[slotWord(0, S.PID)] = os.pid;
  hdr[slotWord(0, S.SHMID)] = id;
  hdr64[slotBig(0, S64.ADDR)] = BigInt(base);
  hdr[H.MAGIC] = MAGIC;
  Atomics.store(hdr, H.READY, 1);
  os.futexWake(base + H.READY * 4, INT_MAX);

  // Everyone reads from message 0: wait until every consumer has attached.
  waitFor(os, seg, H.ATTACHED, () => Atomics.load(hdr, H.ATTACHED) >= consumers, PEER_TIMEOUT_MS, 'the consumers to attach');
  // IPC_RMID now: the key is free again and the segment goes away at the last detach, even if we all crash.
  os.shmRemove(id);

  const readWords = Array.from({ length: consumers }, (_, i) => slotWord(i + 1, S.READ));
  /** The read index of the slowest consumer, as a full number (w - its lag). */
  const minRead = (w: number): number => {
    let lag = 0;
    for (const r of readWords) lag = Math.max(lag, ((w | 0) - Atomics.load(hdr, r)) >>> 0);
    return w - lag;
  };
  const publish = (w: number): void => {
    Atomics.store(hdr, H.WRITE, w | 0);
    if (Atomics.load(hdr, H.SLEEPERS) > 0) os.futexWake(base + H.WRITE * 4, INT_MAX);
  };
  /** Futex waits that slept (on a full ring). */
  let waits = 0;
  /** Waits until a quarter of the ring (at least one slot) is free again. */
  const waitForSpace = (w: number): number => {
    const need = w - capacity + Math.max(1, capacity >> 2);
    Atomics.store(hdr, H.NEED, need | 0);
    Atomics.store(hdr, H.PRODUCER_WAITING, 1);
    let min = minRead(w);
    let last = min;
    let quiet = performance.now() + PEER_TIMEOUT_MS;
    while (min < need) {
      const s = Atomics.load(hdr, H.SPACE);
      min = minRead(w);
      if (min >= need) break;
      if (os.futexWait(base + H.SPACE * 4, s, WAIT_MS) !== 'not-equal') waits++;
      min = minRead(w);
      if (min !== last) { last = min; quiet = performance.now() + PEER_TIMEOUT_MS; }
      else if (performance.now() > quiet) throw new Error(`a consumer read nothing for ${PEER_TIMEOUT_MS / 1000} s`);
    }
    Atomics.store(hdr, H.PRODUCER_WAITING, 0);
    return min;
  };

  // Look at the clock every 64 messages, or every 16 KiB of them for large ones.
  const clockMask = (1 << Math.max(0, Math.min(6, Math.floor(Math.log2(16384 / message))))) - 1;
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  Atomics.store(hdr, H.STATE, STATE_RUNNING);
  let w = 0;
  let min = 0;
  let published = 0;
  let h = FNV_OFFSET;
  for (;;) {
    if ((w & clockMask) === 0 && performance.now() >= stopAt) break;
    if (w - min >= capacity) {
      min = minRead(w);
      if (w - min >= capacity) {
        publish(w);
        published = w;
        min = waitForSpace(w);
      }
    }
    const slot = w % capacity;
    fillMessage(ringWords, slot * words, words, w);
    h = fnv1a(h, ring, slot * message, slot * message + message);
    w++;
    if (w - published >= batch) {
      publish(w);
      published = w;
    }
  }
  const elapsedNs = BigInt(Math.round((performance.now() - t0) * 1e6));

  // The end marker: one more message, of kind END, carrying the number of data messages.
  if (w + 1 - minRead(w) > capacity) waitForSpace(w);
  const endSlot = (w % capacity) * words;
  ringWords[endSlot] = w | 0;
  ringWords[endSlot + 1] = KIND_END;
  publish(w + 1);
  os.futexWake(base + H.WRITE * 4, INT_MAX);
  Atomics.store(hdr, H.STATE, STATE_STOPPED);

  hdr64[slotBig(0, S64.COUNT)] = BigInt(w);
  hdr64[slotBig(0, S64.ELAPSED_NS)] = elapsedNs;
  hdr[slotWord(0, S.CHECKSUM)] = h;
  hdr[slotWord(0, S.WAITS)] = waits;
  Atomics.store(hdr, slotWord(0, S.DONE), 1);
  Atomics.add(hdr, H.FINISHED, 1);
  os.futexWake(base + H.FINISHED * 4, INT_MAX);

  waitFor(os, seg, H.REPORT, () => Atomics.load(hdr, H.REPORT) !== 0, REPORT_TIMEOUT_MS, 'the report to be taken');
  os.shmdt(base);
  return 0;
}

function consumer(os: GuestOs): number {
  const [index, key, spread, crashAfter] = os.argv.slice(2).map(Number) as [number, number, number, number?];
  if (spread > 0) os.mmapPrivate(spread * PAGE);

  // Find the segment by its key: ENOENT until the producer has created it.
  let id = -1;
  let retries = 0;
  const lookupEnd = performance.now() + PEER_TIMEOUT_MS;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    const r = os.sys.shmget(key, 0, 0);
    if (r >= 0) { id = r; break; }
    if (r !== -Errno.ENOENT) throw new Error(`shmget(${key}, 0, 0): errno ${-r}`);
    if (performance.now() > lookupEnd) throw new Error(`no segment with key ${key} after ${PEER_TIMEOUT_MS / 1000} s`);
    retries++;
    sleep(pause);
  }
  const base = os.shmat(id);
  const hdrOnly = os.mem.viewInt32(base, HEADER_BYTES / 4);
  const pre: Attached = { base, hdr: hdrOnly, hdr64: new BigInt64Array(0), ring: new Uint8Array(0), ringWords: new Int32Array(0) };
  waitFor(os, pre, H.READY, () => Atomics.load(hdrOnly, H.READY) !== 0, PEER_TIMEOUT_MS, 'the producer to write the header');
  if (hdrOnly[H.MAGIC] !== MAGIC) throw new Error('the segment has no demo header');
  const capacity = hdrOnly[H.CAPACITY]!;
  const message = hdrOnly[H.MESSAGE]!;
  const words = message / 4;
  const batch = geometry(capacity * message, message).batch;
  // The ring is only read: a read-only view (the header is written: read index, results).
  const seg = views(os, base, capacity * message, false);
  const { hdr, hdr64, ring, ringWords } = seg;
  const readWord = slotWord(index, S.READ);
  hdr[slotWord(index, S.PID)] = os.pid;
  hdr[slotWord(index, S.SHMID)] = id;
  hdr[slotWord(index, S.LOOKUP_RETRIES)] = retries;
  hdr64[slotBig(index, S64.ADDR)] = BigInt(base);
  Atomics.add(hdr, H.ATTACHED, 1);
  os.futexWake(base + H.ATTACHED * 4, INT_MAX);

  const publishRead = (r: number): void => {
    Atomics.store(hdr, readWord, r | 0);
    // The producer sleeps until every consumer reaches NEED: wake it if this one just did.
    if (Atomics.load(hdr, H.PRODUCER_WAITING) !== 0 && (((r | 0) - Atomics.load(hdr, H.NEED)) | 0) >= 0) {
      Atomics.add(hdr, H.SPACE, 1);
      os.futexWake(base + H.SPACE * 4, 1);
    }
  };

  let r = 0;
  let avail = 0;
  let published = 0;
  let errors = 0;
  let waits = 0;
  let h = FNV_OFFSET;
  let quiet = performance.now() + PEER_TIMEOUT_MS;
  for (;;) {
    if (avail === 0) {
      const w32 = Atomics.load(hdr, H.WRITE);
      avail = (w32 - (r | 0)) >>> 0;
      if (avail === 0) {
        if (published !== r) { publishRead(r); published = r; }
        // Count ourselves as a sleeper, then look again: the producer either sees us or we see its store.
        Atomics.add(hdr, H.SLEEPERS, 1);
        if (Atomics.load(hdr, H.WRITE) === w32) {
          if (os.futexWait(base + H.WRITE * 4, w32, WAIT_MS) !== 'not-equal') waits++;
        }
        Atomics.sub(hdr, H.SLEEPERS, 1);
        if (Atomics.load(hdr, H.WRITE) !== w32) quiet = performance.now() + PEER_TIMEOUT_MS;
        else if (performance.now() > quiet) throw new Error(`the producer sent nothing for ${PEER_TIMEOUT_MS / 1000} s`);
        continue;
      }
    }
    const slot = r % capacity;
    const at = slot * words;
    const seq = ringWords[at]!;
    const kind = ringWords[at + 1]!;
    if (kind === KIND_END) {
      if (seq !== (r | 0)) errors++;
      r++;
      break;
    }
    if (kind !== KIND_DATA || seq !== (r | 0)) errors++;
    if (r === crashAfter) throw new Error(`injected crash after ${r} messages`);
    h = fnv1a(h, ring, slot * message, slot * message + message);
    r++;
    avail--;
    if (r - published >= batch || avail === 0) { publishRead(r); published = r; }
  }
  publishRead(r);
  const count = r - 1;

  hdr64[slotBig(index, S64.COUNT)] = BigInt(count);
  hdr[slotWord(index, S.CHECKSUM)] = h;
  hdr[slotWord(index, S.ERRORS)] = errors;
  hdr[slotWord(index, S.WAITS)] = waits;
  Atomics.store(hdr, slotWord(index, S.DONE), 1);
  Atomics.add(hdr, H.FINISHED, 1);
  os.futexWake(base + H.FINISHED * 4, INT_MAX);

  waitFor(os, seg, H.REPORT, () => Atomics.load(hdr, H.REPORT) !== 0, REPORT_TIMEOUT_MS, 'the report to be taken');
  os.shmdt(base);
  return 0;
}
