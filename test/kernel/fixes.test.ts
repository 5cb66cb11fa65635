/** Linux behaviours the model once got wrong (each checked on the host kernel). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, SysError, Errno, constants as C } from '../../src/index.js';

test('shmem_acct_size follows vm.overcommit_memory: mode 1 admits 1 TiB, mode 2 refuses 20 GiB even with SHM_NORESERVE', () => {
  const always = new Kernel({ totalRamPages: 6e6, sysctl: { overcommitMemory: 1 } });
  assert.ok(always.spawn().sys.shmget(0, 1n << 40n, 0o600) >= 0);
  const never = new Kernel({ totalRamPages: 6e6, sysctl: { overcommitMemory: 2 } });
  const p = never.spawn();
  const before = never.allocator.committedPages;
  assert.equal(p.sys.shmget(0, 20n << 30n, C.SHM_NORESERVE | 0o600), -Errno.ENOMEM);
  assert.equal(never.allocator.committedPages, before);
  const guess = new Kernel({ totalRamPages: 6e6 });
  assert.equal(guess.spawn().sys.shmget(0, 1n << 40n, 0o600), -Errno.ENOMEM);
  assert.ok(guess.spawn().sys.shmget(0, 1n << 40n, C.SHM_NORESERVE | 0o600) >= 0);
});

test('fork returns ENOMEM when dup_mmap cannot charge private memory, and creates no child', () => {
  const k = new Kernel({ totalRamPages: 1000, sysctl: { overcommitMemory: 2, overcommitRatio: 100 } });
  const p = k.spawn();
  const a = p.sys.mmap(0x10000000, 600 * 4096, C.PROT_READ | C.PROT_WRITE, C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_FIXED);
  assert.equal(a, 0x10000000);
  const n = k.processes.size;
  assert.equal(p.sys.fork(), -Errno.ENOMEM);
  assert.equal(k.processes.size, n);
  assert.throws(() => k.fork(p), (e: unknown) => e instanceof SysError && e.code === 'ENOMEM' && e.syscall === 'fork');
});

test('/proc/PID/ns/ipc of the initial namespace is ipc:[4026531839]', () => {
  const k = new Kernel();
  assert.equal(k.proc.readText('/proc/self/ns/ipc', k.spawn()), 'ipc:[4026531839]');
});

test('oom_score_adj: unprivileged writes may go down to oom_score_adj_min, not only up', () => {
  const k = new Kernel();
  const p = k.spawn(); // reference root: no CAP_SYS_RESOURCE
  assert.ok(k.proc.write('/proc/self/oom_score_adj', '500', p).ok);
  assert.ok(k.proc.write('/proc/self/oom_score_adj', '100', p).ok);
  assert.equal(k.proc.readText('/proc/self/oom_score_adj', p), '100\n');
  const r = k.proc.write('/proc/self/oom_score_adj', '-1', p);
  assert.deepEqual(r, { ok: false, errno: Errno.EACCES });
});

test('sysctl writes take the first value and ignore the rest; an empty write changes nothing', () => {
  const k = new Kernel();
  const p = k.spawn();
  assert.ok(k.proc.write('/proc/sys/kernel/shmmni', '1 2', p).ok);
  assert.equal(k.proc.readText('/proc/sys/kernel/shmmni', p), '1\n');
  assert.ok(k.proc.write('/proc/sys/kernel/shmmni', '3 x', p).ok);
  assert.equal(k.proc.readText('/proc/sys/kernel/shmmni', p), '3\n');
  assert.ok(k.proc.write('/proc/sys/kernel/shmmni', '', p).ok);
  assert.equal(k.proc.readText('/proc/sys/kernel/shmmni', p), '3\n');
  assert.deepEqual(k.proc.write('/proc/sys/kernel/shmmni', '4x', p), { ok: false, errno: Errno.EINVAL });
  assert.deepEqual(k.proc.write('/proc/sys/kernel/shmmni', '  ', p), { ok: false, errno: Errno.EINVAL });
});

test('reading a procfs directory is EISDIR', () => {
  const k = new Kernel();
  const p = k.spawn();
  for (const d of ['/proc', '/proc/sysvipc', '/proc/sys/kernel', `/proc/${p.pid}`, `/proc/${p.pid}/ns`]) {
    assert.deepEqual(k.proc.read(d, p), { ok: false, errno: Errno.EISDIR }, d);
  }
  assert.deepEqual(k.proc.read('/proc/nope', p), { ok: false, errno: Errno.ENOENT });
});

test('the raw layer never throws for non-finite numbers: NaN and Infinity convert to 0', () => {
  const k = new Kernel();
  const p = k.spawn();
  assert.equal(p.sys.shmget(0, NaN, 0o600), -Errno.EINVAL); // size 0
  assert.equal(p.sys.shmat(NaN, Infinity, NaN), p.sys.shmat(0, 0, 0));
  assert.equal(p.sys.munmap(NaN, -Infinity), -Errno.EINVAL);
  assert.deepEqual(p.sys.read(NaN, NaN), { data: new Uint8Array(0) });
});
