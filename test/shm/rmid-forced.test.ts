/**
 * kernel.shm_rmid_forced and orphaned segments: ipc/shm.c exit_shm(),
 * shm_destroy_orphaned(), shm_may_destroy() and the sysctl handler
 * proc_ipc_dointvec_minmax_orphans() (spec §5.3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, Errno } from '../../src/index.js';
import { IPC_PRIVATE, SHM_REMAP } from '../../src/abi/constants.js';
import type { Process } from '../../src/index.js';

const PAGE = 4096;

function setup() {
  const kernel = new Kernel();
  const admin = kernel.spawn({ name: 'admin' });
  const forced = (v: 0 | 1, as: Process = admin) => {
    const r = kernel.proc.write('/proc/sys/kernel/shm_rmid_forced', `${v}\n`, as);
    assert.ok(r.ok);
  };
  return { kernel, admin, forced, ns: admin.ipcNs.shm };
}

const exists = (p: Process, id: number) => p.sys.shmctl(id, 2, new Uint8Array(112)) === 0;

test('exit_shm: with shm_rmid_forced 0 the creator\'s exit only orphans its segments', () => {
  const { kernel, admin, ns } = setup();
  const creator = kernel.spawn();
  const id = creator.shmget(IPC_PRIVATE, PAGE);
  const shp = ns.ids.obtainObjectCheck(id);
  assert.ok(typeof shp !== 'number');
  assert.equal(shp.creator, creator);
  assert.ok(creator.shmCreated.has(shp));
  kernel.exit(creator);
  assert.equal(shp.creator, null);
  assert.equal(creator.shmCreated.size, 0);
  assert.ok(exists(admin, id));
});

test('shm_destroy_orphaned: writing 1 destroys unattached orphans; attached orphans go at their last detach', () => {
  const { kernel, admin, forced, ns } = setup();
  const creator = kernel.spawn();
  const lone = creator.shmget(IPC_PRIVATE, PAGE);
  const used = creator.shmget(IPC_PRIVATE, PAGE);
  const mine = admin.shmget(IPC_PRIVATE, PAGE); // creator alive: not an orphan
  const a = admin.shmat(used);
  admin.fill(a, PAGE, 1);
  kernel.exit(creator);
  assert.equal(ns.ids.inUse, 3);
  const pages = kernel.allocator.allocatedPages;
  forced(1);
  assert.ok(!exists(admin, lone));
  assert.ok(exists(admin, used));
  assert.ok(exists(admin, mine));
  admin.shmdt(a);
  assert.ok(!exists(admin, used), 'nattch 0 and forced: destroyed');
  assert.equal(kernel.allocator.allocatedPages, pages - 1);
  assert.ok(exists(admin, mine));
});

test('exit_shm: with shm_rmid_forced 1 the creator\'s unattached segments die with it', () => {
  const { kernel, admin, forced } = setup();
  forced(1);
  const creator = kernel.spawn();
  const lone = creator.shmget(IPC_PRIVATE, PAGE);
  const used = creator.shmget(IPC_PRIVATE, PAGE);
  const self = creator.shmget(IPC_PRIVATE, PAGE);
  admin.shmat(used);
  creator.shmat(self);
  kernel.exit(creator);
  assert.ok(!exists(admin, lone));
  assert.ok(!exists(admin, self), 'its own attach closed before exit_shm');
  assert.ok(exists(admin, used));
});

test('shm_may_destroy: with shm_rmid_forced 1 any drop of nattch to 0 destroys, creator alive or not', () => {
  const { admin, forced } = setup();
  forced(1);
  const id = admin.shmget(IPC_PRIVATE, PAGE);
  const a = admin.shmat(id);
  assert.ok(exists(admin, id));
  admin.shmdt(a);
  assert.ok(!exists(admin, id));
  // A failed shmat on an unattached segment destroys it too.
  const id2 = admin.shmget(IPC_PRIVATE, 2 * PAGE);
  admin.mmap(0x100000001000, PAGE);
  assert.equal(admin.sys.shmat(id2, 0x100000000000, 0), -Errno.EINVAL);
  assert.ok(!exists(admin, id2));
  // A failure before the lookup does not.
  const id3 = admin.shmget(IPC_PRIVATE, PAGE);
  assert.equal(admin.sys.shmat(id3, 0, SHM_REMAP), -Errno.EINVAL);
  assert.ok(exists(admin, id3));
});

test('proc_ipc_dointvec_minmax_orphans: reading the sysctl while it is 1 sweeps orphans too', () => {
  const { kernel, admin, ns } = setup();
  const creator = kernel.spawn();
  const id = creator.shmget(IPC_PRIVATE, PAGE);
  kernel.exit(creator);
  // The value is 1 without a write having swept (as after a write raced with an exit).
  ns.rmidForced = 1;
  assert.ok(exists(admin, id));
  assert.equal(kernel.proc.readText('/proc/sys/kernel/shm_rmid_forced', admin), '1\n');
  assert.ok(!exists(admin, id));
  // While 0, reading sweeps nothing.
  ns.rmidForced = 0;
  const creator2 = kernel.spawn();
  const id2 = creator2.shmget(IPC_PRIVATE, PAGE);
  kernel.exit(creator2);
  assert.equal(kernel.proc.readText('/proc/sys/kernel/shm_rmid_forced', admin), '0\n');
  assert.ok(exists(admin, id2));
});

test('exit_shm: writing 0 or 1 again keeps live creators\' segments; children do not inherit creatorship', () => {
  const { kernel, admin, forced } = setup();
  const parent = kernel.spawn();
  const id = parent.shmget(IPC_PRIVATE, PAGE);
  const child = kernel.fork(parent);
  assert.equal(child.shmCreated.size, 0);
  kernel.exit(child);
  forced(1);
  forced(0);
  forced(1);
  assert.ok(exists(admin, id), 'the creator is alive');
  kernel.exit(parent);
  assert.ok(!exists(admin, id));
});

test('exit_shm via unshare(CLONE_NEWIPC): the old namespace\'s segments become orphans', () => {
  const { kernel, admin, forced, ns } = setup();
  const p = kernel.spawn();
  const id = p.shmget(IPC_PRIVATE, PAGE);
  assert.equal(p.sys.unshare(0x08000000), 0);
  const shp = ns.ids.obtainObjectCheck(id);
  assert.ok(typeof shp !== 'number');
  assert.equal(shp.creator, null);
  forced(1);
  assert.ok(!exists(admin, id));
  // With forced already 1, unshare destroys the unattached ones at once.
  const q = kernel.spawn();
  const id2 = q.shmget(IPC_PRIVATE, PAGE);
  assert.equal(q.sys.unshare(0x08000000), 0);
  assert.ok(!exists(admin, id2));
});
