/**
 * The x86_64 system-call table of the model, for emulators that trap a
 * guest's `syscall` instruction: `dispatch(process, nr, args)` takes the six
 * argument registers as unsigned 64-bit values and returns what the kernel
 * would leave in rax (a negative errno on failure). Pointers are guest
 * addresses in the process's address space; copies through them fault with
 * EFAULT as copy_to_user/copy_from_user do.
 */
import { Errno } from '../abi/errno.js';
import type { UserBuffer } from '../shm/shmctl.js';
import type { Process } from './process.js';
import { int } from './syscalls.js';

/** arch/x86/entry/syscalls/syscall_64.tbl */
export const SYS = {
  mmap: 9, mprotect: 10, munmap: 11, mremap: 25, madvise: 28, shmget: 29, shmat: 30, shmctl: 31,
  getpid: 39, fork: 57, exit: 60, shmdt: 67, setgroups: 116, setresuid: 117, setresgid: 119,
  prctl: 157, exit_group: 231, unshare: 272, prlimit64: 302,
} as const;

/** copy_to_user / copy_from_user through the process's own page tables. */
function userBuffer(p: Process, addr: bigint): UserBuffer {
  return {
    copyTo(bytes) {
      return addr !== 0n && !p.sys.write(addr, bytes).fault;
    },
    copyFrom(len) {
      if (addr === 0n) return null;
      const r = p.sys.read(addr, len);
      return r.fault ? null : r.data;
    },
  };
}

/** Performs system call `nr` for `p`; unknown numbers are ENOSYS. */
export function dispatch(p: Process, nr: number, args: readonly bigint[]): bigint {
  const a = (i: number) => BigInt.asUintN(64, args[i] ?? 0n);
  const n = (i: number) => int(a(i));
  const s = p.sys;
  let r: number;
  switch (nr) {
    case SYS.mmap: r = s.mmap(a(0), a(1), n(2), n(3), n(4), a(5)); break;
    case SYS.mprotect: r = s.mprotect(a(0), a(1), n(2)); break;
    case SYS.munmap: r = s.munmap(a(0), a(1)); break;
    case SYS.mremap: r = s.mremap(a(0), a(1), a(2), n(3), a(4)); break;
    case SYS.madvise: r = s.madvise(a(0), a(1), n(2)); break;
    case SYS.shmget: r = s.shmget(n(0), a(1), n(2)); break;
    case SYS.shmat: r = s.shmat(n(0), a(1), n(2)); break;
    case SYS.shmctl: r = s.shmctl(n(0), n(1), userBuffer(p, a(2))); break;
    case SYS.shmdt: r = s.shmdt(a(0)); break;
    case SYS.getpid: r = s.getpid(); break;
    case SYS.fork: r = s.fork(); break;
    case SYS.exit:
    case SYS.exit_group: r = s.exit(n(0)); break;
    case SYS.unshare: r = s.unshare(n(0)); break;
    case SYS.setresuid: r = s.setresuid(n(0), n(1), n(2)); break;
    case SYS.setresgid: r = s.setresgid(n(0), n(1), n(2)); break;
    case SYS.prctl: r = s.prctl(n(0), a(1)); break;
    case SYS.setgroups: {
      const count = n(0);
      if (count < 0 || count > 65536) { r = -Errno.EINVAL; break; }
      const ub = userBuffer(p, a(1)).copyFrom(count * 4);
      if (count > 0 && !ub) { r = -Errno.EFAULT; break; }
      const groups: number[] = [];
      const v = ub ? new DataView(ub.buffer, ub.byteOffset, ub.byteLength) : null;
      for (let i = 0; i < count; i++) groups.push(v!.getUint32(i * 4, true));
      r = s.setgroups(groups);
      break;
    }
    case SYS.prlimit64: {
      // prlimit64(pid, resource, new, old): only the caller (pid 0 or its own).
      const pid = n(0);
      if (pid !== 0 && pid !== p.pid) { r = -Errno.ESRCH; break; }
      const old = a(3);
      if (old !== 0n) {
        const b = new Uint8Array(16);
        const dv = new DataView(b.buffer);
        dv.setBigUint64(0, p.memlock.cur, true);
        dv.setBigUint64(8, p.memlock.max, true);
        if (n(1) === 8 && !userBuffer(p, old).copyTo(b)) { r = -Errno.EFAULT; break; }
      }
      if (a(2) === 0n) { r = 0; break; }
      const nb = userBuffer(p, a(2)).copyFrom(16);
      if (!nb) { r = -Errno.EFAULT; break; }
      const dv = new DataView(nb.buffer, nb.byteOffset, 16);
      r = s.setrlimit(n(1), dv.getBigUint64(0, true), dv.getBigUint64(8, true));
      break;
    }
    default: r = -Errno.ENOSYS;
  }
  return BigInt(r);
}
