/**
 * IPC namespace teardown: ipc/namespace.c free_ipc_ns() -> shm_exit_ns()
 * (do_shm_rmid on every segment), and the namespace reference an attach
 * holds (spec §8.2, §8.3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, Errno } from '../../src/index.js';
import { IPC_CREAT, IPC_PRIVATE, SHM_HUGETLB, SHM_NORESERVE } from '../../src/abi/constants.js';

const PAGE = 4096;
const CLONE_NEWIPC = 0x08000000;

test('shm_exit_ns: exiting the last process of an unshared namespace frees every segment and page', () => {
  const kernel = new Kernel();
  const init = kernel.spawn();
  // Something in the initial namespace, to see that it stays.
  const keep = init.shmget(0x10, 3 * PAGE, IPC_CREAT | 0o600);
  init.fill(init.shmat(keep), 3 * PAGE, 9);
  const pages = kernel.allocator.allocatedPages;
  const committed = kernel.allocator.committedPages;
  assert.equal(pages, 3);

  const p = kernel.spawn();
  assert.equal(p.sys.unshare(CLONE_NEWIPC), 0);
  const ns = p.ipcNs;
  assert.notEqual(ns, kernel.initIpcNs);
  const a = p.shmget(0x10, 8 * PAGE, IPC_CREAT | 0o600); // same key, other namespace
  const b = p.shmget(IPC_PRIVATE, 4 * PAGE, 0o600);
  const big = p.shmget(IPC_PRIVATE, 1n << 40n, SHM_NORESERVE | 0o600);
  const huge = p.shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | SHM_NORESERVE | 0o600);
  assert.ok(huge >= 0);
  const addr = p.shmat(a);
  p.fill(addr, 8 * PAGE, 1);
  p.fill(p.shmat(b), 2 * PAGE, 2);
  p.fill(p.shmat(big) + 12345 * PAGE, PAGE, 3);
  p.shmdt(addr); // detached, never removed
  assert.equal(kernel.allocator.allocatedPages, pages + 11);
  assert.equal(ns.shm.ids.inUse, 4);

  kernel.exit(p);
  assert.equal(ns.dead, true);
  assert.equal(ns.shm.ids.inUse, 0);
  assert.equal(ns.shm.shmTot, 0n);
  assert.equal(kernel.allocator.allocatedPages, pages);
  assert.equal(kernel.allocator.committedPages, committed);
  // The initial namespace is untouched.
  assert.equal(init.shmget(0x10, 0, 0), keep);
  assert.equal(kernel.initIpcNs.shm.ids.inUse, 1);
});

test('free_ipc_ns: the namespace lives while any process is in it', () => {
  const kernel = new Kernel();
  const p = kernel.spawn();
  assert.equal(p.sys.unshare(CLONE_NEWIPC), 0);
  const ns = p.ipcNs;
  const id = p.shmget(IPC_PRIVATE, PAGE);
  p.fill(p.shmat(id), 1, 1);
  const child = kernel.fork(p);
  assert.equal(child.ipcNs, ns);
  kernel.exit(p);
  assert.equal(ns.dead, false);
  assert.equal(child.shmStat(id).nattch, 1, 'the child inherited the attach');
  kernel.exit(child);
  assert.equal(ns.dead, true);
  assert.equal(kernel.allocator.allocatedPages, 0);
});

test('do_shmat: an attach keeps its namespace alive after the process moved on (get_ipc_ns)', () => {
  const kernel = new Kernel();
  const p = kernel.spawn();
  assert.equal(p.sys.unshare(CLONE_NEWIPC), 0);
  const first = p.ipcNs;
  const id = p.shmget(IPC_PRIVATE, 2 * PAGE);
  const addr = p.shmat(id);
  p.fill(addr, 2 * PAGE, 7);
  assert.equal(p.sys.unshare(CLONE_NEWIPC), 0);
  assert.notEqual(p.ipcNs, first);
  assert.equal(first.dead, false, 'held by the attach');
  // The segment is invisible from the new namespace but the mapping still works.
  assert.equal(p.sys.shmctl(id, 2, new Uint8Array(112)), -Errno.EINVAL);
  assert.deepEqual([...p.read(addr + PAGE, 2)], [7, 7]);
  // A split is an open on the old namespace's segment.
  p.mprotect(addr, PAGE, 1);
  const shp = first.shm.ids.obtainObjectCheck(id);
  assert.ok(typeof shp !== 'number');
  assert.equal(shp.nattch, 2);
  assert.equal(kernel.allocator.allocatedPages, 2);
  p.munmap(addr, 2 * PAGE);
  assert.equal(first.dead, true);
  assert.equal(first.shm.ids.inUse, 0);
  assert.equal(kernel.allocator.allocatedPages, 0);
});

test('shm_init_ns: a new namespace starts from the default limits, not the parent\'s', () => {
  const kernel = new Kernel();
  const p = kernel.spawn();
  for (const [name, v] of [['shmmax', '4096'], ['shmall', '7'], ['shmmni', '3'], ['shm_rmid_forced', '1'], ['shm_next_id', '99']]) {
    assert.ok(kernel.proc.write(`/proc/sys/kernel/${name}`, v!, p).ok);
  }
  assert.equal(p.sys.unshare(CLONE_NEWIPC), 0);
  const read = (n: string) => kernel.proc.readText(`/proc/sys/kernel/${n}`, p);
  assert.equal(read('shmmax'), '18446744073692774399\n');
  assert.equal(read('shmall'), '18446744073692774399\n');
  assert.equal(read('shmmni'), '4096\n');
  assert.equal(read('shm_rmid_forced'), '0\n');
  assert.equal(read('shm_next_id'), '-1\n');
  assert.equal(p.shmget(IPC_PRIVATE, 1), 0);
});

test('unshare(CLONE_NEWIPC): a fresh namespace numbers ids from 0 and has its own keys', () => {
  const kernel = new Kernel();
  const a = kernel.spawn();
  for (let i = 0; i < 3; i++) a.shmget(IPC_PRIVATE, 1);
  const k = a.shmget(0x55, 1, IPC_CREAT | 0o600);
  const b = kernel.fork(a);
  assert.equal(b.sys.unshare(CLONE_NEWIPC), 0);
  assert.equal(b.sys.shmget(0x55, 0, 0), -Errno.ENOENT);
  assert.equal(b.shmget(0x55, 1, IPC_CREAT | 0o600), 0);
  assert.equal(a.shmget(0x55, 0, 0), k);
});
