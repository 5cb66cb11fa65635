import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capability, IPC_CREAT, IPC_EXCL, IPC_PRIVATE } from '../../src/abi/constants.js';
import { Errno } from '../../src/abi/errno.js';
import { capSetOf } from '../../src/auth/capability.js';
import { initialRootCredentials, makeCredentials, type Credentials } from '../../src/auth/cred.js';
import { unshareMapRootUser } from '../../src/auth/setid.js';
import { initUserNs } from '../../src/auth/userns.js';
import { IpcIds } from '../../src/ipc/ids.js';
import { KernIpcPerm, ipcperms, ipcUpdatePerm, isIpcOwner, kernelToIpc64Perm } from '../../src/ipc/perm.js';
import { ipcctlObtainCheck, ipcget, type IpcOps } from '../../src/ipc/util.js';

class Seg extends KernIpcPerm {
  constructor(key: number, mode: number, readonly segsz: number) {
    super(key, mode);
  }
}

const root = initialRootCredentials();
const nobody = makeCredentials({ uid: 65534, gid: 65534 });

function seg(mode: number, owner: { uid: number; gid: number; cuid?: number; cgid?: number }): Seg {
  const s = new Seg(1, mode, 4096);
  s.uid = owner.uid;
  s.gid = owner.gid;
  s.cuid = owner.cuid ?? owner.uid;
  s.cgid = owner.cgid ?? owner.gid;
  return s;
}

const EACCES = -Errno.EACCES;

test('ipcperms folds the nine requested bits: 0040 asks for read', () => {
  const user = makeCredentials({ uid: 1000, gid: 1000 });
  const own = seg(0o200, { uid: 1000, gid: 1000 }); // owner may only write
  assert.equal(ipcperms(initUserNs, own, 0o040, user), EACCES);
  assert.equal(ipcperms(initUserNs, own, 0o004, user), EACCES);
  assert.equal(ipcperms(initUserNs, own, 0o002, user), 0); // asks write
  assert.equal(ipcperms(initUserNs, own, 0o020, user), 0);
  assert.equal(ipcperms(initUserNs, own, 0o001, user), EACCES); // asks execute
  const readable = seg(0o400, { uid: 1000, gid: 1000 });
  assert.equal(ipcperms(initUserNs, readable, 0o040, user), 0);
});

test('ipcperms: requesting nothing always succeeds, even on mode 0; bits above 0777 never matter', () => {
  const s = seg(0, { uid: 0, gid: 0 });
  assert.equal(ipcperms(initUserNs, s, 0, nobody), 0);
  assert.equal(ipcperms(initUserNs, s, IPC_CREAT | IPC_EXCL, nobody), 0);
  assert.equal(ipcperms(initUserNs, s, 0x7fff0000, nobody), 0); // truncated to a short: 0
});

test('ipcperms: non-owner asking 0666 of a 0604 segment fails', () => {
  const s = seg(0o604, { uid: 0, gid: 0 });
  assert.equal(ipcperms(initUserNs, s, 0o666, nobody), EACCES);
  assert.equal(ipcperms(initUserNs, s, 0o444, nobody), 0);
});

test('ipcperms: owner class via uid or cuid', () => {
  const creator = makeCredentials({ uid: 1000, gid: 1000 });
  const s = seg(0o600, { uid: 0, gid: 0, cuid: 1000, cgid: 1000 });
  assert.equal(ipcperms(initUserNs, s, 0o600, creator), 0);
  // mode 0 applies to the owner class too
  s.mode = 0o066;
  assert.equal(ipcperms(initUserNs, s, 0o400, creator), EACCES);
  const owner = makeCredentials({ uid: 0, euid: 2000, gid: 5 });
  const t = seg(0o600, { uid: 2000, gid: 0, cuid: 0, cgid: 0 });
  assert.equal(ipcperms(initUserNs, t, 0o600, owner), 0);
});

test('ipcperms: group class via cgid or gid (fsgid or supplementary groups)', () => {
  const s = seg(0o060, { uid: 0, gid: 50, cuid: 0, cgid: 60 });
  const viaCgid = makeCredentials({ uid: 1000, gid: 60 });
  const viaGid = makeCredentials({ uid: 1000, gid: 1000, groups: [7, 50] });
  const neither = makeCredentials({ uid: 1000, gid: 1000, groups: [7, 51] });
  assert.equal(ipcperms(initUserNs, s, 0o600, viaCgid), 0);
  assert.equal(ipcperms(initUserNs, s, 0o600, viaGid), 0);
  assert.equal(ipcperms(initUserNs, s, 0o400, neither), EACCES);
  // in_group_p() looks at fsgid, not egid
  const egidOnly = makeCredentials({ uid: 1000, gid: 1000, egid: 50, fsgid: 1000 });
  assert.equal(ipcperms(initUserNs, s, 0o400, egidOnly), EACCES);
});

test('ipcperms: exactly one class, no fall-through to "other"', () => {
  const s = seg(0o004, { uid: 0, gid: 50 });
  const member = makeCredentials({ uid: 1000, gid: 50 });
  assert.equal(ipcperms(initUserNs, s, 0o400, member), EACCES);
  const owner = makeCredentials({ uid: 0, gid: 1000, capEffective: 0n });
  assert.equal(ipcperms(initUserNs, s, 0o400, owner), EACCES);
  assert.equal(ipcperms(initUserNs, s, 0o400, nobody), 0);
});

test('ipcperms: CAP_IPC_OWNER bypass counts only in the namespace owning the IPC namespace', () => {
  const s = seg(0, { uid: 1000, gid: 1000 });
  assert.equal(ipcperms(initUserNs, s, 0o777, root), 0);
  const noCap = makeCredentials({ uid: 0, gid: 0, capEffective: capSetOf(Capability.CAP_SYS_ADMIN) });
  assert.equal(ipcperms(initUserNs, s, 0o400, noCap), EACCES);
  const withCap = makeCredentials({ uid: 5, gid: 5, capEffective: capSetOf(Capability.CAP_IPC_OWNER) });
  assert.equal(ipcperms(initUserNs, s, 0o400, withCap), 0);
  // Root of a child user namespace sharing the host IPC namespace: denied.
  const childRoot = unshareMapRootUser(root) as Credentials;
  assert.equal(typeof childRoot, 'object');
  assert.equal(ipcperms(initUserNs, s, 0o400, childRoot), EACCES);
  // ... but allowed for an IPC namespace its own user namespace owns.
  assert.equal(ipcperms(childRoot.userNs, s, 0o400, childRoot), 0);
});

test('isIpcOwner: euid equals uid or cuid', () => {
  const s = seg(0, { uid: 10, gid: 0, cuid: 20, cgid: 0 });
  assert.ok(isIpcOwner(s, makeCredentials({ uid: 10 })));
  assert.ok(isIpcOwner(s, makeCredentials({ uid: 0, euid: 20 })));
  assert.ok(!isIpcOwner(s, makeCredentials({ uid: 20, euid: 30 })));
});

test('ipcUpdatePerm: maps ids in the caller namespace, keeps the high mode bits', () => {
  const s = seg(0o1600, { uid: 0, gid: 0 });
  assert.equal(ipcUpdatePerm(s, 1000, 100, 0o7777, initUserNs), 0);
  assert.deepEqual([s.uid, s.gid, s.mode], [1000, 100, 0o1777]);
  assert.equal(ipcUpdatePerm(s, 0xffffffff, 0, 0, initUserNs), -Errno.EINVAL);
  assert.equal(ipcUpdatePerm(s, -1, 0, 0, initUserNs), -Errno.EINVAL);
  assert.deepEqual([s.uid, s.gid, s.mode], [1000, 100, 0o1777]); // unchanged on failure
  const child = (unshareMapRootUser(makeCredentials({ uid: 1000, gid: 1000 })) as Credentials).userNs;
  assert.equal(ipcUpdatePerm(s, 1000, 0, 0o600, child), -Errno.EINVAL); // uid 1000 not mapped there
  assert.equal(ipcUpdatePerm(s, 0, 5, 0o600, child), -Errno.EINVAL); // gid 5 not mapped there
  assert.equal(ipcUpdatePerm(s, 0, 0, 0o640, child), 0);
  assert.deepEqual([s.uid, s.gid, s.mode], [1000, 1000, 0o1640]);
});

test('kernelToIpc64Perm translates ids for the reader, unmapped -> 65534', () => {
  const s = seg(0o3600, { uid: 1000, gid: 1000, cuid: 0, cgid: 0 });
  s.key = -5;
  s.seq = 7;
  assert.deepEqual(kernelToIpc64Perm(s, initUserNs), { key: -5, uid: 1000, gid: 1000, cuid: 0, cgid: 0, mode: 0o3600, seq: 7 });
  const child = (unshareMapRootUser(makeCredentials({ uid: 1000, gid: 1000 })) as Credentials).userNs;
  assert.deepEqual(kernelToIpc64Perm(s, child), { key: -5, uid: 0, gid: 0, cuid: 65534, cgid: 65534, mode: 0o3600, seq: 7 });
});

// ---------------------------------------------------------------------------
// ipcget

function shmOps(ids: IpcIds<Seg>, key: number, size: number, flg: number, cred: Credentials, log: string[] = []): IpcOps<Seg> {
  return {
    getnew() {
      log.push('getnew');
      const s = new Seg(key, flg & 0o777, size);
      return ids.addId(s, 4096, cred);
    },
    moreChecks(obj) {
      log.push('moreChecks');
      return obj.segsz < size ? -Errno.EINVAL : 0;
    },
    associate() {
      log.push('associate');
      return 0;
    },
  };
}

function shmget(ids: IpcIds<Seg>, key: number, size: number, flg: number, cred: Credentials, log?: string[]): number {
  return ipcget(ids, key, flg, shmOps(ids, key, size, flg, cred, log), initUserNs, cred);
}

test('ipcget: private key always creates, even without IPC_CREAT', () => {
  const ids = new IpcIds<Seg>();
  assert.equal(shmget(ids, IPC_PRIVATE, 1, 0o600, root), 0);
  assert.equal(shmget(ids, IPC_PRIVATE, 1, IPC_CREAT | IPC_EXCL, root), 1);
  assert.equal(ids.keyCount, 0);
});

test('ipcget: unknown key -> ENOENT without IPC_CREAT, created with it', () => {
  const ids = new IpcIds<Seg>();
  assert.equal(shmget(ids, 77, 1, 0o600, root), -Errno.ENOENT);
  assert.equal(shmget(ids, 77, 1, IPC_CREAT | 0o600, root), 0);
  assert.equal(shmget(ids, 77, 1, 0, root), 0);
  assert.equal(shmget(ids, 77, 0, IPC_EXCL, root), 0); // IPC_EXCL without IPC_CREAT is ignored
});

test('ipcget order on an existing key: EEXIST > EINVAL > EACCES, then associate', () => {
  const ids = new IpcIds<Seg>();
  assert.equal(shmget(ids, 5, 8192, IPC_CREAT | 0o600, root), 0);
  // EEXIST beats EINVAL (size too big) and EACCES (nobody, 0600)
  let log: string[] = [];
  assert.equal(shmget(ids, 5, 8193, IPC_CREAT | IPC_EXCL | 0o666, nobody, log), -Errno.EEXIST);
  assert.deepEqual(log, []);
  // EINVAL beats EACCES
  log = [];
  assert.equal(shmget(ids, 5, 8193, 0o666, nobody, log), -Errno.EINVAL);
  assert.deepEqual(log, ['moreChecks']);
  log = [];
  assert.equal(shmget(ids, 5, 8192, 0o666, nobody, log), -Errno.EACCES);
  assert.deepEqual(log, ['moreChecks']);
  // size 0 and requesting nothing: succeeds for anyone
  log = [];
  assert.equal(shmget(ids, 5, 0, 0, nobody, log), 0);
  assert.deepEqual(log, ['moreChecks', 'associate']);
  // an associate failure is returned as is
  const ops = { ...shmOps(ids, 5, 0, 0, root), associate: () => -Errno.EPERM };
  assert.equal(ipcget(ids, 5, 0, ops, initUserNs, root), -Errno.EPERM);
});

test('ipcget: a key set private is no longer found', () => {
  const ids = new IpcIds<Seg>();
  assert.equal(shmget(ids, 9, 1, IPC_CREAT | 0o600, root), 0);
  const s = ids.findKey(9)!;
  ids.setKeyPrivate(s);
  assert.equal(shmget(ids, 9, 1, 0o600, root), -Errno.ENOENT);
  assert.equal(shmget(ids, 9, 1, IPC_CREAT | IPC_EXCL | 0o600, root), 1);
});

// ---------------------------------------------------------------------------
// ipcctlObtainCheck

test('ipcctlObtainCheck: EINVAL for a bad id, EPERM for non-owners, CAP_SYS_ADMIN bypass', () => {
  const ids = new IpcIds<Seg>();
  const creator = makeCredentials({ uid: 1000, gid: 1000 });
  const id = shmget(ids, 3, 1, IPC_CREAT | 0o666, creator);
  assert.equal(id, 0);
  assert.equal(ipcctlObtainCheck(ids, initUserNs, 1, creator), -Errno.EINVAL);
  assert.equal(ipcctlObtainCheck(ids, initUserNs, id | (1 << 15), creator), -Errno.EINVAL);
  assert.equal(ipcctlObtainCheck(ids, initUserNs, id, nobody), -Errno.EPERM);
  const s = ipcctlObtainCheck(ids, initUserNs, id, creator);
  assert.ok(s instanceof Seg);
  // after giving it away the creator keeps control (cuid)
  assert.equal(ipcUpdatePerm(s, 0, 0, 0, initUserNs), 0);
  assert.equal(ipcctlObtainCheck(ids, initUserNs, id, creator), s);
  assert.equal(ipcperms(initUserNs, s, 0o400, creator), EACCES);
  assert.equal(ipcctlObtainCheck(ids, initUserNs, id, root), s);
  // root of a child user namespace on the host IPC namespace: EPERM
  const childRoot = unshareMapRootUser(root) as Credentials;
  const other = ids.obtainObjectCheck(id) as Seg;
  other.uid = 1000;
  other.cuid = 1000;
  assert.equal(ipcctlObtainCheck(ids, initUserNs, id, childRoot), -Errno.EPERM);
  assert.equal(ipcctlObtainCheck(ids, childRoot.userNs, id, childRoot), other);
});
