/** unshare(CLONE_NEWUSER[|CLONE_NEWIPC]) and id translation in IPC_STAT / IPC_SET (spec 8.4). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, Errno, constants as C } from '../../src/index.js';
import { CLONE_NEWIPC, CLONE_NEWUSER } from '../../src/kernel/syscalls.js';

test('before its maps are written, a new user namespace sees every id as the overflow id 65534', () => {
  const k = new Kernel();
  const p = k.spawn();
  assert.equal(p.sys.unshare(CLONE_NEWUSER | CLONE_NEWIPC), 0);
  const id = p.shmget(C.IPC_PRIVATE, 4096, 0o600);
  const st = p.shmStat(id);
  assert.deepEqual([st.uid, st.gid, st.cuid, st.cgid], [65534, 65534, 65534, 65534]);
  assert.equal(k.proc.readText('/proc/self/uid_map', p), '');
  assert.equal(k.proc.readText('/proc/self/setgroups', p), 'allow\n');
});

test('map-root-user: the namespace root owns the new IPC namespace (CAP_IPC_OWNER there) and cannot IPC_SET unmapped ids', () => {
  const k = new Kernel();
  const p = k.spawn();
  assert.equal(p.sys.unshare(CLONE_NEWUSER | CLONE_NEWIPC), 0);
  assert.ok(k.proc.write('/proc/self/uid_map', '0 0 1\n', p).ok);
  // A one-id gid map without CAP_SETGID in the parent needs setgroups "deny" first.
  assert.deepEqual(k.proc.write('/proc/self/gid_map', '0 0 1\n', p), { ok: false, errno: Errno.EPERM });
  assert.ok(k.proc.write('/proc/self/setgroups', 'deny', p).ok);
  assert.ok(k.proc.write('/proc/self/gid_map', '0 0 1\n', p).ok);
  assert.equal(k.proc.readText('/proc/self/uid_map', p), '         0          0          1\n');
  // A map is written once.
  assert.deepEqual(k.proc.write('/proc/self/uid_map', '0 0 1\n', p), { ok: false, errno: Errno.EPERM });

  const id = p.shmget(C.IPC_PRIVATE, 4096, 0);
  const st = p.shmStat(id); // mode 0: CAP_IPC_OWNER in the owning user namespace
  assert.deepEqual([st.uid, st.gid, st.mode], [0, 0, 0]);
  assert.equal(p.sys.shmctl(id, C.IPC_SET, setBuf(1000, 0, 0o600)), -Errno.EINVAL, 'uid 1000 is unmapped');
  assert.equal(p.sys.shmctl(id, C.IPC_SET, setBuf(0, 5, 0o600)), -Errno.EINVAL, 'gid 5 is unmapped');
  assert.equal(p.sys.shmctl(id, C.IPC_SET, setBuf(0, 0, 0o640)), 0);
  // Seen from the initial namespace, the ids are the kernel ids.
  assert.match(k.proc.readText('/proc/sysvipc/shm', p), /\n\s+0\s+0\s+640\s/);
});

test('the root of a child user namespace sharing the host IPC namespace has no CAP_IPC_OWNER/CAP_SYS_ADMIN there', () => {
  const k = new Kernel();
  const owner = k.spawn();
  assert.equal(owner.sys.setresuid(1000, 1000, 1000), 0);
  const other = k.spawn();
  assert.equal(other.sys.unshare(CLONE_NEWUSER), 0);
  // A 0600 segment of uid 1000 in the initial namespace: the child namespace's root gets EACCES/EPERM.
  const seg = owner.sys.shmget(C.IPC_PRIVATE, 4096, 0o600);
  assert.ok(seg >= 0);
  assert.equal(other.sys.shmctl(seg, C.IPC_STAT, new Uint8Array(112)), -Errno.EACCES);
  assert.equal(other.sys.shmctl(seg, C.IPC_RMID, null), -Errno.EPERM);
  assert.equal(other.sys.shmat(seg, 0, 0), -Errno.EACCES);
  // Its kernel uid is still 0, so a segment of uid 0 is its own.
  const mine = k.spawn().shmget(C.IPC_PRIVATE, 4096, 0o600);
  assert.ok(other.sys.shmat(mine, 0, 0) > 0);
});

function setBuf(uid: number, gid: number, mode: number): Uint8Array {
  const b = new Uint8Array(112);
  const v = new DataView(b.buffer);
  v.setUint32(4, uid, true);
  v.setUint32(8, gid, true);
  v.setUint32(20, mode, true);
  return b;
}
