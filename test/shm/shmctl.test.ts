/**
 * shmctl(2): ipc/shm.c ksys_shmctl(), shmctl_stat(), shmctl_down(),
 * shmctl_ipc_info(), shmctl_shm_info(), with the buffers decoded at the
 * x86_64 offsets of struct shmid64_ds, shminfo64 and shm_info (spec §6, §10.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno } from '../../src/index.js';
import {
  IPC_64, IPC_CREAT, IPC_INFO, IPC_PRIVATE, IPC_RMID, IPC_SET, IPC_STAT, SHM_DEST, SHM_INFO, SHM_LOCK,
  SHM_LOCKED, SHM_STAT, SHM_STAT_ANY, SHM_UNLOCK,
} from '../../src/abi/constants.js';
import { makeCredentials } from '../../src/auth/cred.js';
import { clockedKernel } from '../helpers/kernel.js';

const PAGE = 4096;
const SHMMAX = (1n << 64n) - 1n - (1n << 24n);

function setup() {
  const { kernel, tick } = clockedKernel(1000);
  const root = kernel.spawn();
  const nobody = kernel.spawn({ cred: makeCredentials({ uid: 65534, gid: 65534 }) });
  return { kernel, root, nobody, tick };
}

/** A buffer full of 0xaa, so that what the kernel zeroes and what it leaves can be seen. */
const dirty = (n: number) => new Uint8Array(n).fill(0xaa);
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function setBuf(uid: number, gid: number, mode: number, junk = true): Uint8Array {
  const b = junk ? dirty(112) : new Uint8Array(112);
  const v = dv(b);
  v.setUint32(4, uid >>> 0, true);
  v.setUint32(8, gid >>> 0, true);
  v.setUint32(20, mode >>> 0, true);
  return b;
}

test('ksys_shmctl: a negative cmd or shmid is EINVAL for every command', () => {
  const { root } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  for (const cmd of [IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO, SHM_LOCK, SHM_UNLOCK, SHM_STAT, SHM_INFO, SHM_STAT_ANY]) {
    assert.equal(root.sys.shmctl(-1, cmd, dirty(112)), -Errno.EINVAL, `cmd ${cmd}`);
  }
  assert.equal(root.sys.shmctl(id, -1, dirty(112)), -Errno.EINVAL);
  assert.equal(root.sys.shmctl(id, -2147483648, null), -Errno.EINVAL);
});

test('ksys_shmctl: unknown commands, including IPC_STAT|IPC_64, are EINVAL', () => {
  const { root } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  for (const cmd of [4, 10, 16, 17, 100, IPC_STAT | IPC_64, IPC_INFO | IPC_64, 0x7fffffff]) {
    const b = dirty(112);
    assert.equal(root.sys.shmctl(id, cmd, b), -Errno.EINVAL, `cmd ${cmd}`);
    assert.deepEqual(b, dirty(112), 'nothing is written');
  }
});

test('shmctl_stat: IPC_STAT fills struct shmid64_ds at the x86_64 offsets and zeroes the padding', () => {
  const { root, kernel, tick } = setup();
  tick(1111);
  const p = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 100 }) });
  const id = p.sys.shmget(-2, 5000, IPC_CREAT | 0o640);
  tick(2222);
  const a = root.shmat(id);
  tick(3333);
  root.shmat(id);
  root.shmdt(a);
  const b = dirty(112);
  assert.equal(root.sys.shmctl(id, IPC_STAT, b), 0);
  const v = dv(b);
  assert.equal(v.getInt32(0, true), -2, 'key');
  assert.equal(v.getUint32(4, true), 1000, 'uid');
  assert.equal(v.getUint32(8, true), 100, 'gid');
  assert.equal(v.getUint32(12, true), 1000, 'cuid');
  assert.equal(v.getUint32(16, true), 100, 'cgid');
  assert.equal(v.getUint32(20, true), 0o640, 'mode');
  assert.equal(v.getUint16(24, true), 0, 'seq');
  assert.deepEqual([...b.subarray(26, 48)], new Array(22).fill(0), 'pad and reserved words');
  assert.equal(v.getBigUint64(48, true), 5000n, 'segsz');
  assert.equal(v.getBigInt64(56, true), 3333n, 'atime');
  assert.equal(v.getBigInt64(64, true), 3333n, 'dtime');
  assert.equal(v.getBigInt64(72, true), 1111n, 'ctime');
  assert.equal(v.getInt32(80, true), p.pid, 'cpid');
  assert.equal(v.getInt32(84, true), root.pid, 'lpid');
  assert.equal(v.getBigUint64(88, true), 1n, 'nattch');
  assert.deepEqual([...b.subarray(96, 112)], new Array(16).fill(0), 'unused4/unused5');
  // The typed API decodes the same buffer.
  const st = root.shmStat(id);
  assert.deepEqual(st, {
    key: -2, uid: 1000, gid: 100, cuid: 1000, cgid: 100, mode: 0o640, seq: 0, segsz: 5000n,
    atime: 3333, dtime: 3333, ctime: 1111, cpid: p.pid, lpid: root.pid, nattch: 1,
  });
});

test('shmctl_stat: lookup, then permission, then copy-out (EINVAL, EACCES, EFAULT)', () => {
  const { root, nobody } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  assert.equal(nobody.sys.shmctl(id + 32768, IPC_STAT, null), -Errno.EINVAL, 'stale seq');
  assert.equal(nobody.sys.shmctl(id, IPC_STAT, null), -Errno.EACCES);
  assert.equal(root.sys.shmctl(id, IPC_STAT, null), -Errno.EFAULT);
  assert.equal(root.sys.shmctl(id, IPC_STAT, new Uint8Array(111)), -Errno.EFAULT);
  assert.equal(root.sys.shmctl(id + 1, IPC_STAT, null), -Errno.EINVAL, 'empty slot');
});

test('shmctl_stat: SHM_STAT takes an index and returns the full id; SHM_STAT_ANY skips the read check', () => {
  const { root, nobody } = setup();
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) ids.push(root.sys.shmget(IPC_PRIVATE, PAGE, 0o600));
  root.shmRemove(ids[0]!);
  root.shmRemove(ids[1]!);
  // Create/remove through indexes 3..63; the next creation wraps to index 0 with seq 1.
  for (let i = 3; i < 64; i++) root.shmRemove(root.shmget(IPC_PRIVATE, PAGE, 0o600));
  const wrapped = root.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  assert.equal(wrapped, 32768 + 0);
  const b = dirty(112);
  assert.equal(root.sys.shmctl(0, SHM_STAT, b), wrapped);
  assert.equal(dv(b).getUint16(24, true), 1, '__seq');
  assert.equal(root.sys.shmctl(0 + 5 * 32768, SHM_STAT, dirty(112)), wrapped, 'seq bits of the index are ignored');
  assert.equal(root.sys.shmctl(1, SHM_STAT, dirty(112)), -Errno.EINVAL, 'empty slot');
  assert.equal(nobody.sys.shmctl(0, SHM_STAT, dirty(112)), -Errno.EACCES);
  assert.equal(nobody.sys.shmctl(0, SHM_STAT_ANY, dirty(112)), wrapped);
  assert.equal(nobody.sys.shmctl(0, SHM_STAT_ANY, null), -Errno.EFAULT);
  // IPC_STAT by the stale id of index 0 fails.
  assert.equal(root.sys.shmctl(ids[0]!, IPC_STAT, dirty(112)), -Errno.EINVAL);
});

test('shmctl_down: IPC_SET copies in first, then checks ownership, then the ids', () => {
  const { root, nobody, kernel, tick } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  assert.equal(nobody.sys.shmctl(99999, IPC_SET, null), -Errno.EFAULT, 'EFAULT even for a bad id');
  assert.equal(nobody.sys.shmctl(99999, IPC_SET, new Uint8Array(111)), -Errno.EFAULT);
  assert.equal(nobody.sys.shmctl(99999, IPC_SET, setBuf(0, 0, 0)), -Errno.EINVAL);
  assert.equal(nobody.sys.shmctl(id, IPC_SET, setBuf(0, 0, 0o666)), -Errno.EPERM);
  assert.equal(root.sys.shmctl(id, IPC_SET, setBuf(-1, 0, 0o666)), -Errno.EINVAL, '(uid_t)-1 does not map');
  assert.equal(root.sys.shmctl(id, IPC_SET, setBuf(0, -1, 0o666)), -Errno.EINVAL);
  assert.equal(root.shmStat(id).mode, 0o600, 'a failed IPC_SET changes nothing');
  // Lock it and mark it SHM_DEST: IPC_SET keeps those bits and replaces only the low nine.
  const a = root.shmat(id);
  root.shmLock(id);
  root.shmRemove(id);
  tick(7777);
  const before = root.shmStat(id);
  const req = setBuf(1000, 2000, 0o7777);
  const v = dv(req);
  v.setBigUint64(48, 1n, true); // segsz, nattch, cpid, key, cuid, seq: all ignored
  v.setBigUint64(88, 55n, true);
  v.setInt32(80, 4242, true);
  v.setInt32(0, 0x1234, true);
  v.setUint32(12, 77, true);
  v.setUint16(24, 9, true);
  assert.equal(root.sys.shmctl(id, IPC_SET, req), 0);
  const st = root.shmStat(id);
  assert.equal(st.mode, SHM_DEST | SHM_LOCKED | 0o777);
  assert.equal(st.uid, 1000);
  assert.equal(st.gid, 2000);
  assert.equal(st.ctime, 7777);
  assert.deepEqual({ ...st, mode: 0, uid: 0, gid: 0, ctime: 0 }, { ...before, mode: 0, uid: 0, gid: 0, ctime: 0 });
  // The creator keeps control after giving the segment away (cuid), but mode 0 applies to it.
  const p = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 1000 }) });
  const id2 = p.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  assert.equal(p.sys.shmctl(id2, IPC_SET, setBuf(0, 0, 0)), 0);
  assert.equal(p.sys.shmctl(id2, IPC_STAT, dirty(112)), -Errno.EACCES);
  assert.equal(p.sys.shmat(id2, 0, 0), -Errno.EACCES);
  assert.equal(p.sys.shmctl(id2, IPC_SET, setBuf(1000, 1000, 0o600)), 0);
  assert.equal(p.sys.shmctl(id2, IPC_RMID, null), 0);
  root.shmdt(a);
});

test('shmctl_down: IPC_RMID (owner or CAP_SYS_ADMIN) sets SHM_DEST, key 0, leaves ctime; repeatable', () => {
  const { root, nobody, tick } = setup();
  const id = root.sys.shmget(0x4d2, PAGE, IPC_CREAT | 0o666);
  const a = root.shmat(id);
  assert.equal(nobody.sys.shmctl(id, IPC_RMID, null), -Errno.EPERM);
  tick(9999);
  assert.equal(root.sys.shmctl(id, IPC_RMID, dirty(1)), 0, 'buf is ignored');
  const st = root.shmStat(id);
  assert.equal(st.mode, SHM_DEST | 0o666);
  assert.equal(st.key, 0);
  assert.equal(st.ctime, 1000);
  assert.equal(root.sys.shmctl(id, IPC_RMID, null), 0);
  // The key is free for a new segment while the old one lives on.
  const id2 = root.sys.shmget(0x4d2, PAGE, IPC_CREAT | 0o600);
  assert.notEqual(id2, id);
  root.shmdt(a);
  assert.equal(root.sys.shmctl(id, IPC_STAT, dirty(112)), -Errno.EINVAL);
  assert.equal(root.sys.shmctl(id, IPC_RMID, null), -Errno.EINVAL);
});

test('shmctl_ipc_info: IPC_INFO fills shminfo64 (72 bytes) and returns the max index', () => {
  const { root, kernel } = setup();
  const b = dirty(112);
  assert.equal(root.sys.shmctl(0, IPC_INFO, b), 0, '0 when no segment exists');
  const v = dv(b);
  assert.equal(v.getBigUint64(0, true), SHMMAX);
  assert.equal(v.getBigUint64(8, true), 1n);
  assert.equal(v.getBigUint64(16, true), 4096n);
  assert.equal(v.getBigUint64(24, true), 4096n);
  assert.equal(v.getBigUint64(32, true), SHMMAX);
  assert.deepEqual([...b.subarray(40, 72)], new Array(32).fill(0));
  assert.deepEqual([...b.subarray(72)], new Array(40).fill(0xaa), 'only 72 bytes are written');
  assert.equal(root.sys.shmctl(0, IPC_INFO, new Uint8Array(71)), -Errno.EFAULT);
  assert.equal(root.sys.shmctl(0, IPC_INFO, null), -Errno.EFAULT);
  assert.ok(kernel.proc.write('/proc/sys/kernel/shmmni', '77', root).ok);
  assert.ok(kernel.proc.write('/proc/sys/kernel/shmall', '1234', root).ok);
  assert.ok(kernel.proc.write('/proc/sys/kernel/shmmax', '4321', root).ok);
  const l = root.shmLimits();
  assert.deepEqual(l, { shmmax: 4321n, shmmin: 1n, shmmni: 77n, shmseg: 77n, shmall: 1234n });
  // The return value: indexes 5, 6, 7 live -> 7; remove 7 -> 6; remove all -> 0.
  const ids: number[] = [];
  for (let i = 0; i < 8; i++) ids.push(root.sys.shmget(IPC_PRIVATE, 1, 0o600));
  for (let i = 0; i < 5; i++) root.shmRemove(ids[i]!);
  assert.equal(root.sys.shmctl(123, IPC_INFO, dirty(72)), 7, 'shmid is ignored when >= 0');
  root.shmRemove(ids[7]!);
  assert.equal(root.sys.shmctl(0, IPC_INFO, dirty(72)), 6);
  assert.equal(root.sys.shmctl(0, SHM_INFO, dirty(48)), 6);
  root.shmRemove(ids[5]!);
  root.shmRemove(ids[6]!);
  assert.equal(root.sys.shmctl(0, IPC_INFO, dirty(72)), 0);
});

test('shmctl_shm_info: SHM_INFO fills shm_info (48 bytes): used_ids, shm_tot, shm_rss, shm_swp', () => {
  const { root } = setup();
  const a = root.sys.shmget(IPC_PRIVATE, 5000, 0o600);
  const b = root.sys.shmget(IPC_PRIVATE, 3 * PAGE, 0o600);
  const addr = root.shmat(b);
  root.fill(addr, 2 * PAGE, 1);
  root.shmRemove(b); // SHM_DEST: still counted
  const buf = dirty(112);
  assert.equal(root.sys.shmctl(0, SHM_INFO, buf), 1);
  const v = dv(buf);
  assert.equal(v.getInt32(0, true), 2, 'used_ids');
  assert.equal(v.getUint32(4, true), 0, 'padding');
  assert.equal(v.getBigUint64(8, true), 5n, 'shm_tot: 2 + 3 pages');
  assert.equal(v.getBigUint64(16, true), 2n, 'shm_rss: resident pages');
  assert.equal(v.getBigUint64(24, true), 0n, 'shm_swp');
  assert.equal(v.getBigUint64(32, true), 0n, 'swap_attempts');
  assert.equal(v.getBigUint64(40, true), 0n, 'swap_successes');
  assert.deepEqual([...buf.subarray(48)], new Array(64).fill(0xaa));
  assert.deepEqual(root.shmInfo(), { usedIds: 2, shmTot: 5n, shmRss: 2n, shmSwp: 0n });
  // Pages stay resident after the detach of a segment that is not removed.
  const c = root.shmat(a);
  root.fill(c, 1, 7);
  root.shmdt(c);
  root.shmdt(addr);
  assert.deepEqual(root.shmInfo(), { usedIds: 1, shmTot: 2n, shmRss: 1n, shmSwp: 0n });
  assert.equal(root.sys.shmctl(0, SHM_INFO, new Uint8Array(47)), -Errno.EFAULT);
});

test('copy_shmid_to_user: a reused buffer is rewritten in full every time; a short one is EFAULT and left alone', () => {
  const { root, kernel, tick } = setup();
  const p = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 100 }) });
  const a = p.sys.shmget(0x77, 5000, IPC_CREAT | 0o644);
  const b = root.sys.shmget(IPC_PRIVATE, 3 * PAGE, 0o600);
  const buf = dirty(120);
  const fresh = (id: number) => {
    const f = dirty(112);
    assert.ok(root.sys.shmctl(id, IPC_STAT, f) >= 0);
    return f;
  };
  for (let round = 0; round < 4; round++) {
    tick(10);
    root.shmat(a);
    for (const id of [a, b, a]) {
      buf.fill(0xaa);
      assert.equal(root.sys.shmctl(id, IPC_STAT, buf), 0);
      assert.deepEqual(buf.subarray(0, 112), fresh(id), `round ${round}, id ${id}`);
      assert.deepEqual([...buf.subarray(112)], new Array(8).fill(0xaa), 'bytes past the structure');
    }
  }
  // Unaligned views of a larger buffer: the same bytes.
  const big = dirty(200);
  for (const off of [1, 4, 8, 13]) {
    const view = big.subarray(off, off + 112);
    assert.equal(root.sys.shmctl(a, IPC_STAT, view), 0);
    assert.equal(root.sys.shmctl(a, IPC_STAT, view), 0);
    assert.deepEqual(new Uint8Array(view), fresh(a), `offset ${off}`);
  }
  const short = dirty(111);
  assert.equal(root.sys.shmctl(a, IPC_STAT, short), -Errno.EFAULT);
  assert.ok(short.every((x) => x === 0xaa), 'nothing written on EFAULT');
  // Through a UserBuffer: one copyTo() of exactly 112 bytes.
  const copies: Uint8Array[] = [];
  const ub = { copyTo: (bytes: Uint8Array) => (copies.push(bytes.slice()), true), copyFrom: () => null };
  assert.equal(root.sys.shmctl(b & 0x7fff, SHM_STAT, ub), b);
  assert.deepEqual(copies, [fresh(b)]);
  const faulting = { copyTo: () => false, copyFrom: () => null };
  assert.equal(root.sys.shmctl(b, IPC_STAT, faulting), -Errno.EFAULT);
});

test('kernel_to_ipc64_perm: each reader sees ids through its own user namespace, also once its map is written', () => {
  const { kernel } = setup();
  const p = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 100 }) });
  const creator = kernel.spawn();
  const id = creator.sys.shmget(0x99, PAGE, IPC_CREAT | 0o644);
  assert.equal(p.sys.unshare(0x10000000 /* CLONE_NEWUSER */), 0);
  const stat = (who: typeof p) => {
    const b = dirty(112);
    assert.equal(who.sys.shmctl(id, IPC_STAT, b), 0);
    return [0, 1, 2, 3].map((i) => dv(b).getUint32(4 + 4 * i, true));
  };
  assert.deepEqual(stat(creator), [0, 0, 0, 0]);
  assert.deepEqual(stat(p), [65534, 65534, 65534, 65534], 'no map yet: the overflow ids');
  assert.deepEqual(stat(creator), [0, 0, 0, 0]);
  assert.ok(kernel.proc.write(`/proc/${p.pid}/uid_map`, '0 1000 1\n', p).ok);
  assert.ok(kernel.proc.write(`/proc/${p.pid}/setgroups`, 'deny', p).ok);
  assert.ok(kernel.proc.write(`/proc/${p.pid}/gid_map`, '0 100 1\n', p).ok);
  assert.deepEqual(stat(p), [65534, 65534, 65534, 65534], 'root (uid 0) is still unmapped there');
  // IPC_SET by root to uid 1000/gid 100: p's namespace root now owns it, creator stays root.
  assert.equal(creator.sys.shmctl(id, IPC_SET, setBuf(1000, 100, 0o644)), 0);
  assert.deepEqual(stat(p), [0, 0, 65534, 65534]);
  assert.deepEqual(stat(creator), [1000, 100, 0, 0]);
  assert.deepEqual(stat(p), [0, 0, 65534, 65534]);
});

test('kernel_to_ipc64_perm: ids at and above 2^31 read back exactly (the translating path), alternating with small ones', () => {
  const { kernel } = setup();
  const big = kernel.spawn({ cred: makeCredentials({ uid: 0x90000000, gid: 0xfffffffe }) });
  const small = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 100 }) });
  const a = big.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  const b = small.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  const buf = dirty(112);
  for (let i = 0; i < 3; i++) {
    assert.equal(big.sys.shmctl(a, IPC_STAT, buf), 0);
    assert.deepEqual([0, 1, 2, 3].map((k) => dv(buf).getUint32(4 + 4 * k, true)), [0x90000000, 0xfffffffe, 0x90000000, 0xfffffffe]);
    assert.equal(small.sys.shmctl(b, IPC_STAT, buf), 0);
    assert.deepEqual([0, 1, 2, 3].map((k) => dv(buf).getUint32(4 + 4 * k, true)), [1000, 100, 1000, 100]);
  }
});
