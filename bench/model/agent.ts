/**
 * The model side of one benchmark row, on a worker thread of its own: a
 * fresh V8 isolate per row, so that what earlier rows ran (and the type
 * feedback it left in the model's shared code) does not move this row's
 * numbers. The main thread sends {op: 'setup', spec}, {op: 'run', n} and
 * {op: 'teardown'}; the timing happens here (bench/model/ops.ts).
 */
import { parentPort } from 'node:worker_threads';
import { makeBench, type BenchSpec, type ModelBench } from './ops.js';

type Msg = { op: 'setup'; spec: BenchSpec } | { op: 'run'; n: number } | { op: 'teardown' };

let bench: (ModelBench & { how?(): string }) | null = null;

parentPort!.on('message', (m: Msg) => {
  try {
    if (m.op === 'setup') {
      bench = makeBench(m.spec);
      bench.setup();
      parentPort!.postMessage({ ok: true });
    } else if (m.op === 'run') {
      parentPort!.postMessage(bench!.run(m.n));
    } else {
      const how = bench?.how?.() ?? '';
      bench?.teardown();
      bench = null;
      parentPort!.postMessage({ ok: true, how });
    }
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
  }
});
