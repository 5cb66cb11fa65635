import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAP_FULL_SET, Capability } from '../../src/abi/constants.js';
import { Errno } from '../../src/abi/errno.js';
import { capSetOf, capable, nsCapable } from '../../src/auth/capability.js';
import { Credentials, initialRootCredentials, makeCredentials } from '../../src/auth/cred.js';
import { setgroups, setresuid, unshareMapRootUser, unshareUserNs, writeGidMap, writeSetgroups, writeUidMap } from '../../src/auth/setid.js';
import {
  INVALID_UID, OVERFLOWUID, UserNamespace, createInitUserNamespace, fromKgid, fromKgidMunged, fromKuid, fromKuidMunged,
  initUserNs, makeKgid, makeKuid,
} from '../../src/auth/userns.js';

const root = initialRootCredentials();
const C = Capability;

function ok(r: Credentials | number): Credentials {
  assert.ok(r instanceof Credentials, `expected credentials, got errno ${String(r)}`);
  return r;
}

test('initial namespace maps 0..4294967294 identically; (uid_t)-1 is invalid', () => {
  for (const id of [0, 1, 1000, 65534, 4294967294]) {
    assert.equal(makeKuid(initUserNs, id), id);
    assert.equal(makeKgid(initUserNs, id), id);
    assert.equal(fromKuid(initUserNs, id), id);
    assert.equal(fromKuidMunged(initUserNs, id), id);
  }
  assert.equal(makeKuid(initUserNs, 4294967295), INVALID_UID);
  assert.equal(makeKuid(initUserNs, -1), INVALID_UID);
  assert.equal(fromKuid(initUserNs, INVALID_UID), -1);
  assert.equal(initUserNs.level, 0);
  assert.equal(initUserNs.parent, null);
});

test('child namespace: unmapped ids translate to invalid / 65534', () => {
  const ns = new UserNamespace({ parent: initUserNs, owner: 1000, group: 1000, uidMap: [{ first: 0, lowerFirst: 1000, count: 1 }], gidMap: [{ first: 0, lowerFirst: 1000, count: 10 }] });
  assert.equal(makeKuid(ns, 0), 1000);
  assert.equal(makeKuid(ns, 1), INVALID_UID);
  assert.equal(fromKuid(ns, 1000), 0);
  assert.equal(fromKuid(ns, 0), -1);
  assert.equal(fromKuidMunged(ns, 0), OVERFLOWUID);
  assert.equal(fromKuidMunged(ns, 0), 65534);
  assert.equal(makeKgid(ns, 9), 1009);
  assert.equal(makeKgid(ns, 10), -1);
  assert.equal(fromKgid(ns, 1005), 5);
  assert.equal(fromKgidMunged(ns, 999), 65534);
});

test('unshare --user --map-root-user: root inside maps to the caller outside', () => {
  const user = makeCredentials({ uid: 1000, gid: 1000 });
  const c = ok(unshareMapRootUser(user));
  const ns = c.userNs;
  assert.equal(ns.parent, initUserNs);
  assert.equal(ns.level, 1);
  assert.equal(ns.owner, 1000);
  assert.equal(ns.group, 1000);
  assert.equal(c.euid, 1000); // kernel ids do not change
  assert.equal(fromKuid(ns, c.euid), 0);
  assert.equal(fromKgidMunged(ns, 0), 65534);
  assert.equal(c.capEffective, CAP_FULL_SET);
  assert.equal(c.capBounding, CAP_FULL_SET);
  // full capabilities in the new namespace, none outside
  assert.ok(nsCapable(c, ns, C.CAP_SYS_ADMIN));
  assert.ok(!nsCapable(c, initUserNs, C.CAP_SYS_ADMIN));
  assert.ok(!capable(c, C.CAP_IPC_OWNER));
});

test('cap_capable: ancestors cover descendants; the owner in the parent has every capability', () => {
  const user = makeCredentials({ uid: 1000, gid: 1000 });
  const child = ok(unshareMapRootUser(user));
  // root of the initial namespace has its capabilities in every child
  assert.ok(nsCapable(root, child.userNs, C.CAP_IPC_OWNER));
  assert.ok(!nsCapable(root, child.userNs, C.CAP_SYS_RESOURCE)); // not in its effective set
  // the creator (euid == owner, living in the parent) has all capabilities in the child without any of its own
  assert.ok(nsCapable(user, child.userNs, C.CAP_SYS_RESOURCE));
  const other = makeCredentials({ uid: 1001, gid: 1001 });
  assert.ok(!nsCapable(other, child.userNs, C.CAP_SYS_ADMIN));
  // grandchild: the child root has its caps there too; a sibling namespace does not
  const grand = ok(unshareMapRootUser(child));
  assert.equal(grand.userNs.level, 2);
  assert.ok(nsCapable(child, grand.userNs, C.CAP_SYS_ADMIN)); // owner rule (euid 1000 == owner)
  const sibling = ok(unshareMapRootUser(other));
  assert.ok(!nsCapable(sibling, child.userNs, C.CAP_SYS_ADMIN));
  assert.ok(!nsCapable(child, sibling.userNs, C.CAP_SYS_ADMIN));
  // a child with no caps in its own namespace
  const weak = child.with({ capEffective: 0n });
  assert.ok(!nsCapable(weak, child.userNs, C.CAP_SYS_ADMIN));
});

test('nested maps are stored as kernel ids', () => {
  const user = makeCredentials({ uid: 1000, gid: 1000, capEffective: capSetOf(C.CAP_SETUID, C.CAP_SETGID) });
  const c = ok(unshareUserNs(user));
  const ns = c.userNs;
  // a writer in the parent namespace with CAP_SETUID there may map ranges (CAP_SYS_ADMIN over
  // the child comes from being its owner)
  assert.equal(writeUidMap(ns, user, [{ first: 0, lowerFirst: 1000, count: 1 }, { first: 1, lowerFirst: 100000, count: 65535 }]), 0);
  assert.equal(writeGidMap(ns, user, [{ first: 0, lowerFirst: 1000, count: 1 }]), 0);
  assert.equal(fromKuid(ns, 1000), 0);
  assert.equal(makeKuid(ns, 6), 100005);
  // a grandchild maps ids of the child namespace; they are stored translated to kernel ids
  const g = ok(unshareUserNs(c));
  const ns2 = g.userNs;
  assert.equal(writeUidMap(ns2, c, [{ first: 0, lowerFirst: 1, count: 10 }]), 0);
  assert.deepEqual(ns2.uidMap, [{ first: 0, lowerFirst: 100000, count: 10 }]);
  assert.equal(makeKuid(ns2, 5), 100005);
  assert.equal(fromKuid(ns2, 100005), 5);
  assert.equal(fromKuid(ns, 100005), 6);
  assert.equal(fromKuidMunged(ns2, 1000), 65534);
  // lower ids not mapped in the parent: EPERM
  const g2 = ok(unshareUserNs(c));
  assert.equal(writeUidMap(g2.userNs, c, [{ first: 0, lowerFirst: 70000, count: 1 }]), -Errno.EPERM);
});

test('writeUidMap / writeGidMap rules', () => {
  const admin = makeCredentials({ capEffective: capSetOf(C.CAP_SETUID, C.CAP_SETGID, C.CAP_SYS_ADMIN, C.CAP_SETFCAP) });
  const c = ok(unshareUserNs(admin));
  const ns = c.userNs;
  // malformed maps
  assert.equal(writeUidMap(ns, admin, []), -Errno.EINVAL);
  assert.equal(writeUidMap(ns, admin, [{ first: 0, lowerFirst: 100000, count: 0 }]), -Errno.EINVAL);
  assert.equal(writeUidMap(ns, admin, [{ first: 0xffffffff, lowerFirst: 1, count: 1 }]), -Errno.EINVAL);
  assert.equal(writeUidMap(ns, admin, [{ first: 0xfffffff0, lowerFirst: 1, count: 0x10 }]), -Errno.EINVAL); // wraps
  assert.equal(writeUidMap(ns, admin, [{ first: 0, lowerFirst: 100000, count: 10 }, { first: 5, lowerFirst: 200000, count: 10 }]), -Errno.EINVAL);
  assert.equal(writeUidMap(ns, admin, [{ first: 0, lowerFirst: 100000, count: 10 }, { first: 50, lowerFirst: 100005, count: 10 }]), -Errno.EINVAL);
  const many = Array.from({ length: 341 }, (_, i) => ({ first: i * 2, lowerFirst: 100000 + i * 2, count: 1 }));
  assert.equal(writeUidMap(ns, admin, many), -Errno.EINVAL);
  // 340 extents are fine
  assert.equal(writeUidMap(ns, admin, many.slice(0, 340)), 0);
  assert.equal(makeKuid(ns, 678), 100678);
  assert.equal(makeKuid(ns, 679), -1);
  // only one write
  assert.equal(writeUidMap(ns, admin, [{ first: 0, lowerFirst: 0, count: 1 }]), -Errno.EPERM);
  assert.equal(writeGidMap(ns, admin, [{ first: 0, lowerFirst: 5000, count: 100 }]), 0);
  assert.equal(makeKgid(ns, 99), 5099);
  // the initial namespace's maps cannot be written
  assert.equal(writeUidMap(initUserNs, admin, [{ first: 0, lowerFirst: 0, count: 1 }]), -Errno.EPERM);
});

test('unprivileged owner may map only its own id; gid needs setgroups "deny" first', () => {
  const user = makeCredentials({ uid: 1000, gid: 1000 });
  const c = ok(unshareUserNs(user));
  const ns = c.userNs;
  assert.equal(writeUidMap(ns, c, [{ first: 0, lowerFirst: 1001, count: 1 }]), -Errno.EPERM);
  assert.equal(writeUidMap(ns, c, [{ first: 0, lowerFirst: 1000, count: 2 }]), -Errno.EPERM);
  assert.equal(writeGidMap(ns, c, [{ first: 0, lowerFirst: 1000, count: 1 }]), -Errno.EPERM);
  assert.equal(writeSetgroups(ns, c, false), 0);
  assert.equal(writeGidMap(ns, c, [{ first: 0, lowerFirst: 1000, count: 1 }]), 0);
  assert.equal(writeSetgroups(ns, c, false), -Errno.EPERM); // gid map already written
  assert.equal(writeUidMap(ns, c, [{ first: 0, lowerFirst: 1000, count: 1 }]), 0);
  // inside, setresuid to an unmapped uid is EINVAL, setgroups is EPERM
  assert.equal(setresuid(c, 1, 1, 1), -Errno.EINVAL);
  assert.equal(setgroups(c, [0]), -Errno.EPERM);
});

test('mapping the parent root uid needs CAP_SETFCAP at unshare time (verify_root_map)', () => {
  const noFcap = initialRootCredentials().with({ capEffective: initialRootCredentials().capEffective & ~capSetOf(C.CAP_SETFCAP) });
  assert.equal(unshareMapRootUser(noFcap), -Errno.EPERM);
  assert.ok(unshareMapRootUser(root) instanceof Credentials);
});

test('nesting is limited to 32 levels below the initial namespace', () => {
  let c: Credentials = makeCredentials({ uid: 1000, gid: 1000 });
  for (let i = 0; i < 33; i++) c = ok(unshareMapRootUser(c));
  assert.equal(c.userNs.level, 33);
  assert.equal(unshareUserNs(c), -Errno.ENOSPC);
});

test('unshare needs the euid/egid mapped in the current namespace', () => {
  const c = ok(unshareUserNs(makeCredentials({ uid: 1000, gid: 1000 })));
  // no maps written yet: euid 1000 has no mapping in the new namespace
  assert.equal(unshareUserNs(c), -Errno.EPERM);
  const isolated = createInitUserNamespace();
  assert.notEqual(isolated, initUserNs);
  assert.equal(makeKuid(isolated, 7), 7);
});
