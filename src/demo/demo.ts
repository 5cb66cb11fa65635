/**
 * `sysvshm demo`: a producer and N consumers, each a worker process of the
 * model kernel (src/runtime), find one System V segment by its key and
 * stream messages through a broadcast ring in it, with futex wake-ups and
 * zero-copy views (the protocol: layout.ts; the programs: ring-guest.ts).
 *
 * This is the kernel side. Its thread serves the workers' system calls and
 * never blocks: a timer prints the live progress line (read from the
 * segment's header through the kernel's own view of the producer's
 * mapping), Atomics.waitAsync waits for the results. While every worker is
 * still attached it prints `ipcs -m` and the SysV lines of each process's
 * /proc/PID/maps, then releases them (a futex wake); once they have all
 * detached and exited it checks the checksums and shows that no segment,
 * no page and no process is left.
 */
import { parseArgs } from 'node:util';
import { Kernel } from '../index.js';
import { runtimeOf, type WorkerExit, type WorkerHandle } from '../runtime/kernel-runtime.js';
import { viewOf } from '../runtime/shared-memory.js';
import { FUTEX_WAKE } from '../runtime/futex-abi.js';
import { ipcs } from '../tools/ipcs.js';
import { parseSize } from '../tools/strutils.js';
import {
  DEMO_KEY, H, HEADER_BYTES, MAGIC, MAX_CONSUMERS, PAGE, S, S64, STATE_RUNNING, geometry, hex32, slotBig, slotWord,
} from './layout.js';

export interface DemoOptions {
  /** Seconds of traffic. */
  seconds: number;
  /** Consumer processes. */
  consumers: number;
  /** Ring size in bytes (the segment is one header page more). */
  size: number;
  /** Message size in bytes. */
  message: number;
  /** For tests: consumer `consumer` throws after reading `after` messages (the demo must fail, quickly and cleanly). */
  crash?: { consumer: number; after: number };
}

export const DEMO_DEFAULTS: Readonly<DemoOptions> = { seconds: 5, consumers: 2, size: 1 << 20, message: 256 };

const MAX_SECONDS = 3600;
const MAX_RING = 256 << 20;
const MAX_MESSAGE = 1 << 20;

export const DEMO_USAGE = `usage: sysvshm demo [--seconds S] [--consumers N] [--size BYTES] [--message BYTES]

A producer and N consumer worker processes find one System V segment by its key
and exchange messages through a ring buffer in it, with futex wake-ups.

  --seconds S        seconds of traffic (default ${DEMO_DEFAULTS.seconds}; fractions allowed, at most ${MAX_SECONDS})
  --consumers N      consumer processes (default ${DEMO_DEFAULTS.consumers}, 1 to ${MAX_CONSUMERS})
  --size BYTES       ring size (default 1M; K, M, G suffixes as in ipcmk; 4K to 256M)
  --message BYTES    message size (default ${DEMO_DEFAULTS.message}; a multiple of 4, 16 to 1M, at most half the ring)`;

/** Parses the demo's command line: its options, or the message of a usage error. */
export function parseDemoArgs(argv: readonly string[]): DemoOptions | { error: string } {
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: {
        seconds: { type: 'string' },
        consumers: { type: 'string' },
        size: { type: 'string' },
        message: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    values = parsed.values;
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (values.help) return { error: '' };
  const o: DemoOptions = { ...DEMO_DEFAULTS };
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const seconds = str('seconds');
  if (seconds !== undefined) {
    const s = /^\s*\d+(\.\d*)?\s*$|^\s*\.\d+\s*$/.test(seconds) ? Number(seconds) : NaN;
    if (!(s > 0 && s <= MAX_SECONDS)) return { error: `--seconds: expected a number of seconds above 0, at most ${MAX_SECONDS} (got '${seconds}')` };
    o.seconds = s;
  }
  const consumers = str('consumers');
  if (consumers !== undefined) {
    const n = /^\s*\d+\s*$/.test(consumers) ? Number(consumers) : NaN;
    if (!(n >= 1 && n <= MAX_CONSUMERS)) return { error: `--consumers: expected an integer from 1 to ${MAX_CONSUMERS} (got '${consumers}')` };
    o.consumers = n;
  }
  const bytes = (k: 'size' | 'message'): number | string | undefined => {
    const v = str(k);
    if (v === undefined) return undefined;
    const r = parseSize(v.trim());
    if (r.rc !== 0 || r.value > BigInt(Number.MAX_SAFE_INTEGER)) return `--${k}: expected a size in bytes such as 4096, 64K or 1M (got '${v}')`;
    return Number(r.value);
  };
  const size = bytes('size');
  if (typeof size === 'string') return { error: size };
  if (size !== undefined) {
    if (size < PAGE || size > MAX_RING) return { error: `--size: the ring must be from 4K to 256M (got ${size} bytes)` };
    o.size = size;
  }
  const message = bytes('message');
  if (typeof message === 'string') return { error: message };
  if (message !== undefined) {
    if (message < 16 || message > MAX_MESSAGE || message % 4 !== 0) {
      return { error: `--message: expected a multiple of 4 from 16 to 1M (got ${message} bytes)` };
    }
    o.message = message;
  }
  if (o.message * 2 > o.size) {
    return { error: `--message: a ${o.size}-byte ring must hold at least two messages (got ${o.message}-byte messages)` };
  }
  return o;
}

/** Where the demo writes: a stream, and whether it is a terminal (a `\r`-updated progress line) or not (a line a second). */
export interface DemoIo {
  write(s: string): void;
  isTTY: boolean;
  /** The terminal's width (the progress line is cut to it). */
  columns?: number;
}

/** What one process reported in its slot of the header. */
export interface ProcessReport {
  role: string;
  pid: number;
  /** The address it attached the segment at. */
  addr: bigint;
  shmid: number;
  /** Data messages it wrote (producer) or read (consumer). */
  count: number;
  checksum: number;
  /** Messages out of sequence (consumers). */
  errors: number;
  /** Futex waits that slept: the producer's on a full ring, a consumer's on an empty one. */
  waits: number;
  /** ENOENT answers of shmget(key, 0, 0) before the segment existed (consumers). */
  lookupRetries: number;
  /** Its SysV lines of /proc/PID/maps. */
  maps: string[];
  exit?: WorkerExit;
}

export interface DemoResult {
  ok: boolean;
  /** Why it failed (empty when ok). */
  failures: string[];
  processes: ProcessReport[];
  /** Seconds of traffic as the producer measured them. */
  seconds: number;
  /** After everything exited. */
  segmentsLeft: number;
  pagesLeft: number;
  processesLeft: number;
}

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
/** Atomics.waitAsync (ES2024; not in this project's lib). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms?: number): WaitAsyncResult }).waitAsync;

const GUEST = new URL('./ring-guest.js', import.meta.url);
const INT_MAX = 0x7fffffff;
/** Pages of private memory each process maps before attaching (so their attach addresses differ): 16 * (slot + 1). */
const SPREAD_PAGES = 16;
/** How long after the traffic should have ended the kernel side gives up (a hung worker). */
const WATCHDOG_EXTRA_MS = 20_000;

const int = (n: number | bigint): string => n.toLocaleString('en-US');
const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
function rate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}

/** A counter published as its low 32 bits, followed into a full number. */
class Wrapping {
  value = 0;
  private last = 0;
  update(low32: number): number {
    this.value += ((low32 | 0) - this.last) >>> 0;
    this.last = low32 | 0;
    return this.value;
  }
}

/** Runs the demo on a fresh kernel, writing its report to `io`. */
export async function runDemo(opts: DemoOptions, io: DemoIo): Promise<DemoResult> {
  const { seconds, consumers, size, message } = opts;
  const { capacity, segmentBytes } = geometry(size, message);
  const out = (l = ''): void => io.write(l + '\n');
  const kernel = new Kernel();
  const failures: string[] = [];
  const total = consumers + 1;

  out(`sysvshm demo: 1 producer and ${consumers} consumer${consumers > 1 ? 's' : ''}, each a worker process of the model kernel`);
  out(`  segment: key ${hex32(DEMO_KEY)}, ${int(segmentBytes)} bytes = a header page + a ring of ${int(capacity)} slots of ${int(message)}-byte messages`);
  out(`  broadcast ring: every consumer receives every message; futex wake-ups; ${seconds} s of traffic`);
  out(`  progress: messages sent, their rate, MB/s sent and delivered (to all consumers), how full the ring is`);
  out();

  // --- the processes ---------------------------------------------------------
  const roles = ['producer', ...Array.from({ length: consumers }, (_, i) => `consumer ${i + 1}`)];
  const handles: WorkerHandle[] = [];
  const exits: Array<WorkerExit | undefined> = new Array(total).fill(undefined);
  let reportTaken = false;
  let fail: (why: string) => void = () => undefined;
  const failed = new Promise<string>((res) => { fail = res; });

  handles.push(kernel.spawnWorker(GUEST, {
    name: 'producer',
    argv: ['sysvshm-demo', 'producer', String(DEMO_KEY), String(size), String(message), String(consumers), String(seconds), String(SPREAD_PAGES)],
  }));
  for (let i = 1; i <= consumers; i++) {
    handles.push(kernel.spawnWorker(GUEST, {
      name: `consumer-${i}`,
      argv: ['sysvshm-demo', 'consumer', String(i), String(DEMO_KEY), String((i + 1) * SPREAD_PAGES),
        ...(opts.crash?.consumer === i ? [String(opts.crash.after)] : [])],
    }));
  }
  const allExited = Promise.all(handles.map((h, i) => h.exited.then((e) => {
    exits[i] = e;
    if (e.code !== 0 || !reportTaken) {
      const why = e.error ?? (e.signal ? `killed by ${e.signal}` : `exit status ${e.code}`);
      fail(`${roles[i]} (pid ${h.pid}) ${reportTaken ? 'failed' : 'ended before the report'}: ${why}`);
    }
  })));
  const watchdog = setTimeout(() => fail(`timed out: the demo did not finish ${WATCHDOG_EXTRA_MS / 1000} s after the traffic should have ended`),
    seconds * 1000 + WATCHDOG_EXTRA_MS);

  // --- the kernel's view of the header ---------------------------------------
  const producer = handles[0]!;
  let hdr: Int32Array | null = null;
  let hdr64: BigInt64Array | null = null;
  let hdrAddr = 0;
  /** Finds the producer's attach in its maps and takes a view of the header once it is written. */
  const attachView = (): void => {
    if (hdr || !producer.process.alive) return;
    const line = sysvLines(kernel, producer.pid).find((l) => l.includes(`/SYSV${(DEMO_KEY >>> 0).toString(16).padStart(8, '0')}`));
    if (!line) return;
    const addr = parseInt(line.slice(0, line.indexOf('-')), 16);
    const v = viewOf(producer.process, addr, HEADER_BYTES, { write: true, align: 8 });
    if (typeof v === 'number') return;
    const i32 = new Int32Array(v.buffer, v.byteOffset, HEADER_BYTES / 4);
    if (Atomics.load(i32, H.READY) === 0 || i32[H.MAGIC] !== MAGIC) return;
    hdr = i32;
    hdr64 = new BigInt64Array(v.buffer, v.byteOffset, HEADER_BYTES / 8);
    hdrAddr = addr;
  };

  // --- the progress line -----------------------------------------------------
  const sent = new Wrapping();
  const received = Array.from({ length: consumers }, () => new Wrapping());
  const samples: Array<{ t: number; sent: number; slowest: number }> = [];
  let t0 = 0;
  let lastPrint = 0;
  let progressShown = false;
  const sample = (now: number) => {
    const h = hdr!;
    const s = sent.update(Atomics.load(h, H.WRITE));
    let slowest = Infinity;
    for (let i = 0; i < consumers; i++) slowest = Math.min(slowest, received[i]!.update(Atomics.load(h, slotWord(i + 1, S.READ))));
    samples.push({ t: now, sent: s, slowest });
    while (samples.length > 2 && now - samples[1]!.t >= 1000) samples.shift();
  };
  /** The line: rates over the last second (or `final`: the totals and average rates). */
  const progressLine = (now: number, final?: { sent: number; seconds: number }): string => {
    const last = samples[samples.length - 1]!;
    const first = samples[0]!;
    const dt = (last.t - first.t) / 1000;
    let perSec = dt > 0 ? (last.sent - first.sent) / dt : 0;
    let s = last.sent;
    let behind = Math.max(0, last.sent - last.slowest);
    if (final) {
      s = final.sent;
      perSec = final.seconds > 0 ? final.sent / final.seconds : 0;
      behind = 0;
    }
    return `[${((now - t0) / 1000).toFixed(1).padStart(5)}s] ${final ? 'done: ' : ''}${int(s)} msgs  ${rate(perSec)} msg/s` +
      `  ${mb(perSec * message)} MB/s  delivered ${mb(perSec * message * consumers)} MB/s` +
      (final ? '' : `  ring ${Math.round((100 * behind) / capacity)}%`);
  };
  const show = (line: string): void => {
    // On a terminal the line is rewritten in place: it must not wrap.
    if (io.isTTY) io.write(`\r${io.columns && line.length >= io.columns ? line.slice(0, io.columns - 1) : line}\x1b[K`);
    else io.write(line + '\n');
    progressShown = true;
  };
  const tick = (): void => {
    attachView();
    if (!hdr || Atomics.load(hdr, H.STATE) < STATE_RUNNING) return;
    const now = performance.now();
    if (t0 === 0) { t0 = now; lastPrint = now; }
    sample(now);
    if (now - lastPrint >= (io.isTTY ? 250 : 1000) - 5) {
      lastPrint += io.isTTY ? 250 : 1000;
      if (now - lastPrint > 500) lastPrint = now;
      show(progressLine(now));
    }
  };
  const interval = setInterval(tick, 50);

  // --- the results -------------------------------------------------------------
  let stopped = false;
  /** Waits (asynchronously) until every process has published its results. */
  const finished = (async (): Promise<void> => {
    for (;;) {
      const h = hdr as Int32Array | null;
      if (h) {
        const v = Atomics.load(h, H.FINISHED);
        if (v >= total) return;
        const r = waitAsync(h, H.FINISHED, v, 250);
        if (r.async) await r.value;
      } else {
        await new Promise((res) => setTimeout(res, 50));
      }
      if (stopped) return;
    }
  })();
  const outcome = await Promise.race([finished.then(() => null), failed]);
  stopped = true;
  clearInterval(interval);

  const processes: ProcessReport[] = handles.map((h, i) => ({
    role: roles[i]!, pid: h.pid, addr: 0n, shmid: -1, count: 0, checksum: 0, errors: 0, waits: 0, lookupRetries: 0, maps: [],
  }));
  let trafficSeconds = 0;
  if (outcome === null) {
    const h = hdr!;
    const h64 = hdr64!;
    for (const [i, p] of processes.entries()) {
      p.addr = BigInt.asUintN(64, h64[slotBig(i, S64.ADDR)]!);
      p.shmid = h[slotWord(i, S.SHMID)]!;
      p.count = Number(h64[slotBig(i, S64.COUNT)]!);
      p.checksum = h[slotWord(i, S.CHECKSUM)]! >>> 0;
      p.errors = h[slotWord(i, S.ERRORS)]!;
      p.waits = h[slotWord(i, S.WAITS)]!;
      p.lookupRetries = h[slotWord(i, S.LOOKUP_RETRIES)]!;
    }
    trafficSeconds = Number(h64[slotBig(0, S64.ELAPSED_NS)]!) / 1e9;
    const now = performance.now();
    if (t0 === 0) t0 = now;
    sample(now);
    show(progressLine(now, { sent: processes[0]!.count, seconds: trafficSeconds }));
    if (io.isTTY) io.write('\n');

    // Everyone is still attached, asleep on REPORT: what the system shows now.
    out();
    out(`== ipcs -m (all ${total} processes attached; the producer has already removed the segment with IPC_RMID,`);
    out(`   so its key reads 0x00000000 and its status "dest": it goes away at the last detach) ==`);
    io.write(ipcs(kernel, ['-m']).stdout);
    out(`== the System V lines of /proc/PID/maps (each process mapped private memory of its own first,`);
    out(`   so the kernel placed the segment at a different address in each) ==`);
    for (const p of processes) {
      p.maps = sysvLines(kernel, p.pid);
      out(`pid ${p.pid} (${p.role}):`);
      for (const l of p.maps) out(l);
      if (p.maps.length === 0) out('(none)');
    }

    // Report taken: store it and futex_wake() every worker (they detach and exit).
    reportTaken = true;
    Atomics.store(h, H.REPORT, 1);
    const woke = runtimeOf(kernel).futex.futex(producer.process, kernel, hdrAddr + H.REPORT * 4, FUTEX_WAKE, INT_MAX, undefined, undefined, () => undefined);
    if (typeof woke === 'number' && woke < 0) Atomics.notify(h, H.REPORT);
    const after = await Promise.race([allExited.then(() => null), failed]);
    if (after !== null) failures.push(after);
  } else {
    if (progressShown && io.isTTY) io.write('\n');
    out(`stopping: ${outcome}; the other workers are killed`);
    failures.push(outcome);
  }
  // Whatever happened, no worker outlives the demo.
  for (const h of handles) h.kill();
  await allExited;
  clearTimeout(watchdog);
  hdr = null;
  hdr64 = null;
  for (const [i, p] of processes.entries()) {
    const e = exits[i];
    if (e) p.exit = e;
  }

  // --- the report --------------------------------------------------------------
  const producerReport = processes[0]!;
  if (outcome === null) {
    out();
    out('== results (each process published its count and checksum in its slot of the header) ==');
    const secs = trafficSeconds;
    const row = (cells: string[]): string => cells.map((c, i) => (i < 1 ? c.padEnd(11) : c.padStart([0, 5, 16, 14, 9, 13, 12][i]!))).join('').trimEnd();
    out(row(['process', 'pid', 'attached at', 'messages', 'MB', 'futex waits', 'FNV-1a']));
    const cells = (p: ProcessReport): string[] => [
      p.role, String(p.pid), '0x' + p.addr.toString(16), int(p.count), mb(p.count * message), int(p.waits), hex32(p.checksum),
    ];
    out(row(cells(producerReport)));
    for (const p of processes.slice(1)) {
      const okSum = p.checksum === producerReport.checksum;
      const okCount = p.count === producerReport.count;
      const good = okSum && okCount && p.errors === 0;
      const why = [okSum ? '' : 'checksum differs', okCount ? '' : 'count differs', p.errors ? `${p.errors} out of sequence` : ''].filter(Boolean);
      out(row(cells(p)) + (good ? ' ✔' : ` ✘ (${why.join(', ')})`));
      if (!good) failures.push(`${p.role}: ${why.join(', ')}`);
    }
    out('(futex waits: the producer sleeps on a full ring, a consumer on an empty one)');
    const ids = [...new Set(processes.slice(1).map((p) => p.shmid))];
    const early = processes.slice(1).filter((p) => p.lookupRetries > 0).map((p) => `${p.role}: ${p.lookupRetries}`);
    out(`each consumer found the segment by its key: shmget(${hex32(DEMO_KEY)}, 0, 0) = ${ids.join(', ')}` +
      (early.length ? ` (ENOENT first, before the producer had created it - ${early.join(', ')})` : ''));
    if (secs > 0) {
      const perSec = producerReport.count / secs;
      out(`throughput: ${int(producerReport.count)} messages of ${message} bytes in ${secs.toFixed(2)} s: ${rate(perSec)} msg/s, ` +
        `${mb(perSec * message)} MB/s sent, ${mb(perSec * message * consumers)} MB/s delivered to ${consumers} consumer${consumers > 1 ? 's' : ''}`);
    }
  }

  const segmentsLeft = kernel.initIpcNs.shm.ids.inUse;
  const pagesLeft = kernel.allocator.allocatedPages;
  const processesLeft = kernel.live.length;
  const threadsLeft = runtimeOf(kernel).size;
  out();
  out('== after every process exited ==');
  out(`segments in the IPC namespace: ${segmentsLeft}${segmentsLeft === 0 ? ' ✔ (the IPC_RMID\'d segment was destroyed at the last detach)' : ' ✘'}`);
  out(`pages allocated by the kernel: ${pagesLeft}${pagesLeft === 0 ? ' ✔' : ' ✘'}`);
  out(`live processes:                ${processesLeft}${processesLeft === 0 ? ' ✔' : ' ✘'}`);
  if (segmentsLeft !== 0) failures.push(`${segmentsLeft} segment(s) left`);
  if (pagesLeft !== 0) failures.push(`${pagesLeft} page(s) left allocated`);
  if (processesLeft !== 0) failures.push(`${processesLeft} process(es) left`);
  if (threadsLeft !== 0) failures.push(`${threadsLeft} worker thread(s) left`);
  for (const [i, e] of exits.entries()) {
    if (outcome === null && e && e.code !== 0 && !failures.some((f) => f.startsWith(roles[i]!))) {
      failures.push(`${roles[i]} exited with status ${e.code}${e.error ? `: ${e.error}` : ''}`);
    }
  }
  const ok = failures.length === 0;
  out(ok
    ? 'demo: OK - every consumer received every message (checksums match) and nothing is left behind'
    : `demo: FAILED - ${failures.join('; ')}`);
  return { ok, failures, processes, seconds: trafficSeconds, segmentsLeft, pagesLeft, processesLeft };
}

/** The System V lines of /proc/PID/maps (none once the process has exited). */
function sysvLines(kernel: Kernel, pid: number): string[] {
  const r = kernel.proc.read(`/proc/${pid}/maps`);
  if (!r.ok) return [];
  return r.value.split('\n').filter((l) => l.includes('/SYSV'));
}

/** `sysvshm demo ARGS`: the exit status (0 ok, 1 a failed check, 2 bad usage). */
export async function demoCommand(argv: readonly string[]): Promise<number> {
  const o = parseDemoArgs(argv);
  if ('error' in o) {
    if (o.error === '') {
      process.stdout.write(DEMO_USAGE + '\n');
      return 0;
    }
    process.stderr.write(`sysvshm demo: ${o.error}\n${DEMO_USAGE}\n`);
    return 2;
  }
  const r = await runDemo(o, {
    write: (s) => process.stdout.write(s), isTTY: process.stdout.isTTY === true, columns: process.stdout.columns,
  });
  return r.ok ? 0 : 1;
}
