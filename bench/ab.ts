/**
 * A/B comparison of two builds of the model, for design changes whose effect
 * is a few per cent (docs/perf.md, "Measuring small changes").
 *
 *   node dist/bench/ab.js BASE_DIST [CHANGED_DIST] [--bench attach --arg 0] [--rounds 10] [--batches 16]
 *
 * Separate processes on these shared machines differ by up to 10 % for the
 * same code: the host's load drifts, and V8 compiles a hot path a little
 * differently in each process. This tool loads both builds (two copies of
 * `dist/`, so two sets of modules with their own type feedback) into one
 * process and alternates their batches; each round (a fresh process, so a
 * fresh compilation) prints both medians and their ratio. Identical builds
 * give 0.97-1.03 on a quiet host; a change is real when every round
 * agrees, or on a noisy one when the median of ten rounds (printed last)
 * is below about 0.98. CHANGED_DIST defaults to this build.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as path from 'node:path';
import type { ModelBench } from './model/ops.js';
import { median } from './lib/stats.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    bench: { type: 'string', default: 'attach' },
    arg: { type: 'string' },
    rounds: { type: 'string', default: '10' },
    batches: { type: 'string', default: '16' },
    ops: { type: 'string', default: '100000' },
    round: { type: 'string' },
  },
});

if (positionals.length < 1) {
  console.error('usage: node dist/bench/ab.js BASE_DIST [CHANGED_DIST] [--bench NAME] [--arg N] [--rounds R] [--batches B] [--ops N]');
  process.exit(2);
}
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dirs = [positionals[0]!, positionals[1] ?? here].map((d) => path.resolve(d));

type Factory = (arg?: number) => ModelBench;

async function load(dir: string): Promise<ModelBench> {
  const ops = await import(pathToFileURL(path.join(dir, 'bench/model/ops.js')).href) as Record<string, unknown>;
  const make = ops[values.bench!];
  if (typeof make !== 'function') throw new Error(`${dir}: no benchmark '${values.bench}' in bench/model/ops.js`);
  if (values.arg === undefined && make.length > 0) throw new Error(`benchmark '${values.bench}' takes an argument: give --arg N (attach: other VMAs)`);
  const b = (values.arg === undefined ? (make as Factory)() : (make as Factory)(Number(values.arg)));
  b.setup();
  return b;
}

const perOp = (b: ModelBench, n: number): number => { const r = b.run(n); return r.ns / r.ops; };
const batch = Number(values.ops);

if (values.round === undefined) {
  // The parent: one child process per round, then the median of the
  // rounds' ratios (docs/perf.md: on a noisy host, judge ten rounds by it).
  const ratios: number[] = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--round', String(round)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    process.stdout.write(r.stdout ?? '');
    if (r.status !== 0) process.exit(r.status ?? 1);
    const m = /changed\/base ([0-9.]+)/.exec(r.stdout ?? '');
    if (m) ratios.push(Number(m[1]));
  }
  if (ratios.length > 1) {
    const below = ratios.filter((x) => x < 1).length;
    console.log(`median of ${ratios.length} rounds: changed/base ${median(ratios).toFixed(3)} (${below} of ${ratios.length} below 1)`);
  }
} else {
  let a: ModelBench, b: ModelBench;
  try {
    [a, b] = [await load(dirs[0]!), await load(dirs[1]!)];
  } catch (e) {
    console.error(`ab: ${(e as Error).message}`);
    process.exit(2);
  }
  // Warm-up: let both builds reach their optimised code.
  for (const x of [a, b]) {
    const end = Date.now() + 800;
    for (let n = 1; Date.now() < end; n = Math.min(n * 2, batch)) x.run(n);
  }
  const ra: number[] = [], rb: number[] = [];
  for (let i = 0; i < Number(values.batches); i++) { ra.push(perOp(a, batch)); rb.push(perOp(b, batch)); }
  a.teardown();
  b.teardown();
  const ma = median(ra), mb = median(rb);
  console.log(`round ${values.round}: base ${ma.toFixed(0)} ns, changed ${mb.toFixed(0)} ns, changed/base ${(mb / ma).toFixed(3)}`);
}
