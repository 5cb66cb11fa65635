/**
 * The process lifecycle of the kernel: kernel/fork.c copy_process() and
 * dup_mmap(), kernel/exit.c do_exit(), kernel/fork.c ksys_unshare(),
 * kernel/sys.c do_prlimit(), and the typed API's SysError / MemoryFault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno, SysError, MemoryFault } from '../../src/index.js';
import {
  CAP_FULL_SET, IPC_CREAT, IPC_PRIVATE, MADV_DONTFORK, MAP_ANONYMOUS, MAP_PRIVATE, MREMAP_MAYMOVE,
  PROT_READ, RLIMIT_MEMLOCK, RLIM_INFINITY,
} from '../../src/abi/constants.js';
import { makeCredentials } from '../../src/auth/cred.js';
import { userVmas } from '../helpers/vmas.js';
import { clockedKernel } from '../helpers/kernel.js';

const PAGE = 4096;
const CLONE_NEWIPC = 0x08000000;

function setup() {
  const { kernel, tick } = clockedKernel(100);
  return { kernel, p: kernel.spawn(), tick };
}

test('copy_process: the child shares the parent\'s credentials and IPC namespace and copies its limits', () => {
  const { kernel, p } = setup();
  assert.equal(p.sys.setresgid(5, 5, 5), 0);
  assert.equal(p.sys.setrlimit(RLIMIT_MEMLOCK, 4096, 8192), 0);
  const child = kernel.fork(p);
  assert.equal(child.cred, p.cred, 'the same struct cred');
  assert.equal(child.ipcNs, p.ipcNs);
  assert.equal(child.ppid, p.pid);
  assert.notEqual(child.pid, p.pid);
  assert.deepEqual(child.memlock, { cur: 4096n, max: 8192n });
  // Limits are a copy: changing the child's leaves the parent's.
  assert.equal(child.sys.setrlimit(RLIMIT_MEMLOCK, 0, 0), 0);
  assert.deepEqual(p.memlock, { cur: 4096n, max: 8192n });
  // A credential change in the child replaces its own reference only.
  assert.equal(child.sys.setresuid(7, 7, 7), 0);
  assert.equal(p.cred.uid, 0);
  assert.equal(child.cred.uid, 7);
  // After unshare the parent stays in the old namespace.
  const grand = kernel.fork(p);
  assert.equal(grand.sys.unshare(CLONE_NEWIPC), 0);
  assert.notEqual(grand.ipcNs, p.ipcNs);
  assert.equal(kernel.fork(grand).ipcNs, grand.ipcNs);
});

test('dup_mmap: fork opens every inherited attach in the parent\'s context (nattch, atime, lpid = parent)', () => {
  const { kernel, p, tick } = setup();
  const id = p.shmget(IPC_PRIVATE, 3 * PAGE);
  const a = p.shmat(id);
  p.mprotect(a + PAGE, PAGE, PROT_READ);
  const other = kernel.spawn();
  other.shmat(id);
  assert.equal(p.shmStat(id).lpid, other.pid);
  tick(200);
  const child = kernel.fork(p);
  const st = p.shmStat(id);
  assert.equal(st.nattch, 3 + 1 + 3);
  assert.equal(st.atime, 200);
  assert.equal(st.lpid, p.pid, 'lpid is the parent, not the child');
  // Shared memory: a write in the child is seen by the parent.
  child.write(a, 'hi');
  assert.equal(new TextDecoder().decode(p.read(a, 2)), 'hi');
  // MADV_DONTFORK VMAs are not copied.
  p.madvise(a, PAGE, MADV_DONTFORK);
  kernel.fork(p);
  assert.equal(p.shmStat(id).nattch, 7 + 2);
});

test('do_exit: exit_mm closes every VMA (nattch down, lpid = the exiting pid, dtime = now)', () => {
  const { kernel, p, tick } = setup();
  const id = p.shmget(0x777, 2 * PAGE, IPC_CREAT | 0o600);
  p.shmat(id);
  const child = kernel.fork(p);
  const b = child.shmat(id);
  child.mprotect(b, PAGE, PROT_READ);
  assert.equal(p.shmStat(id).nattch, 4);
  tick(300);
  kernel.exit(child, 3);
  const st = p.shmStat(id);
  assert.equal(st.nattch, 1);
  assert.equal(st.lpid, child.pid);
  assert.equal(st.dtime, 300);
  assert.equal(child.alive, false);
  assert.equal(child.exitCode, 3);
  assert.equal(userVmas(child).length, 0);
  // An exited process's raw calls fail with ESRCH.
  assert.equal(child.sys.shmget(IPC_PRIVATE, 1, 0), -Errno.ESRCH);
  assert.equal(child.sys.shmat(id, 0, 0), -Errno.ESRCH);
  assert.equal(child.sys.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS), -Errno.ESRCH);
  assert.equal(child.sys.exit(0), -Errno.ESRCH);
  // exit() of an exited process is a no-op.
  kernel.exit(child);
  assert.equal(p.shmStat(id).nattch, 1);
});

test('do_exit: pages of private and shared anonymous memory go back to the allocator', () => {
  const { kernel, p } = setup();
  const a = p.mmapPrivate(4 * PAGE);
  p.fill(a, 4 * PAGE, 1);
  const s = p.mmap(0, 2 * PAGE);
  p.fill(s, 2 * PAGE, 2);
  const child = kernel.fork(p);
  child.fill(a, PAGE, 3); // one COW copy
  assert.equal(kernel.allocator.allocatedPages, 4 + 2 + 1);
  kernel.exit(p);
  assert.equal(kernel.allocator.allocatedPages, 4 + 2);
  kernel.exit(child);
  assert.equal(kernel.allocator.allocatedPages, 0);
  assert.equal(kernel.allocator.committedPages, 0);
});

test('ksys_unshare: CLONE_NEWIPC needs CAP_SYS_ADMIN; other flags are EINVAL; 0 is a no-op', () => {
  const { kernel, p } = setup();
  const ns = p.ipcNs;
  assert.equal(p.sys.unshare(0), 0);
  assert.equal(p.ipcNs, ns);
  assert.equal(p.sys.unshare(0x40000000), -Errno.EINVAL, 'CLONE_NEWNET is not modelled');
  assert.equal(p.sys.unshare(CLONE_NEWIPC | 0x20000), -Errno.EINVAL);
  assert.equal(p.ipcNs, ns);
  // Dropping every capability: EPERM, namespace unchanged.
  const q = kernel.fork(p);
  assert.equal(q.sys.capset(0n, 0n, 0n), 0);
  assert.equal(q.sys.unshare(CLONE_NEWIPC), -Errno.EPERM);
  assert.equal(q.ipcNs, ns);
  // CAP_SYS_ADMIN alone is enough, even for a non-root uid.
  const r = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 1000, capEffective: 1n << 21n }) });
  assert.equal(r.sys.unshare(CLONE_NEWIPC), 0);
  assert.notEqual(r.ipcNs, ns);
  const s = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 1000 }) });
  assert.equal(s.sys.unshare(CLONE_NEWIPC), -Errno.EPERM);
  assert.equal(ns.references, 4, 'the kernel, p, q and s (r dropped its reference)');
});

test('do_prlimit: RLIMIT_MEMLOCK cur > max is EINVAL; raising max needs CAP_SYS_RESOURCE', () => {
  const { kernel, p } = setup();
  assert.deepEqual(p.memlock, { cur: 8n << 20n, max: 8n << 20n });
  assert.equal(p.sys.setrlimit(RLIMIT_MEMLOCK, 2, 1), -Errno.EINVAL);
  assert.equal(p.sys.setrlimit(RLIMIT_MEMLOCK, RLIM_INFINITY, 0), -Errno.EINVAL);
  // Root of the reference machines lacks CAP_SYS_RESOURCE.
  assert.equal(p.sys.setrlimit(RLIMIT_MEMLOCK, 0, (8n << 20n) + 1n), -Errno.EPERM);
  assert.equal(p.sys.setrlimit(RLIMIT_MEMLOCK, RLIM_INFINITY, RLIM_INFINITY), -Errno.EPERM);
  assert.deepEqual(p.memlock, { cur: 8n << 20n, max: 8n << 20n }, 'failures change nothing');
  // Lowering, and raising cur up to max, are allowed to anyone.
  assert.equal(p.sys.setrlimit(RLIMIT_MEMLOCK, 0, 4096), 0);
  assert.equal(p.sys.setrlimit(RLIMIT_MEMLOCK, 4096, 4096), 0);
  assert.equal(p.sys.setrlimit(RLIMIT_MEMLOCK, 4096, 8192), -Errno.EPERM);
  // A process with CAP_SYS_RESOURCE may raise max.
  const full = kernel.spawn({ cred: makeCredentials({ capEffective: CAP_FULL_SET }) });
  assert.equal(full.sys.setrlimit(RLIMIT_MEMLOCK, RLIM_INFINITY, RLIM_INFINITY), 0);
  assert.deepEqual(full.memlock, { cur: RLIM_INFINITY, max: RLIM_INFINITY });
  // -1 as a number is RLIM_INFINITY (u64).
  assert.equal(full.sys.setrlimit(RLIMIT_MEMLOCK, -1, -1), 0);
  // Other resources are not modelled.
  assert.equal(p.sys.setrlimit(7, 0, 0), -Errno.EINVAL);
});

test('typed API over the raw returns (-errno): failures throw SysError with code, negative errno and syscall name', () => {
  const { p } = setup();
  const cases: [() => unknown, string, string][] = [
    [() => p.shmget(IPC_PRIVATE, 0), 'EINVAL', 'shmget'],
    [() => p.shmget(0x999, 1), 'ENOENT', 'shmget'],
    [() => p.shmat(12345), 'EINVAL', 'shmat'],
    [() => p.shmdt(0x1000), 'EINVAL', 'shmdt'],
    [() => p.shmStat(12345), 'EINVAL', 'shmctl'],
    [() => p.shmRemove(-1), 'EINVAL', 'shmctl'],
    [() => p.mmap(0, 0), 'EINVAL', 'mmap'],
    [() => p.munmap(1, PAGE), 'EINVAL', 'munmap'],
    [() => p.mprotect(0x1000, PAGE, PROT_READ), 'ENOMEM', 'mprotect'],
    [() => p.mremap(0x1000, PAGE, 2 * PAGE, MREMAP_MAYMOVE), 'EFAULT', 'mremap'],
    [() => p.madvise(1, PAGE, 0), 'EINVAL', 'madvise'],
  ];
  for (const [fn, code, syscall] of cases) {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof SysError, `${syscall}: ${String(e)}`);
      assert.ok(e instanceof Error);
      assert.equal(e.code, code, syscall);
      assert.equal(e.errno, -(Errno as Record<string, number>)[code]!);
      assert.equal(e.syscall, syscall);
      assert.equal(e.name, 'SysError');
      assert.match(e.message, new RegExp(`^${code}: ${syscall}`));
      return true;
    });
  }
  // Success returns the raw value.
  const id = p.shmget(IPC_PRIVATE, 1);
  assert.equal(p.shmat(id), userVmas(p)[0]!.start);
});

test('do_user_addr_fault / SIGBUS: read/write/fill throw MemoryFault with the signal, address and offset', () => {
  const { p } = setup();
  assert.throws(() => p.read(0x1000, 1), (e: unknown) => {
    assert.ok(e instanceof MemoryFault);
    assert.equal(e.signal, 'SIGSEGV');
    assert.equal(e.address, 0x1000n);
    assert.equal(e.offset, 0n);
    assert.equal(e.name, 'MemoryFault');
    return true;
  });
  const a = p.mmapPrivate(2 * PAGE);
  p.mprotect(a + PAGE, PAGE, 0);
  assert.throws(() => p.read(a + 10, PAGE), (e: unknown) => e instanceof MemoryFault && e.signal === 'SIGSEGV'
    && e.address === BigInt(a + PAGE) && e.offset === BigInt(PAGE - 10));
  // A partial write keeps the bytes before the fault.
  assert.throws(() => p.write(a + PAGE - 2, 'abcd'), (e: unknown) => e instanceof MemoryFault && e.offset === 2n);
  assert.equal(new TextDecoder().decode(p.read(a + PAGE - 2, 2)), 'ab');
  assert.throws(() => p.fill(a, 3 * PAGE, 0), (e: unknown) => e instanceof MemoryFault && e.offset === BigInt(PAGE));
  // SIGBUS beyond the segment's file after growing the attach.
  const id = p.shmget(IPC_PRIVATE, PAGE);
  const s = p.shmat(id);
  const grown = p.mremap(s, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
  p.write(grown, 'x');
  assert.throws(() => p.read(grown + PAGE, 1), (e: unknown) => e instanceof MemoryFault && e.signal === 'SIGBUS'
    && e.address === BigInt(grown + PAGE) && e.offset === 0n);
  // Above TASK_SIZE and at the very top of the 64-bit space.
  assert.throws(() => p.read(0x7ffffffff000n, 1), (e: unknown) => e instanceof MemoryFault && e.signal === 'SIGSEGV');
  assert.throws(() => p.read((1n << 64n) - 1n, 2), (e: unknown) => e instanceof MemoryFault && e.offset === 0n);
  // The raw layer reports the same fault instead of throwing.
  const r = p.sys.read(a + PAGE - 1, 2);
  assert.equal(r.fault?.signal, 'SIGSEGV');
  assert.equal(r.fault?.offset, 1n);
  assert.equal(r.data.length, 1);
});
