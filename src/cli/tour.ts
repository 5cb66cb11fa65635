/**
 * `sysvshm tour` (npm start): a guided scenario on the model kernel, then
 * the kernel's own views of the result: /proc/sysvipc/shm and the maps of
 * every live process.
 */
import { parseScript } from '../scenario/parser.js';
import { Interpreter } from '../scenario/interpreter.js';
import { ModelBackend } from '../scenario/model-backend.js';

export const TOUR = `# A tour of SysV shared memory on the sysvshm model kernel.
# A producer creates a keyed segment, attaches it and writes into it.
shmget 0x5eed 10000 IPC_CREAT|0640 -> $id
shmat $id 0 0 -> $a
write $a "hello from p0"
# A forked child inherits the attachment: nattch counts VMAs, so it is 2.
fork p1
p1: read $a 13
shmctl $id IPC_STAT
# mprotect on the middle page splits p1's VMA in three: nattch 4.
p1: mprotect $a+PAGE PAGE PROT_READ
p1: maps
shmctl $id IPC_STAT
# A consumer in another process finds the segment by its key, read-only.
fork p2
p2: shmget 0x5eed 0 0
p2: shmat $id 0 SHM_RDONLY -> $r
p2: write $r "x"
p2: read $r+10 3
# IPC_RMID while attached: the key becomes private, the segment lives on.
shmctl $id IPC_RMID
shmget 0x5eed 0 0
sysvipc
# shmdt finds the fragments of the attach, wherever mprotect split it.
p1: shmdt $a
p1: exit
shmctl $id SHM_INFO
`;

export async function tourCommand(): Promise<number> {
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
