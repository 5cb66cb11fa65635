/**
 * Guest: a forked process (spawnWorker with `parent`) uses what it inherited.
 * argv: ['child', shared anon address, sysv address, shmid]
 *    or ['parent', fixed address]: maps shared memory there, then waits for a child
 *    forked from it to write into it.
 */
import type { GuestOs } from '../../../src/runtime/guest.js';
import { constants as C } from '../../../src/index.js';
import { assertEq, text } from '../guest-util.js';

export default function main(os: GuestOs): void {
  if (os.argv[0] === 'child') {
    const anon = Number(os.argv[1]);
    const sysv = Number(os.argv[2]);
    const id = Number(os.argv[3]);
    // The parent's shared anonymous memory, through a view and through read.
    const v = os.mem.view(anon, 8192);
    assertEq(text(v.subarray(0, 16)), 'from the parent', 'inherited shared anonymous memory (view)');
    assertEq(text(os.read(anon, 15)), 'from the parent', 'inherited shared anonymous memory (read)');
    assertEq(text(os.read(sysv, 4)), 'sysv', 'inherited SysV attachment');
    // dup_mmap opened the attach VMA: parent + child.
    assertEq(os.shmStat(id).nattch, 2, 'nattch with the inherited attachment');
    v.set(new TextEncoder().encode('from the child'), 100);
    os.write(sysv + 8, 'child');
    return;
  }
  if (os.argv[0] === 'parent') {
    const at = Number(os.argv[1]);
    const a = os.mmap(at, 4096, C.PROT_READ | C.PROT_WRITE, C.MAP_SHARED | C.MAP_ANONYMOUS | C.MAP_FIXED);
    assertEq(a, at, 'MAP_FIXED address');
    const w = os.mem.viewInt32(a, 4);
    Atomics.store(w, 0, 1); // ready: the test forks now
    // The child (a fork of this process) stores 2 and wakes us, through the same page.
    while (Atomics.load(w, 0) !== 2) os.futexWait(a, Atomics.load(w, 0), 10_000);
    assertEq(Atomics.load(w, 1), 42, 'the child\'s store');
    return;
  }
  if (os.argv[0] === 'grandchild') {
    const a = Number(os.argv[1]);
    const w = os.mem.viewInt32(a, 4);
    assertEq(Atomics.load(w, 0), 1, 'inherited page content');
    Atomics.store(w, 1, 42);
    Atomics.store(w, 0, 2);
    assertEq(os.futexWake(a, 1), 1, 'the parent was waiting');
  }
}
