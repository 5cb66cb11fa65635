/**
 * The rest of the model's procfs: /proc/sys/kernel/shm* (ipc/ipc_sysctl.c
 * tables, ipc_permissions(), proc_doulongvec_minmax, proc_dointvec_minmax),
 * directory listings, /proc/PID/oom_score_adj (fs/proc/base.c
 * __set_oom_adj()), /proc/self and /proc/PID/ns/ipc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, Errno } from '../../src/index.js';
import { CAP_FULL_SET } from '../../src/abi/constants.js';
import { makeCredentials } from '../../src/auth/cred.js';
import type { Process } from '../../src/index.js';

const SYSCTLS = ['shm_next_id', 'shm_rmid_forced', 'shmall', 'shmmax', 'shmmni'];
const DEFAULT_SHMMAX = '18446744073692774399\n';

function setup() {
  const kernel = new Kernel();
  const root = kernel.spawn();
  const user = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 1000 }) });
  const read = (name: string, as: Process = root) => kernel.proc.read(`/proc/sys/kernel/${name}`, as);
  const write = (name: string, v: string, as: Process = root) => kernel.proc.write(`/proc/sys/kernel/${name}`, v, as);
  return { kernel, root, user, read, write };
}

const errnoOf = (r: { ok: boolean; errno?: number }) => (r.ok ? 0 : r.errno);

test('ipc_sysctl: the defaults of a namespace', () => {
  const { read } = setup();
  assert.deepEqual(read('shmmax'), { ok: true, value: DEFAULT_SHMMAX });
  assert.deepEqual(read('shmall'), { ok: true, value: DEFAULT_SHMMAX });
  assert.deepEqual(read('shmmni'), { ok: true, value: '4096\n' });
  assert.deepEqual(read('shm_rmid_forced'), { ok: true, value: '0\n' });
  assert.deepEqual(read('shm_next_id'), { ok: true, value: '-1\n' });
});

test('ipc_permissions: uid 1000 reads every shm sysctl but writes none (EACCES)', () => {
  const { user, read, write } = setup();
  for (const name of SYSCTLS) {
    assert.ok(read(name, user).ok, name);
    assert.equal(errnoOf(write(name, '5', user)), Errno.EACCES, name);
  }
  assert.deepEqual(read('shmmax'), { ok: true, value: DEFAULT_SHMMAX });
});

test('ipc_permissions: mode bits against the namespace root uid/gid, no capability override', () => {
  const { kernel, read, write } = setup();
  // Root without any capability still owns the files (0644: rw for the owner class).
  const bare = kernel.spawn({ cred: makeCredentials({ uid: 0, gid: 0 }) });
  assert.equal(errnoOf(write('shmmax', '12345', bare)), 0);
  assert.equal(read('shmmax').ok && read('shmmax', bare).ok, true);
  assert.deepEqual(read('shmmax', bare), { ok: true, value: '12345\n' });
  // ... but shm_next_id is 0444 for it: only CAP_SYS_ADMIN / CAP_CHECKPOINT_RESTORE make it 0666.
  assert.equal(errnoOf(write('shm_next_id', '5', bare)), Errno.EACCES);
  // A uid-1000 process with CAP_SYS_ADMIN may write shm_next_id but not shmmax.
  const admin = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 1000, capEffective: 1n << 21n }) });
  assert.equal(errnoOf(write('shm_next_id', '7', admin)), 0);
  assert.equal(errnoOf(write('shmmax', '7', admin)), Errno.EACCES);
  const cr = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 1000, capEffective: 1n << 40n }) });
  assert.equal(errnoOf(write('shm_next_id', '8', cr)), 0);
  assert.deepEqual(read('shm_next_id'), { ok: true, value: '8\n' });
  // A member of group 0 gets the group bits (r--): read yes, write no.
  const wheel = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 0 }) });
  assert.ok(read('shmmni', wheel).ok);
  assert.equal(errnoOf(write('shmmni', '1', wheel)), Errno.EACCES);
  // Root writes shm_next_id (CAP_SYS_ADMIN).
  assert.equal(errnoOf(write('shm_next_id', '9')), 0);
});

test('proc_dointvec_minmax / proc_doulongvec_minmax: ranges and syntax', () => {
  const { read, write } = setup();
  const cases: [string, string, number, string][] = [
    ['shmmni', '32769', Errno.EINVAL, '4096\n'],
    ['shmmni', '32768', 0, '32768\n'],
    ['shmmni', '-1', Errno.EINVAL, '32768\n'],
    ['shmmni', '0', 0, '0\n'],
    ['shmmni', '2147483648', Errno.EINVAL, '0\n'],
    ['shm_rmid_forced', '2', Errno.EINVAL, '0\n'],
    ['shm_rmid_forced', '-1', Errno.EINVAL, '0\n'],
    ['shm_next_id', '-1', Errno.EINVAL, '-1\n'],
    ['shm_next_id', '2147483648', Errno.EINVAL, '-1\n'],
    ['shm_next_id', '2147483647', 0, '2147483647\n'],
    ['shmmax', '-1', Errno.EINVAL, DEFAULT_SHMMAX],
    ['shmmax', '18446744073709551616', Errno.EINVAL, DEFAULT_SHMMAX],
    ['shmmax', '18446744073709551615', 0, '18446744073709551615\n'],
    ['shmmax', '0x10', 0, '16\n'],
    ['shmmax', '010', 0, '8\n'],
    ['shmmax', ' 12 \n', 0, '12\n'],
    ['shmmax', '12abc', Errno.EINVAL, '12\n'],
    ['shmmax', '+4', Errno.EINVAL, '12\n'],
    ['shmmax', '\n', Errno.EINVAL, '12\n'],
    ['shmall', '0', 0, '0\n'],
  ];
  for (const [name, v, e, after] of cases) {
    assert.equal(errnoOf(write(name, v)), e, `${name} <- ${JSON.stringify(v)}`);
    assert.deepEqual(read(name), { ok: true, value: after }, `${name} after ${JSON.stringify(v)}`);
  }
});

test('proc_root_readdir / proc_pid_readdir: /proc, /proc/sys/kernel, /proc/sysvipc and /proc/PID', () => {
  const { kernel, root, user } = setup();
  const ls = (path: string, as?: Process) => kernel.proc.readdir(path, as);
  assert.deepEqual(ls('/proc'), { ok: true, value: ['self', 'sys', 'sysvipc', String(root.pid), String(user.pid)] });
  assert.deepEqual(ls('/proc/sys/kernel'), { ok: true, value: SYSCTLS });
  assert.deepEqual(ls('/proc/sys'), { ok: true, value: ['kernel'] });
  assert.deepEqual(ls('/proc/sysvipc/'), { ok: true, value: ['shm'] });
  const entries = ls(`/proc/${user.pid}`, root);
  assert.ok(entries.ok);
  assert.deepEqual(entries.value, [...entries.value].sort());
  for (const f of ['maps', 'smaps', 'status', 'stat', 'statm', 'oom_score_adj', 'ns', 'cmdline', 'comm']) {
    assert.ok(entries.value.includes(f), f);
  }
  assert.deepEqual(ls(`/proc/${user.pid}/ns`), { ok: true, value: ['ipc'] });
  assert.deepEqual(ls('/proc/self', user), entries);
  // Exited processes and unknown names are gone.
  kernel.exit(user);
  assert.deepEqual(ls(`/proc/${user.pid}`), { ok: false, errno: Errno.ENOENT });
  assert.deepEqual(ls('/proc'), { ok: true, value: ['self', 'sys', 'sysvipc', String(root.pid)] });
  assert.deepEqual(ls('/proc/nonesuch'), { ok: false, errno: Errno.ENOENT });
  assert.deepEqual(ls('/etc'), { ok: false, errno: Errno.ENOENT });
});

test('__set_oom_adj: -1000..1000; below the minimum needs CAP_SYS_RESOURCE', () => {
  const { kernel, root } = setup();
  const path = `/proc/${root.pid}/oom_score_adj`;
  const get = () => kernel.proc.readText(path, root);
  assert.equal(get(), '0\n');
  assert.equal(errnoOf(kernel.proc.write(path, '500', root)), 0);
  assert.equal(get(), '500\n');
  assert.equal(errnoOf(kernel.proc.write(path, '1001', root)), Errno.EINVAL);
  assert.equal(errnoOf(kernel.proc.write(path, '-1001', root)), Errno.EINVAL);
  assert.equal(errnoOf(kernel.proc.write(path, 'abc', root)), Errno.EINVAL);
  assert.equal(get(), '500\n');
  // Root of the reference machines lacks CAP_SYS_RESOURCE: it cannot go below 0.
  assert.equal(errnoOf(kernel.proc.write(path, '-1', root)), Errno.EACCES);
  assert.equal(errnoOf(kernel.proc.write(path, '1000', root)), 0);
  assert.equal(get(), '1000\n');
  // With CAP_SYS_RESOURCE anything in range goes.
  const full = kernel.spawn({ cred: makeCredentials({ capEffective: CAP_FULL_SET }) });
  const fpath = `/proc/${full.pid}/oom_score_adj`;
  assert.equal(errnoOf(kernel.proc.write(fpath, '-1000', full)), 0);
  assert.equal(kernel.proc.readText(fpath, full), '-1000\n');
  // fork copies it.
  assert.equal(kernel.proc.readText(`/proc/${kernel.fork(root).pid}/oom_score_adj`, root), '1000\n');
  // Other files are not writable; unknown ones do not exist.
  assert.equal(errnoOf(kernel.proc.write(`/proc/${root.pid}/status`, 'x', root)), Errno.EACCES);
  assert.equal(errnoOf(kernel.proc.write(`/proc/${root.pid}/nonesuch`, 'x', root)), Errno.ENOENT);
});

test('proc_self_get_link: /proc/self is the reader; without a live reader it does not resolve', () => {
  const { kernel, root, user } = setup();
  const selfStat = (as?: Process) => kernel.proc.read('/proc/self/stat', as);
  const s = selfStat(user);
  assert.ok(s.ok);
  assert.ok(s.value.startsWith(`${user.pid} (proc) S ${0} `));
  assert.equal(kernel.proc.readText('/proc/self/comm', root), 'init\n');
  assert.deepEqual(kernel.proc.read('/proc/self/status', user), kernel.proc.read(`/proc/${user.pid}/status`, user));
  // The default reader is a root of the initial namespaces that is no process.
  assert.deepEqual(selfStat(), { ok: false, errno: Errno.ENOENT });
  assert.throws(() => kernel.proc.readText('/proc/self/maps'), (e: unknown) => (e as { code?: string }).code === 'ENOENT');
  kernel.exit(user);
  assert.deepEqual(selfStat(user), { ok: false, errno: Errno.ENOENT });
  assert.deepEqual(kernel.proc.read('/proc', root), { ok: false, errno: Errno.EISDIR });
});

test('ns_get_name: /proc/PID/ns/ipc is ipc:[inode], shared by fork, a new one after unshare', () => {
  const { kernel, root } = setup();
  const init = kernel.proc.readText(`/proc/${root.pid}/ns/ipc`, root);
  assert.match(init, /^ipc:\[\d+\]$/);
  assert.equal(kernel.proc.readText(`/proc/${kernel.fork(root).pid}/ns/ipc`, root), init);
  const child = kernel.fork(root);
  assert.equal(child.sys.unshare(0x08000000), 0);
  const other = kernel.proc.readText(`/proc/${child.pid}/ns/ipc`, root);
  assert.match(other, /^ipc:\[\d+\]$/);
  assert.notEqual(other, init);
  assert.equal(kernel.proc.readText(`/proc/${kernel.fork(child).pid}/ns/ipc`, root), other);
});
