/**
 * `sysvshm tour` (npm start): a guided scenario on the model kernel, then
 * the kernel's own views of the result: /proc/sysvipc/shm and the maps of
 * every live process.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseScript } from '../scenario/parser.js';
import { Interpreter } from '../scenario/interpreter.js';
import { ModelBackend } from '../scenario/model-backend.js';

/** The tour scenario, shipped as examples/tour.scn (it runs on the oracle too). */
export const TOUR_FILE = fileURLToPath(new URL('../../../examples/tour.scn', import.meta.url));

export async function tourCommand(): Promise<number> {
  const TOUR = readFileSync(TOUR_FILE, 'utf8');
  const backend = new ModelBackend();
  const out = (l: string) => process.stdout.write(l + '\n');
  out('== the tour scenario (sysvshm run would print the same) ==');
  for (const [i, l] of TOUR.split('\n').entries()) if (l && !l.startsWith('#')) out(`   ${String(i + 1).padStart(2)}  ${l}`);
  out('\n== its output on the model ==');
  const interp = new Interpreter(backend, out);
  await interp.run(parseScript(TOUR, 'tour.scn'));
  const k = backend.kernel;
  const first = k.live[0]!;
  out('\n== /proc/sysvipc/shm ==');
  const ipc = backend.proc.read('/proc/sysvipc/shm', first);
  if (ipc.ok) process.stdout.write(ipc.value);
  for (const p of k.live) {
    out(`\n== /proc/${p.pid}/maps (${p.comm}) ==`);
    const m = backend.proc.read(`/proc/${p.pid}/maps`, p);
    if (m.ok) process.stdout.write(m.value);
  }
  await backend.close();
  out(`\nafter every process exits: ${k.allocator.allocatedPages} pages allocated, ` +
    `${k.initIpcNs.shm.ids.inUse} segment(s) left in the initial namespace (IPC_RMID'd ones are gone).`);
  return 0;
}
