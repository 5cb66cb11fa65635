/**
 * /proc/PID/status: fs/proc/array.c proc_pid_status() -> task_state(),
 * task_cap(), and the memory lines of task_mem() (fs/proc/task_mmu.c).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/index.js';
import { CAP_FULL_SET, IPC_PRIVATE } from '../../src/abi/constants.js';
import { makeCredentials } from '../../src/auth/cred.js';

function field(text: string, name: string): string {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}:`));
  assert.equal(lines.length, 1, `exactly one ${name} line`);
  return lines[0]!;
}

test('task_state: Uid/Gid lines are real, effective, saved, filesystem ids, tab separated', () => {
  const kernel = new Kernel();
  const p = kernel.spawn({ cred: makeCredentials({ uid: 1000, euid: 1001, suid: 1002, gid: 2000, egid: 2001, sgid: 2002 }) });
  const s = kernel.proc.readText(`/proc/${p.pid}/status`, p);
  assert.equal(field(s, 'Uid'), 'Uid:\t1000\t1001\t1002\t1001');
  assert.equal(field(s, 'Gid'), 'Gid:\t2000\t2001\t2002\t2001');
  // setresuid changes all four (fsuid follows euid).
  const root = kernel.spawn();
  assert.equal(root.sys.setresuid(5, 6, 7), 0);
  assert.equal(field(kernel.proc.readText(`/proc/${root.pid}/status`, p), 'Uid'), 'Uid:\t5\t6\t7\t6');
});

test('task_state: Groups lists the supplementary groups sorted, then one space (even when empty)', () => {
  const kernel = new Kernel();
  const p = kernel.spawn();
  const read = () => kernel.proc.readText('/proc/self/status', p);
  assert.equal(field(read(), 'Groups'), 'Groups:\t ');
  assert.equal(p.sys.setgroups([70000, 3, 5]), 0);
  assert.equal(field(read(), 'Groups'), 'Groups:\t3 5 70000 ');
  assert.equal(p.sys.setgroups([]), 0);
  assert.equal(field(read(), 'Groups'), 'Groups:\t ');
});

test('task_cap: CapInh/CapPrm/CapEff/CapBnd/CapAmb as 16 hex digits', () => {
  const kernel = new Kernel();
  const root = kernel.spawn();
  let s = kernel.proc.readText('/proc/self/status', root);
  // Root of the reference machines: everything but CAP_SYS_RESOURCE.
  assert.equal(field(s, 'CapInh'), 'CapInh:\t0000000000000000');
  assert.equal(field(s, 'CapPrm'), 'CapPrm:\t000001fffeffffff');
  assert.equal(field(s, 'CapEff'), 'CapEff:\t000001fffeffffff');
  assert.equal(field(s, 'CapBnd'), 'CapBnd:\t000001fffeffffff');
  assert.equal(field(s, 'CapAmb'), 'CapAmb:\t0000000000000000');
  const ipcLockAndSysAdmin = (1n << 14n) | (1n << 21n);
  assert.equal(root.sys.capset(ipcLockAndSysAdmin, ipcLockAndSysAdmin | 1n, 0n), 0);
  s = kernel.proc.readText('/proc/self/status', root);
  assert.equal(field(s, 'CapPrm'), 'CapPrm:\t0000000000204001');
  assert.equal(field(s, 'CapEff'), 'CapEff:\t0000000000204000');
  const full = kernel.spawn({ cred: makeCredentials({ capEffective: CAP_FULL_SET, capBounding: CAP_FULL_SET }) });
  s = kernel.proc.readText(`/proc/${full.pid}/status`, root);
  assert.equal(field(s, 'CapEff'), 'CapEff:\t000001ffffffffff');
  assert.equal(field(s, 'CapBnd'), 'CapBnd:\t000001ffffffffff');
});

test('proc_pid_status: Name, State, Tgid/Pid/PPid, and the Vm lines in kB', () => {
  const kernel = new Kernel();
  const p = kernel.spawn({ name: 'a-very-long-process-name' });
  const child = kernel.fork(p);
  const s = kernel.proc.readText(`/proc/${child.pid}/status`, p);
  assert.equal(field(s, 'Name'), 'Name:\ta-very-long-pro', 'comm is 15 bytes');
  assert.equal(field(s, 'State'), 'State:\tS (sleeping)');
  assert.equal(field(s, 'Tgid'), `Tgid:\t${child.pid}`);
  assert.equal(field(s, 'Pid'), `Pid:\t${child.pid}`);
  assert.equal(field(s, 'PPid'), `PPid:\t${p.pid}`);
  const id = child.shmget(IPC_PRIVATE, 3 * 4096);
  const a = child.shmat(id);
  child.fill(a, 2 * 4096, 1);
  const t = kernel.proc.readText(`/proc/${child.pid}/status`, p);
  // 12 kB of segment plus the 132 kB [stack] VMA every process starts with.
  assert.equal(field(t, 'VmSize'), 'VmSize:\t     144 kB');
  assert.equal(field(t, 'VmStk'), 'VmStk:\t     132 kB');
  assert.equal(field(t, 'VmRSS'), 'VmRSS:\t       8 kB');
  assert.equal(field(t, 'RssShmem'), 'RssShmem:\t       8 kB');
  assert.equal(field(t, 'RssAnon'), 'RssAnon:\t       0 kB');
  // Line order: the ids come before the memory lines, the capabilities after.
  const order = ['Name', 'State', 'Tgid', 'Pid', 'PPid', 'Uid', 'Gid', 'Groups', 'VmPeak', 'VmSize', 'VmRSS', 'CapInh', 'CapEff'];
  const pos = order.map((n) => t.indexOf(`\n${n}:`) === -1 && t.startsWith(`${n}:`) ? 0 : t.indexOf(`\n${n}:`));
  assert.deepEqual([...pos].sort((x, y) => x - y), pos);
  assert.ok(t.endsWith('\n'));
});
