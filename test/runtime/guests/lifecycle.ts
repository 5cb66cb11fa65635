/** Guest: how a process ends. argv: [mode, ...] */
import type { GuestOs } from '../../../src/runtime/guest.js';
import { constants as C } from '../../../src/index.js';
import { FUTEX_WAIT, FUTEX_WAIT_BITSET } from '../../../src/runtime/futex-abi.js';
import { attachSpread, control, W } from '../guest-util.js';

export default async function main(os: GuestOs): Promise<number | void> {
  const [mode, id, index] = os.argv;
  switch (mode) {
    case 'return': return 3;
    case 'throw': throw new Error('boom from the guest');
    case 'exit':
      os.exit(5);
      throw new Error('exit returned');
    case 'sysexit':
      os.sys.exit(6);
      throw new Error('exit returned');
    case 'async':
      await new Promise((r) => setTimeout(r, 10));
      return 4;
    case 'spin':
      for (;;) { /* pure computation: no system calls */ }
    case 'loop': {
      // Loops making system calls forever: attach, write, view, detach, map, unmap...
      const base = attachSpread(os, Number(id), Number(index));
      const c = control(os, base);
      const own = os.shmget(C.IPC_PRIVATE, 8192, C.IPC_CREAT | 0o600);
      const ownAddr = os.shmat(own);
      os.shmRemove(own); // destroyed when this process goes
      const kept = os.shmget(C.IPC_PRIVATE, 4096, C.IPC_CREAT | 0o600); // an orphan after exit
      Atomics.store(c.i32, W.aux >> 2, kept);
      os.write(ownAddr, 'x');
      for (let i = 0; ; i++) {
        const a = os.shmat(Number(id));
        os.write(a + W.data, `iteration ${i}`);
        const v = os.mem.view(a, 4096);
        v[W.data + 2000] = i & 0xff;
        Atomics.add(c.i32, W.counter >> 2, 1);
        const m = os.mmap(0, 3 * 4096);
        os.fill(m, 3 * 4096, 1);
        os.mprotect(m + 4096, 4096, C.PROT_READ);
        os.munmap(m, 3 * 4096);
        os.shmdt(a);
        os.sys.getpid();
      }
    }
    case 'sleep-fast': {
      const base = attachSpread(os, Number(id), Number(index));
      control(os, base).add(W.ready, 1);
      os.futexWait(base + W.futex, 0);
      throw new Error('woken');
    }
    case 'spin-futex': {
      // Spawned with a 1 s spin budget: the first wait spins for its whole 1 s timeout.
      const base = attachSpread(os, Number(id), Number(index));
      control(os, base).add(W.ready, 1);
      for (;;) os.sys.futex(base + W.futex, FUTEX_WAIT, 0, 1_000_000_000);
    }
    case 'sleep-kernel': {
      const base = attachSpread(os, Number(id), Number(index));
      control(os, base).add(W.ready, 1);
      os.sys.futex(base + W.futex, FUTEX_WAIT_BITSET, 0, null, 0, 1);
      throw new Error('woken');
    }
    case 'no-main':
      return;
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}
