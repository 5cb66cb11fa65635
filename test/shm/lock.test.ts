/**
 * SHM_LOCK / SHM_UNLOCK: ipc/shm.c shmctl_do_lock(), mm/shmem.c
 * shmem_lock(), mm/mlock.c user_shm_lock()/user_shm_unlock(), with the
 * charges read back from kernel.ucounts (spec §7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, Errno } from '../../src/index.js';
import {
  IPC_PRIVATE, IPC_RMID, RLIMIT_MEMLOCK, SHM_HUGETLB, SHM_LOCK, SHM_LOCKED, SHM_NORESERVE, SHM_UNLOCK,
} from '../../src/abi/constants.js';
import { makeCredentials } from '../../src/auth/cred.js';
import { initUserNs } from '../../src/auth/userns.js';

const MIB = 1n << 20n;
const PAGES_PER_MIB = 256n;

function setup() {
  const kernel = new Kernel();
  const root = kernel.spawn();
  const owner = kernel.spawn({ cred: makeCredentials({ uid: 65534, gid: 65534 }) });
  const charge = (uid: number) => kernel.ucounts.get(initUserNs, uid).memlock;
  return { kernel, root, owner, charge };
}

test('user_shm_lock: charges ceil(size/PAGE) to the owner within RLIMIT_MEMLOCK, ENOMEM beyond it', () => {
  const { owner, charge, kernel } = setup();
  const a = owner.sys.shmget(IPC_PRIVATE, 4n * MIB, 0o600);
  const b = owner.sys.shmget(IPC_PRIVATE, 5n * MIB, 0o600);
  const c = owner.sys.shmget(IPC_PRIVATE, 16n * MIB, 0o600);
  const odd = owner.sys.shmget(IPC_PRIVATE, 5000, 0o600);
  assert.equal(owner.sys.shmctl(a, SHM_LOCK, null), 0);
  assert.equal(charge(65534), 4n * PAGES_PER_MIB);
  assert.equal(owner.shmStat(a).mode, SHM_LOCKED | 0o600);
  assert.equal(owner.sys.shmctl(a, SHM_LOCK, null), 0, 'locking again is a no-op');
  assert.equal(charge(65534), 4n * PAGES_PER_MIB);
  assert.equal(owner.sys.shmctl(b, SHM_LOCK, null), -Errno.ENOMEM, '4 + 5 MiB > 8 MiB');
  assert.equal(owner.sys.shmctl(c, SHM_LOCK, null), -Errno.ENOMEM);
  assert.equal(charge(65534), 4n * PAGES_PER_MIB, 'a refused lock leaves no charge');
  assert.equal(owner.shmStat(b).mode, 0o600);
  assert.equal(owner.sys.shmctl(a, SHM_UNLOCK, null), 0);
  assert.equal(charge(65534), 0n);
  assert.equal(owner.sys.shmctl(b, SHM_LOCK, null), 0);
  assert.equal(owner.sys.shmctl(odd, SHM_LOCK, null), 0);
  assert.equal(charge(65534), 5n * PAGES_PER_MIB + 2n, '5000 bytes are two pages');
  assert.equal(kernel.ucounts.totalMemlock(), 5n * PAGES_PER_MIB + 2n);
});

test('shmctl_do_lock: RLIMIT_MEMLOCK 0 is EPERM for SHM_LOCK, SHM_UNLOCK still works', () => {
  const { owner, charge } = setup();
  const a = owner.sys.shmget(IPC_PRIVATE, MIB, 0o600);
  assert.equal(owner.sys.shmctl(a, SHM_LOCK, null), 0);
  assert.equal(owner.sys.setrlimit(RLIMIT_MEMLOCK, 0, 0), 0);
  const b = owner.sys.shmget(IPC_PRIVATE, 4096, 0o600);
  assert.equal(owner.sys.shmctl(b, SHM_LOCK, null), -Errno.EPERM);
  assert.equal(owner.sys.shmctl(a, SHM_LOCK, null), -Errno.EPERM, 'checked before "already locked"');
  assert.equal(owner.sys.shmctl(a, SHM_UNLOCK, null), 0);
  assert.equal(owner.sys.shmctl(b, SHM_UNLOCK, null), 0, 'unlocking an unlocked segment is 0');
  assert.equal(charge(65534), 0n);
});

test('shmctl_do_lock: non-owners without CAP_IPC_LOCK get EPERM; bad ids EINVAL first', () => {
  const { root, owner, kernel } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, MIB, 0o666);
  assert.equal(owner.sys.shmctl(id, SHM_LOCK, null), -Errno.EPERM);
  assert.equal(owner.sys.shmctl(id, SHM_UNLOCK, null), -Errno.EPERM);
  assert.equal(owner.sys.shmctl(id + 32768, SHM_LOCK, null), -Errno.EINVAL);
  assert.equal(owner.sys.shmctl(id + 1, SHM_UNLOCK, null), -Errno.EINVAL);
  assert.equal(kernel.ucounts.totalMemlock(), 0n);
});

test('user_shm_lock: init-namespace CAP_IPC_LOCK lifts the quantity limit (root locks 16 MiB with 8 MiB)', () => {
  const { root, charge } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, 16n * MIB, 0o600);
  assert.equal(root.memlock.cur, 8n * MIB);
  assert.equal(root.sys.shmctl(id, SHM_LOCK, null), 0);
  assert.equal(charge(0), 16n * PAGES_PER_MIB);
  // Root can lock a segment it does not own, and it stays locked whoever unlocks.
  const other = root.sys.shmget(IPC_PRIVATE, MIB, 0o600);
  assert.equal(root.sys.shmctl(other, SHM_LOCK, null), 0);
  assert.equal(charge(0), 17n * PAGES_PER_MIB);
});

test('user_shm_unlock: SHM_UNLOCK releases the charge of the locker, not of the caller', () => {
  const { root, owner, charge } = setup();
  const id = owner.sys.shmget(IPC_PRIVATE, MIB, 0o600);
  assert.equal(owner.sys.shmctl(id, SHM_LOCK, null), 0);
  assert.equal(root.sys.shmctl(id, SHM_LOCK, null), 0, 'already locked: no charge for root');
  assert.equal(charge(0), 0n);
  assert.equal(charge(65534), PAGES_PER_MIB);
  assert.equal(root.sys.shmctl(id, SHM_UNLOCK, null), 0);
  assert.equal(charge(65534), 0n);
  assert.equal(charge(0), 0n);
});

test('user_shm_lock: the charge is keyed by the real uid', () => {
  const { kernel } = setup();
  const p = kernel.spawn({ cred: makeCredentials({ uid: 1000, euid: 2000, gid: 1000 }) });
  const id = p.sys.shmget(IPC_PRIVATE, MIB, 0o600);
  assert.equal(p.sys.shmctl(id, SHM_LOCK, null), 0);
  assert.equal(kernel.ucounts.get(initUserNs, 1000).memlock, PAGES_PER_MIB);
  assert.equal(kernel.ucounts.get(initUserNs, 2000).memlock, 0n);
});

test('shm_destroy: destroying a locked segment releases its charge (RMID, last detach, exit, namespace)', () => {
  const { kernel, owner, charge } = setup();
  const a = owner.sys.shmget(IPC_PRIVATE, MIB, 0o600);
  assert.equal(owner.sys.shmctl(a, SHM_LOCK, null), 0);
  assert.equal(owner.sys.shmctl(a, IPC_RMID, null), 0);
  assert.equal(charge(65534), 0n, 'unattached: destroyed at once');

  const b = owner.sys.shmget(IPC_PRIVATE, MIB, 0o600);
  const addr = owner.shmat(b);
  assert.equal(owner.sys.shmctl(b, SHM_LOCK, null), 0);
  assert.equal(owner.sys.shmctl(b, IPC_RMID, null), 0);
  assert.equal(charge(65534), PAGES_PER_MIB, 'still attached');
  owner.shmdt(addr);
  assert.equal(charge(65534), 0n);

  // A segment removed while attached by a process that then exits.
  const c = owner.sys.shmget(IPC_PRIVATE, MIB, 0o600);
  owner.shmat(c);
  assert.equal(owner.sys.shmctl(c, SHM_LOCK, null), 0);
  assert.equal(owner.sys.shmctl(c, IPC_RMID, null), 0);
  kernel.exit(owner);
  assert.equal(charge(65534), 0n);

  // A locked segment in a namespace that goes away.
  const root = kernel.spawn();
  assert.equal(root.sys.unshare(0x08000000), 0);
  const d = root.sys.shmget(IPC_PRIVATE, MIB, 0o600);
  assert.equal(root.sys.shmctl(d, SHM_LOCK, null), 0);
  assert.equal(charge(0), PAGES_PER_MIB);
  kernel.exit(root);
  assert.equal(charge(0), 0n);
  assert.equal(kernel.ucounts.totalMemlock(), 0n);
});

test('shmctl_do_lock: a hugetlb segment is a no-op (0, no SHM_LOCKED, no charge)', () => {
  const { root, kernel } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, 5000, SHM_HUGETLB | SHM_NORESERVE | 0o600);
  assert.ok(id >= 0);
  assert.equal(root.sys.shmctl(id, SHM_LOCK, null), 0);
  assert.equal(root.shmStat(id).mode, 0o600);
  assert.equal(kernel.ucounts.totalMemlock(), 0n);
  assert.equal(root.sys.shmctl(id, SHM_UNLOCK, null), 0);
});

test('shmctl_do_lock: the buffer is ignored (a garbage pointer is fine)', () => {
  const { root } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, 4096, 0o600);
  const junk = { copyTo: () => false, copyFrom: () => null };
  assert.equal(root.sys.shmctl(id, SHM_LOCK, junk), 0);
  assert.equal(root.sys.shmctl(id, SHM_UNLOCK, junk), 0);
  assert.equal(root.sys.shmctl(id, IPC_RMID, junk), 0);
});
