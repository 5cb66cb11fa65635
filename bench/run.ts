/**
 * `npm run bench`: the model against the real kernel of this machine, side
 * by side, in the same run (see docs/perf.md).
 *
 *   node dist/bench/run.js [--json] [--markdown] [--filter A,B] [--runs N] [--plots] [--model-only]
 *
 * Every time row runs the same operation natively (bench/native/shmbench.c,
 * in a fresh IPC namespace) and on the model (bench/model/ops.ts),
 * interleaved: after a warm-up that also sizes each side's run to about
 * RUN_MS, the two sides alternate run by run, and each side's figure is the
 * median of the runs (at least 5). The ratio is model / native (time) or
 * model / native (bandwidth, where higher is better).
 *
 * --json      one JSON array of {name, native_ns, model_ns, ratio, target, met, ...}
 * --markdown  the table as Markdown (docs/perf.md)
 * --filter    only rows whose id or name contains one of the comma-separated words
 * --runs      runs per side (default 7, at least 5)
 * --plots     also measure the scaling series and write docs/perf/*.svg
 * --model-only  skip the native side (profiling: node --cpu-prof dist/bench/run.js --model-only --filter X)
 */
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { NativeServer } from './native/native.js';
import type { BenchSpec } from './model/ops.js';
import { WorkerBench } from './model/worker.js';
import { fmtBytes, fmtGbps, fmtNs, fmtRatio, median } from './lib/stats.js';
import { linePlot, type Series } from './lib/svg.js';

// ------------------------------------------------------------------ options

const argv = process.argv.slice(2);
function flag(name: string): boolean { return argv.includes(name); }
function option(name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}
const JSON_OUT = flag('--json');
const MARKDOWN = flag('--markdown');
const PLOTS = flag('--plots');
const MODEL_ONLY = flag('--model-only');
const RUNS = Math.max(5, Number(option('--runs') ?? 7));
const FILTER = (option('--filter') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
const RUN_MS = 40;
/** Minimum warm-up per side and row. */
const WARM_MS = 600;

function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

// ------------------------------------------------------------------ results

export interface Result {
  name: string;
  native_ns: number | null;
  model_ns: number | null;
  ratio: number | null;
  target: string;
  met: boolean | null;
  native_gbps?: number | null;
  model_gbps?: number | null;
  model_bytes?: number | null;
  /** What the native column holds when it is not the kernel (the worker system-call floor). */
  baseline?: string;
  note?: string;
  id: string;
  kind: 'time' | 'bandwidth' | 'flat' | 'memory' | 'info';
}

// ------------------------------------------------------------------ sides

interface Side {
  setup(): Promise<void>;
  run(n: number): Promise<{ ns: number; ops: number }>;
  teardown(): Promise<void>;
}

function nativeSide(srv: NativeServer, name: string, arg: number): Side {
  return {
    setup: () => srv.setup(name, arg),
    run: (n) => srv.run(n),
    teardown: () => srv.teardown(),
  };
}

/**
 * The model side of a row: bench/model/agent.js on a fresh worker thread
 * (a V8 isolate of its own, see there). `onHow` receives what the
 * benchmark reports about itself at teardown (which view API it used).
 */
function modelSide(spec: BenchSpec, onHow?: (how: string) => void): Side {
  let w: Worker | null = null;
  const call = (msg: unknown): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    const onMsg = (r: Record<string, unknown>) => { cleanup(); if (r.error) reject(new Error(`model ${spec[0]}: ${r.error as string}`)); else resolve(r); };
    const onErr = (e: Error) => { cleanup(); reject(e); };
    const cleanup = () => { w!.off('message', onMsg); w!.off('error', onErr); };
    w!.on('message', onMsg);
    w!.on('error', onErr);
    w!.postMessage(msg);
  });
  return {
    setup: async () => {
      w = new Worker(new URL('./model/agent.js', import.meta.url));
      await call({ op: 'setup', spec });
    },
    run: async (n) => (await call({ op: 'run', n })) as unknown as { ns: number; ops: number },
    teardown: async () => {
      if (!w) return;
      try {
        const r = await call({ op: 'teardown' });
        if (onHow && r.how) onHow(r.how as string);
      } finally {
        await w.terminate();
        w = null;
      }
    },
  };
}

interface Measured { perOp: number[]; n: number }

/**
 * The warm-up: runs a side until WARM_MS have passed (at least 3 runs),
 * sizing its runs to about `runMs` from the last run's speed. V8 needs
 * thousands of iterations before the model's code is optimised, so the
 * warm-up is by time, not by count; and it starts with one operation and
 * at most doubles from run to run: a first call with a long loop gets
 * compiled on-stack while its callees have too little type feedback, and
 * stays slow (shmget lookup: 210 ns instead of 95 ns).
 */
async function calibrate(side: Side, maxN: number, runMs: number): Promise<number> {
  let n = 1;
  const t0 = Date.now();
  for (let i = 0; i < 200 && (i < 3 || Date.now() - t0 < WARM_MS); i++) {
    const r = await side.run(n);
    const want = Math.ceil((runMs * 1e6) / Math.max(r.ns / n, 1e-3));
    n = Math.max(1, Math.min(maxN, want, n * 2));
  }
  return n;
}

/** Both sides, interleaved run by run: per-operation nanoseconds of each run. */
async function interleave(a: Side | null, b: Side | null, maxN: number, runs: number, runMs = RUN_MS): Promise<[Measured | null, Measured | null]> {
  const sides = [a, b];
  for (const s of sides) await s?.setup();
  try {
    const ns = [0, 0];
    for (let k = 0; k < 2; k++) if (sides[k]) ns[k] = await calibrate(sides[k]!, maxN, runMs);
    const out: Measured[] = [{ perOp: [], n: ns[0]! }, { perOp: [], n: ns[1]! }];
    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? [1, 0] : [0, 1];
      for (const k of order) {
        const s = sides[k];
        if (!s) continue;
        const r = await s.run(ns[k]!);
        out[k]!.perOp.push(r.ns / r.ops);
      }
    }
    return [a ? out[0]! : null, b ? out[1]! : null];
  } finally {
    for (const s of sides) await s?.teardown();
  }
}

// ------------------------------------------------------------------ rows

interface TimeRow {
  kind: 'time';
  id: string;
  name: string;
  native: [string, number];
  model: BenchSpec;
  /** Largest acceptable model/native ratio (null: information only). */
  max: number | null;
  maxN?: number;
  runMs?: number;
}

interface BandwidthRow {
  kind: 'bandwidth';
  id: string;
  name: string;
  native: [string, number];
  model: BenchSpec;
  bytes: number;
  /** Smallest acceptable model/native bandwidth ratio (null: information only). */
  min: number | null;
  note?: string;
}

interface FlatRow {
  kind: 'flat';
  id: string;
  name: string;
  small: string;
  large: string;
  max: number;
}

type Row = TimeRow | BandwidthRow | FlatRow | { kind: 'memory'; id: string } | { kind: 'worker'; id: string };

const PAGES_64M = (64 << 20) / 4096;

const ROWS: Row[] = [
  { kind: 'time', id: 'cycle', name: 'cycle: shmget(IPC_PRIVATE, 4096) + shmat + 1-byte write + shmdt + IPC_RMID', native: ['cycle', 0], model: ['cycle'], max: 0.1 },
  { kind: 'time', id: 'lookup-16', name: 'shmget(key, 0, 0) lookup, 16 segments', native: ['lookup', 16], model: ['lookup', 16], max: 0.1 },
  { kind: 'time', id: 'lookup-32000', name: 'shmget(key, 0, 0) lookup, 32 000 segments', native: ['lookup', 32000], model: ['lookup', 32000], max: 0.1 },
  { kind: 'flat', id: 'lookup-flat', name: 'shmget lookup: 32 000 / 16 segments', small: 'lookup-16', large: 'lookup-32000', max: 1.3 },
  { kind: 'time', id: 'attach-0', name: 'shmat + shmdt, 0 other VMAs', native: ['attach', 0], model: ['attach', 0], max: 0.15 },
  { kind: 'time', id: 'attach-60000', name: 'shmat + shmdt, 60 000 other VMAs', native: ['attach', 60000], model: ['attach', 60000], max: 0.15 },
  { kind: 'flat', id: 'attach-flat', name: 'shmat + shmdt: 60 000 / 0 other VMAs', small: 'attach-0', large: 'attach-60000', max: 1.3 },
  { kind: 'time', id: 'stat', name: 'shmctl(IPC_STAT)', native: ['stat', 0], model: ['stat'], max: 0.2 },
  { kind: 'time', id: 'fork-1000', name: 'fork + child exit, 1000 segments attached', native: ['fork', 1000], model: ['fork', 1000], max: 0.25 },
  { kind: 'time', id: 'touch', name: 'first touch of a fresh segment page (64 MiB segment, per page)', native: ['touch', PAGES_64M], model: ['touch', PAGES_64M], max: 0.1, maxN: 4, runMs: 60 },
  { kind: 'time', id: 'touch-floor', name: 'floor: first store into each page of a fresh SharedArrayBuffer (host page fault, no model)', native: ['touch', PAGES_64M], model: ['hostTouch', PAGES_64M], max: null, maxN: 4, runMs: 60 },
  { kind: 'bandwidth', id: 'copy-view', name: '64 MiB copy into a segment through a zero-copy view (memcpy)', native: ['memcpy', 64], model: ['copy', 64, 'memcpy'], bytes: 64 << 20, min: 0.9 },
  { kind: 'bandwidth', id: 'copy-view-set', name: '64 MiB copy into a segment through a zero-copy view (TypedArray#set)', native: ['memcpy', 64], model: ['copy', 64, 'set'], bytes: 64 << 20, min: null, note: "information: V8's copy into shared memory" },
  { kind: 'bandwidth', id: 'copy-write', name: '64 MiB through the checked write path (p.sys.write)', native: ['memcpy', 64], model: ['copy', 64, 'write'], bytes: 64 << 20, min: 0.3 },
  { kind: 'memory', id: 'memory' },
  { kind: 'worker', id: 'worker' },
];

function selected(id: string, name = ''): boolean {
  if (!FILTER.length) return true;
  const hay = `${id} ${name}`.toLowerCase();
  return FILTER.some((f) => hay.includes(f));
}

// ------------------------------------------------------------------ measuring rows

async function timeRow(row: TimeRow, srv: NativeServer | null): Promise<Result> {
  log(`  ${row.id} ...`);
  const [nat, mod] = await interleave(srv ? nativeSide(srv, ...row.native) : null, modelSide(row.model), row.maxN ?? 1e7, RUNS, row.runMs);
  const native_ns = nat ? median(nat.perOp) : null;
  const model_ns = median(mod!.perOp);
  const ratio = native_ns ? model_ns / native_ns : null;
  return {
    id: row.id, kind: row.max === null ? 'info' : 'time', name: row.name, native_ns, model_ns, ratio,
    target: row.max === null ? '(information)' : `<= ${row.max}x`,
    met: ratio === null || row.max === null ? null : ratio <= row.max,
  };
}

async function bandwidthRow(row: BandwidthRow, srv: NativeServer | null): Promise<Result> {
  log(`  ${row.id} ...`);
  let how = '';
  const [nat, mod] = await interleave(srv ? nativeSide(srv, ...row.native) : null, modelSide(row.model, (h) => { how = h; }), 50, RUNS, 80);
  const native_ns = nat ? median(nat.perOp) : null;
  const model_ns = median(mod!.perOp);
  const native_gbps = native_ns ? row.bytes / native_ns : null;
  const model_gbps = row.bytes / model_ns;
  const ratio = native_gbps ? model_gbps / native_gbps : null;
  return {
    id: row.id, kind: row.min === null ? 'info' : 'bandwidth', name: row.name, native_ns, model_ns, ratio, native_gbps, model_gbps,
    target: row.min === null ? '(information)' : `>= ${row.min}x`,
    met: row.min === null || ratio === null ? null : ratio >= row.min,
    ...(row.note || how ? { note: [row.note, how].filter(Boolean).join('; ') } : {}),
  };
}

function flatRow(row: FlatRow, done: Map<string, Result>): Result | null {
  const s = done.get(row.small), l = done.get(row.large);
  if (!s || !l) return null;
  const ratio = l.model_ns! / s.model_ns!;
  const nativeGrowth = l.native_ns && s.native_ns ? l.native_ns / s.native_ns : null;
  return {
    id: row.id, kind: 'flat', name: row.name, native_ns: null, model_ns: null, ratio,
    target: `<= ${row.max}x (flat)`, met: ratio <= row.max,
    note: `model ${fmtNs(s.model_ns)} -> ${fmtNs(l.model_ns)}${nativeGrowth ? `; native ${fmtRatio(nativeGrowth)} (${fmtNs(s.native_ns)} -> ${fmtNs(l.native_ns)})` : ''}`,
  };
}

async function memoryRows(): Promise<Result[]> {
  log('  memory ... (own Node process)');
  const script = fileURLToPath(new URL('./model/memory.js', import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    const c = spawn(process.execPath, ['--expose-gc', script, String(RUNS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    c.stdout.on('data', (d: Buffer) => { s += d.toString(); });
    c.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`memory benchmark exited with ${code}`))));
  });
  const m = JSON.parse(out) as { tib: { rss: number[]; heap: number[] }; empty: { rss: number[]; heap: number[] } };
  const tibRss = median(m.tib.rss), tibHeap = median(m.tib.heap);
  const emRss = median(m.empty.rss), emHeap = median(m.empty.heap);
  // The 1 TiB row is about RSS (the segment's virtual reservation is not a
  // cost); the empty-segment cost is the larger of the RSS growth and the V8
  // heap + external growth (RSS moves in whole heap pages).
  const tib = tibRss, em = Math.max(emRss, emHeap);
  return [
    {
      id: 'memory-tib', kind: 'memory', name: '1 TiB SHM_NORESERVE segment, attached, one page touched: RSS growth',
      native_ns: null, model_ns: null, ratio: null, model_bytes: tib, target: '<= 64 KiB', met: tib <= 64 * 1024,
      note: `per segment, 8 at a time: RSS ${fmtBytes(tibRss)}, V8 heap ${fmtBytes(tibHeap)} (medians of ${m.tib.rss.length})`,
    },
    {
      id: 'memory-empty', kind: 'memory', name: '10 000 empty segments: memory per segment',
      native_ns: null, model_ns: null, ratio: null, model_bytes: em, target: '<= 1 KiB each', met: em <= 1024,
      note: `RSS ${fmtBytes(emRss)}, V8 heap+external ${fmtBytes(emHeap)} per segment (medians of ${m.empty.rss.length})`,
    },
  ];
}

async function workerRows(srv: NativeServer | null): Promise<Result[]> {
  log('  worker runtime ...');
  const wb = await WorkerBench.start();
  const pingName = 'futex ping-pong round trip, two worker processes, FUTEX_WAIT/WAKE on a segment word';
  const scName = 'worker system-call round trip (getpid) vs bare Atomics.wait request/response';
  if (typeof wb === 'string') {
    return [
      { id: 'futex-pingpong', kind: 'time', name: pingName, native_ns: null, model_ns: null, ratio: null, target: '<= 1.3x', met: null, note: wb },
      { id: 'worker-syscall', kind: 'time', name: scName, native_ns: null, model_ns: null, ratio: null, target: '<= 1.2x', met: null, note: wb },
    ];
  }
  try {
    // Ping-pong: native processes and worker processes, interleaved.
    const pingSide: Side = { setup: async () => undefined, teardown: async () => undefined, run: async (n) => ({ ns: (await wb.pingPong(n)) * n, ops: n }) };
    const [nat, mod] = await interleave(srv ? nativeSide(srv, 'futex', 0) : null, pingSide, 1e6, RUNS, 60);
    const pn = nat ? median(nat.perOp) : null, pm = median(mod!.perOp);
    // The floor of the fast path: bare Atomics.wait/notify between the same two workers.
    const bareSide: Side = { setup: async () => undefined, teardown: async () => undefined, run: async (n) => ({ ns: (await wb.pingPong(n, true)) * n, ops: n }) };
    const [natB, modB] = await interleave(srv ? nativeSide(srv, 'futex', 0) : null, bareSide, 1e6, RUNS, 60);
    const bn = natB ? median(natB.perOp) : null, bm = median(modB!.perOp);
    // System calls: getpid and its floor, measured by the same worker in the same run.
    const getpid: number[] = [], floor: number[] = [];
    let n = 2000;
    const first = await wb.syscall(n);
    n = Math.max(1000, Math.min(200000, Math.ceil((RUN_MS * 1e6) / Math.max(first.getpid, 1))));
    await wb.syscall(n);
    for (let i = 0; i < RUNS; i++) {
      const r = await wb.syscall(n);
      getpid.push(r.getpid);
      floor.push(r.floor);
    }
    const g = median(getpid), f = median(floor);
    return [
      { id: 'futex-pingpong', kind: 'time', name: pingName, native_ns: pn, model_ns: pm, ratio: pn ? pm / pn : null, target: '<= 1.3x', met: pn ? pm / pn <= 1.3 : null },
      {
        id: 'futex-pingpong-floor', kind: 'info', name: 'floor: bare Atomics.wait/notify ping-pong between the same two workers (no futex layer)',
        native_ns: bn, model_ns: bm, ratio: bn ? bm / bn : null, target: '(information)', met: null,
      },
      { id: 'worker-syscall', kind: 'time', name: scName, native_ns: f, model_ns: g, ratio: g / f, target: '<= 1.2x', met: g / f <= 1.2, baseline: 'Atomics floor' },
    ];
  } finally {
    await wb.close();
  }
}

// ------------------------------------------------------------------ scaling series

interface SeriesDef { file: string; title: string; xLabel: string; yLabel: string; xs: number[]; lines: { name: string; native: (x: number) => [string, number]; model: (x: number) => BenchSpec; maxN?: number }[] }

const SERIES: SeriesDef[] = [
  {
    file: 'segments.svg', title: 'shmget(key, 0, 0) lookup against the number of segments', xLabel: 'segments in the IPC namespace', yLabel: 'time per lookup',
    xs: [16, 128, 1024, 8192, 32000],
    lines: [{ name: 'lookup', native: (x) => ['lookup', x], model: (x) => ['lookup', x] }],
  },
  {
    file: 'vmas.svg', title: 'shmat + shmdt against the number of other VMAs', xLabel: 'other VMAs in the process', yLabel: 'time per shmat + shmdt',
    xs: [10, 100, 1000, 10000, 60000],
    lines: [{ name: 'shmat+shmdt', native: (x) => ['attach', x], model: (x) => ['attach', x] }],
  },
  {
    file: 'fork.svg', title: 'fork + child exit against the number of attached segments', xLabel: 'segments attached at fork', yLabel: 'time per fork + exit',
    xs: [1, 10, 100, 1000, 4000],
    lines: [{ name: 'fork+exit', native: (x) => ['fork', x], model: (x) => ['fork', x], maxN: 2000 }],
  },
  {
    file: 'pages.svg', title: 'Per touched page: first touch, and shmdt + IPC_RMID', xLabel: 'pages touched in a fresh segment', yLabel: 'time per page',
    xs: [16, 256, 4096, 16384],
    lines: [
      { name: 'first touch', native: (x) => ['touch', x], model: (x) => ['touch', x, 'touch'], maxN: 2000 },
      { name: 'shmdt + IPC_RMID', native: (x) => ['teardown-touched', x], model: (x) => ['touch', x, 'teardown'], maxN: 2000 },
    ],
  },
];

async function plots(srv: NativeServer | null): Promise<string[]> {
  const dir = fileURLToPath(new URL('../../docs/perf/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const s of SERIES) {
    log(`  series ${s.file} ...`);
    const series: Series[] = [];
    const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e'];
    let ci = 0;
    for (const line of s.lines) {
      const nat: [number, number][] = [], mod: [number, number][] = [];
      for (const x of s.xs) {
        const [a, b] = await interleave(srv ? nativeSide(srv, ...line.native(x)) : null, modelSide(line.model(x)), line.maxN ?? 1e7, 3, 25);
        if (a) nat.push([x, median(a.perOp)]);
        mod.push([x, median(b!.perOp)]);
      }
      const suffix = s.lines.length > 1 ? ` (${line.name})` : '';
      const color = colors[ci++ % colors.length]!;
      if (nat.length) series.push({ name: `native${suffix}`, points: nat, color, dashed: true });
      series.push({ name: `model${suffix}`, points: mod, color });
    }
    const svg = linePlot({
      title: s.title, subtitle: `${machine().cpu}, ${machine().kernel}, Node ${process.version}; median of 3 interleaved runs`,
      xLabel: s.xLabel, yLabel: s.yLabel, series, logX: true, logY: true,
      yFormat: (v) => fmtNs(v).replace(' ', '\u2009'),
    });
    await writeFile(dir + s.file, svg);
    written.push(`docs/perf/${s.file}`);
  }
  return written;
}

// ------------------------------------------------------------------ output

function machine(): { cpu: string; cores: number; memGiB: number; kernel: string } {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model.trim() ?? 'unknown CPU', cores: cpus.length, memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: `Linux ${os.release()}` };
}

function cells(r: Result): [string, string, string, string, string, string] {
  const met = r.met === null ? (r.kind === 'info' ? '' : 'n/a') : r.met ? 'yes' : 'NO';
  if (r.kind === 'bandwidth' || (r.kind === 'info' && r.native_gbps !== undefined)) {
    return [r.name, fmtGbps(r.native_gbps), fmtGbps(r.model_gbps), fmtRatio(r.ratio), r.target, met];
  }
  if (r.kind === 'flat') return [r.name, '', '', fmtRatio(r.ratio), r.target, met];
  if (r.kind === 'memory') return [r.name, '', fmtBytes(r.model_bytes), '', r.target, met];
  const nat = r.native_ns === null && r.note ? r.note : `${fmtNs(r.native_ns)}${r.baseline ? ` (${r.baseline})` : ''}`;
  return [r.name, nat, fmtNs(r.model_ns), fmtRatio(r.ratio), r.target, met];
}

function textTable(results: Result[]): string {
  const head: [string, string, string, string, string, string] = ['operation', 'native', 'model', 'ratio', 'target', 'met'];
  const rows = [head, ...results.map(cells)];
  const w = head.map((_, i) => Math.min(i === 0 ? 70 : 40, Math.max(...rows.map((r) => r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 4 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  const out = [line(head), w.map((x) => '-'.repeat(x)).join('  ')];
  for (const r of rows.slice(1)) {
    out.push(line(r.map((c, i) => (i === 0 && c.length > w[0]! ? c.slice(0, w[0]! - 1) + '…' : c))));
  }
  const notes = results.filter((r) => r.note && r.kind !== 'time').map((r) => `  ${r.id}: ${r.note}`);
  if (notes.length) out.push('', 'notes:', ...notes);
  return out.join('\n');
}

function markdownTable(results: Result[]): string {
  const out = ['| operation | native | model | ratio | target | met |', '|---|---:|---:|---:|---|---|'];
  for (const r of results) {
    const c = cells(r);
    if (r.note && r.kind !== 'time') c[0] += ` <br><sub>${r.note}</sub>`;
    out.push(`| ${c.join(' | ')} |`);
  }
  return out.join('\n');
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const t0 = Date.now();
  const mc = machine();
  log(`sysvshm benchmark: ${mc.cpu} x${mc.cores}, ${mc.memGiB} GiB, ${mc.kernel}, Node ${process.version}; ${RUNS} interleaved runs per side`);
  let srv: NativeServer | null = null;
  let nativeWhy = '';
  if (!MODEL_ONLY) {
    try {
      srv = await NativeServer.start();
    } catch (e) {
      nativeWhy = (e as Error).message;
      log(`${nativeWhy} -- model side only`);
    }
  }
  const results: Result[] = [];
  const byId = new Map<string, Result>();
  try {
    for (const row of ROWS) {
      let rs: Result[] = [];
      if (row.kind === 'time') { if (selected(row.id, row.name)) rs = [await timeRow(row, srv)]; }
      else if (row.kind === 'bandwidth') { if (selected(row.id, row.name)) rs = [await bandwidthRow(row, srv)]; }
      else if (row.kind === 'flat') { const r = flatRow(row, byId); if (r) rs = [r]; }
      else if (row.kind === 'memory') { if (selected('memory-tib memory-empty memory')) rs = await memoryRows(); }
      else if (row.kind === 'worker') { if (selected('futex-pingpong worker-syscall worker futex')) rs = await workerRows(srv); }
      for (const r of rs) { results.push(r); byId.set(r.id, r); }
    }
    let plotFiles: string[] = [];
    if (PLOTS) plotFiles = await plots(srv);
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    if (JSON_OUT) {
      process.stdout.write(JSON.stringify(results.map(({ id: _id, kind: _kind, ...r }) => r), null, 1) + '\n');
    } else if (MARKDOWN) {
      process.stdout.write(`Machine: ${mc.cpu} (${mc.cores} cores), ${mc.memGiB} GiB RAM, ${mc.kernel}, Node ${process.version}; ${RUNS} interleaved runs per side, medians; ${secs} s.\n\n`);
      process.stdout.write(markdownTable(results) + '\n');
    } else {
      process.stdout.write(`\nsysvshm vs Linux (${mc.cpu} x${mc.cores}, ${mc.kernel}, Node ${process.version}); medians of ${RUNS} interleaved runs; ratio = model/native time (bandwidth: model/native)\n\n`);
      process.stdout.write(textTable(results) + '\n');
      if (nativeWhy) process.stdout.write(`\nnative side: ${nativeWhy}\n`);
      const missed = results.filter((r) => r.met === false).length;
      const pending = results.filter((r) => r.met === null && r.kind !== 'info').length;
      process.stdout.write(`\n${results.filter((r) => r.met === true).length} met, ${missed} missed${pending ? `, ${pending} not measured` : ''}; ${secs} s${plotFiles.length ? `; plots: ${plotFiles.join(', ')}` : ''}\n`);
    }
  } finally {
    await srv?.close();
  }
}

await main();
