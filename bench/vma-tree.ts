/**
 * Micro-benchmark of the VMA index alone (not a test, not part of
 * `npm run bench`): insert+remove, lookups, gap searches and the bulk load of
 * fork, in trees of 10, 1000 and 60 000 VMAs. The layout is the one of the
 * attach benchmark (bench/model/ops.ts makeVmas): one-page VMAs one page
 * apart ending just below the mmap base, and a stack VMA at the top. shmat
 * of one page lands right below the mmap base, in the big free range under
 * the stack; a two-page request must skip every one-page hole of the block.
 * Run: node dist/bench/vma-tree.js
 */
import { VmaTree } from '../src/mm/vma-tree.js';
import { Vma } from '../src/mm/vma.js';

const PAGE = 4096;
const MMAP_BASE = 0x7ffff7fff000;
const STACK_END = 0x7ffffffff000;

function layout(n: number): Vma[] {
  const base = MMAP_BASE - n * 2 * PAGE;
  const vmas: Vma[] = [];
  for (let i = 0; i < n; i++) vmas.push(new Vma(base + i * 2 * PAGE, base + i * 2 * PAGE + PAGE, 3, 0, null));
  vmas.push(new Vma(STACK_END - 33 * PAGE, STACK_END, 3, 0, null));
  return vmas;
}

/** ns per call of fn: the best of five rounds after a warm-up (the machine is shared). */
function time(iters: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(iters, 20000); i++) fn(i);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / iters);
  }
  return best;
}

let sink = 0;
const rows: string[] = [];
for (const n of [10, 1000, 60000]) {
  const base = MMAP_BASE - n * 2 * PAGE;
  const tree = new VmaTree();
  // Inserted one by one in address order, as makeVmas maps them.
  for (const v of layout(n)) tree.insert(v);
  // The hole after VMA k of the block (k < n - 1), spread over the block.
  const hole = (i: number): number => base + ((i * 7919) % (n - 1)) * 2 * PAGE + PAGE;
  // Fresh VMA objects, as shmat creates one per call (cycled: the tree alone is measured, not their allocation).
  const probes: Vma[] = [];
  for (let i = 0; i < 4096; i++) probes.push(new Vma(0, 0, 3, 0, null));
  const results: [string, number][] = [
    ['insert+remove (shmat spot)', time(200000, (i) => {
      const v = probes[i & 4095]!;
      v.start = MMAP_BASE - PAGE; v.end = MMAP_BASE;
      tree.insert(v); tree.remove(v);
    })],
    ['insert+remove (spread)', time(200000, (i) => {
      const v = probes[i & 4095]!;
      v.start = hole(i); v.end = v.start + PAGE;
      tree.insert(v); tree.remove(v);
    })],
    ['setRange (shrink+grow)', time(200000, (i) => {
      const v = tree.lookup(hole(i) - PAGE)!;
      tree.setRange(v, v.start, v.end - PAGE / 2);
      tree.setRange(v, v.start, v.end + PAGE / 2);
    })],
    ['find (shmat spot)', time(300000, () => { sink += tree.find(MMAP_BASE - PAGE)!.start; })],
    ['find (spread)', time(300000, (i) => { sink += tree.find(hole(i))!.start; })],
    ['highestGapEnd 1 page', time(300000, () => { sink += tree.highestGapEnd(PAGE, PAGE, MMAP_BASE); })],
    ['highestGapEnd 2 pages', time(300000, () => { sink += tree.highestGapEnd(2 * PAGE, PAGE, MMAP_BASE); })],
    ['lowestGapStart 2 pages', time(300000, () => { sink += tree.lowestGapStart(2 * PAGE, base, MMAP_BASE + 4 * PAGE); })],
    ['buildSorted (per VMA)', time(Math.max(3, Math.floor(200000 / n)), () => {
      const t = new VmaTree();
      t.buildSorted(layout(n));
      sink += t.size;
    }) / (n + 1)],
  ];
  tree.validate();
  rows.push(`VMAs=${n}`);
  for (const [k, ns] of results) rows.push(`  ${k.padEnd(26)} ${ns.toFixed(1).padStart(9)} ns/op`);
}
console.log(rows.join('\n'));
if (sink === 0.5) console.log(sink);
