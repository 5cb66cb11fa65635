import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAP_FULL_SET, CAP_REFERENCE_ROOT_SET, Capability } from '../../src/abi/constants.js';
import { Errno } from '../../src/abi/errno.js';
import { SECURE_KEEP_CAPS_LOCKED, SECURE_NO_SETUID_FIXUP, capSetOf, capable, issecureMask, nsCapable } from '../../src/auth/capability.js';
import { Credentials, NGROUPS_MAX, inGroupP, initialRootCredentials, makeCredentials } from '../../src/auth/cred.js';
import { capset, prctlSetKeepCaps, setgroups, setresgid, setresuid, unshareMapRootUser, writeSetgroups } from '../../src/auth/setid.js';
import { initUserNs } from '../../src/auth/userns.js';

const root = initialRootCredentials();
const C = Capability;

function ok(r: Credentials | number): Credentials {
  assert.ok(r instanceof Credentials, `expected credentials, got errno ${String(r)}`);
  return r;
}

test('initial root credentials: ids 0, reference capability set, bounding the same', () => {
  assert.deepEqual(
    [root.uid, root.euid, root.suid, root.fsuid, root.gid, root.egid, root.sgid, root.fsgid],
    [0, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.equal(root.capEffective, CAP_REFERENCE_ROOT_SET);
  assert.equal(root.capPermitted, CAP_REFERENCE_ROOT_SET);
  assert.equal(root.capBounding, CAP_REFERENCE_ROOT_SET);
  assert.equal(root.capInheritable, 0n);
  assert.equal(root.capAmbient, 0n);
  assert.equal(root.keepCaps, false);
  assert.equal(root.userNs, initUserNs);
  assert.ok(!capable(root, C.CAP_SYS_RESOURCE));
  assert.ok(capable(root, C.CAP_IPC_OWNER));
});

test('credentials are immutable values (fork shares them)', () => {
  const c = makeCredentials({ uid: 1000, groups: [30, 10, 20] });
  assert.ok(Object.isFrozen(c));
  assert.ok(Object.isFrozen(c.groups));
  assert.deepEqual(c.groups, [10, 20, 30]);
  assert.throws(() => { (c as { uid: number }).uid = 0; });
  const child = c; // fork(): the child shares the parent's credentials
  const changed = ok(setresuid(c, 1000, 1000, 1000));
  assert.equal(changed, c); // no-op returns the same object
  assert.equal(child.uid, 1000);
  assert.throws(() => makeCredentials({ uid: 0xffffffff }));
  assert.throws(() => makeCredentials({ capEffective: 1n << 60n }));
  assert.throws(() => makeCredentials({ capPermitted: 1n, capInheritable: 0n, capAmbient: 1n }));
});

test('inGroupP: fsgid or supplementary groups, not egid', () => {
  const c = makeCredentials({ uid: 1, gid: 10, egid: 11, fsgid: 12, groups: [40, 20, 30] });
  assert.ok(inGroupP(c, 12));
  assert.ok(inGroupP(c, 20));
  assert.ok(inGroupP(c, 40));
  assert.ok(!inGroupP(c, 11));
  assert.ok(!inGroupP(c, 10));
  assert.ok(!inGroupP(c, 25));
});

test('setresuid from root to 65534 without keepcaps clears permitted and effective', () => {
  const c = ok(setresuid(root, 65534, 65534, 65534));
  assert.deepEqual([c.uid, c.euid, c.suid, c.fsuid], [65534, 65534, 65534, 65534]);
  assert.equal(c.capPermitted, 0n);
  assert.equal(c.capEffective, 0n);
  assert.equal(c.capBounding, CAP_REFERENCE_ROOT_SET);
  // and it cannot come back
  assert.equal(setresuid(c, 0, 0, 0), -Errno.EPERM);
});

test('setresuid with keepcaps keeps permitted, clears effective; capset can raise effective again', () => {
  const k = ok(prctlSetKeepCaps(root, 1));
  assert.equal(k.keepCaps, true);
  const c = ok(setresuid(k, 65534, 65534, 65534));
  assert.equal(c.capPermitted, CAP_REFERENCE_ROOT_SET);
  assert.equal(c.capEffective, 0n);
  assert.equal(c.keepCaps, true);
  const raised = ok(capset(c, capSetOf(C.CAP_SETUID), c.capPermitted, 0n));
  assert.ok(nsCapable(raised, initUserNs, C.CAP_SETUID));
  // now it can change uids freely
  assert.equal(ok(setresuid(raised, 1000, 1000, 1000)).euid, 1000);
});

test('setresuid: euid 0 -> nonzero clears effective, back to 0 restores it from permitted', () => {
  const dropped = ok(setresuid(root, -1, 1000, -1));
  assert.deepEqual([dropped.uid, dropped.euid, dropped.suid, dropped.fsuid], [0, 1000, 0, 1000]);
  assert.equal(dropped.capEffective, 0n);
  assert.equal(dropped.capPermitted, CAP_REFERENCE_ROOT_SET); // real and saved uid still 0
  const back = ok(setresuid(dropped, -1, 0, -1)); // 0 is the real uid: no capability needed
  assert.equal(back.euid, 0);
  assert.equal(back.capEffective, CAP_REFERENCE_ROOT_SET);
});

test('setresuid: unprivileged callers can only pick among their real, effective and saved uids', () => {
  const u = makeCredentials({ uid: 1000, euid: 1001, suid: 1002 });
  const a = ok(setresuid(u, 1002, 1000, 1001));
  assert.deepEqual([a.uid, a.euid, a.suid, a.fsuid], [1002, 1000, 1001, 1000]);
  assert.equal(setresuid(u, 1003, -1, -1), -Errno.EPERM);
  assert.equal(setresuid(u, -1, -1, 0), -Errno.EPERM);
  assert.equal(setresuid(u, 0xffffffff, 0xffffffff, 0xffffffff), u);
});

test('setresuid: ids must map in the caller namespace (EINVAL before EPERM)', () => {
  const c = ok(unshareMapRootUser(makeCredentials({ uid: 1000, gid: 1000 })));
  assert.equal(setresuid(c, 5, -1, -1), -Errno.EINVAL);
  const same = ok(setresuid(c, 0, 0, 0)); // uid 0 there is kuid 1000
  assert.equal(same.uid, 1000);
  const nobody = makeCredentials({ uid: 65534 });
  assert.equal(setresuid(nobody, 0xffffffff - 0, -1, -1), nobody); // -1 = unchanged
});

test('SECURE_NO_SETUID_FIXUP suppresses the capability side effects', () => {
  const c = root.with({ securebits: issecureMask(SECURE_NO_SETUID_FIXUP) });
  const d = ok(setresuid(c, 65534, 65534, 65534));
  assert.equal(d.capEffective, CAP_REFERENCE_ROOT_SET);
  assert.equal(d.capPermitted, CAP_REFERENCE_ROOT_SET);
});

test('dropping all root uids clears the ambient set even with keepcaps', () => {
  const amb = capSetOf(C.CAP_NET_RAW);
  const c = makeCredentials({ capEffective: CAP_REFERENCE_ROOT_SET, capInheritable: amb, capAmbient: amb, keepCaps: true });
  const d = ok(setresuid(c, 1, 1, 1));
  assert.equal(d.capAmbient, 0n);
  assert.equal(d.capPermitted, CAP_REFERENCE_ROOT_SET);
});

test('setresgid: CAP_SETGID or one of the current gids; fsgid follows egid; caps untouched', () => {
  const g = ok(setresgid(root, 100, 200, 300));
  assert.deepEqual([g.gid, g.egid, g.sgid, g.fsgid], [100, 200, 300, 200]);
  assert.equal(g.capEffective, root.capEffective);
  const u = makeCredentials({ uid: 1000, gid: 1000, egid: 1001 });
  assert.equal(setresgid(u, 5, -1, -1), -Errno.EPERM);
  const v = ok(setresgid(u, 1001, 1000, -1));
  assert.deepEqual([v.gid, v.egid, v.sgid, v.fsgid], [1001, 1000, 1000, 1000]);
});

test('setgroups: EPERM without CAP_SETGID, EINVAL past NGROUPS_MAX, sorted result', () => {
  const u = makeCredentials({ uid: 1000, gid: 1000 });
  assert.equal(setgroups(u, [1000]), -Errno.EPERM);
  // EPERM is checked before the size
  assert.equal(setgroups(u, new Array(NGROUPS_MAX + 1).fill(1)), -Errno.EPERM);
  assert.equal(setgroups(root, new Array(NGROUPS_MAX + 1).fill(1)), -Errno.EINVAL);
  const g = ok(setgroups(root, [30, 10, 20, 10]));
  assert.deepEqual(g.groups, [10, 10, 20, 30]);
  assert.equal(ok(setgroups(root, new Array(NGROUPS_MAX).fill(7))).groups.length, NGROUPS_MAX);
  assert.equal(setgroups(root, [0xffffffff]), -Errno.EINVAL);
  assert.deepEqual(ok(setgroups(root, [])).groups, []);
});

test('setgroups in a child user namespace: denied after "deny", unmapped gids EINVAL', () => {
  const c = ok(unshareMapRootUser(root));
  // unshare --map-root-user writes "deny" to /proc/self/setgroups
  assert.equal(setgroups(c, [0]), -Errno.EPERM);
  assert.equal(writeSetgroups(c.userNs, c, true), -Errno.EPERM); // cannot re-allow
});

test('prctlSetKeepCaps: arg > 1 EINVAL, locked EPERM, clearing works', () => {
  assert.equal(prctlSetKeepCaps(root, 2), -Errno.EINVAL);
  const locked = root.with({ securebits: issecureMask(SECURE_KEEP_CAPS_LOCKED) });
  assert.equal(prctlSetKeepCaps(locked, 1), -Errno.EPERM);
  const on = ok(prctlSetKeepCaps(root, true));
  assert.equal(ok(prctlSetKeepCaps(on, 0)).keepCaps, false);
});

test('capset: cannot add a capability outside the permitted set', () => {
  const u = makeCredentials({ uid: 1000, capEffective: capSetOf(C.CAP_CHOWN), capPermitted: capSetOf(C.CAP_CHOWN, C.CAP_KILL) });
  assert.equal(capset(u, capSetOf(C.CAP_IPC_OWNER), capSetOf(C.CAP_CHOWN, C.CAP_KILL, C.CAP_IPC_OWNER), 0n), -Errno.EPERM);
  // effective must be within the *new* permitted set
  assert.equal(capset(u, capSetOf(C.CAP_KILL), capSetOf(C.CAP_CHOWN), 0n), -Errno.EPERM);
  const d = ok(capset(u, capSetOf(C.CAP_KILL), capSetOf(C.CAP_KILL), 0n));
  assert.equal(d.capEffective, capSetOf(C.CAP_KILL));
  assert.equal(d.capPermitted, capSetOf(C.CAP_KILL));
  // once dropped, a permitted capability cannot come back
  assert.equal(capset(d, 0n, capSetOf(C.CAP_KILL, C.CAP_CHOWN), 0n), -Errno.EPERM);
  // bits beyond CAP_LAST_CAP are silently ignored (mk_kernel_cap)
  assert.equal(ok(capset(d, 1n << 63n, capSetOf(C.CAP_KILL), 0n)).capEffective, 0n);
});

test('capset: inheritable rules (CAP_SETPCAP, bounding set)', () => {
  const u = makeCredentials({ uid: 1000, capEffective: 0n, capPermitted: capSetOf(C.CAP_KILL) });
  assert.equal(ok(capset(u, 0n, u.capPermitted, capSetOf(C.CAP_KILL))).capInheritable, capSetOf(C.CAP_KILL));
  assert.equal(capset(u, 0n, u.capPermitted, capSetOf(C.CAP_CHOWN)), -Errno.EPERM);
  // with CAP_SETPCAP effective: anything inside the bounding set
  const p = makeCredentials({ uid: 1000, capEffective: capSetOf(C.CAP_SETPCAP), capBounding: CAP_FULL_SET & ~capSetOf(C.CAP_SYS_RESOURCE) });
  assert.equal(ok(capset(p, p.capEffective, p.capPermitted, capSetOf(C.CAP_CHOWN))).capInheritable, capSetOf(C.CAP_CHOWN));
  assert.equal(capset(p, p.capEffective, p.capPermitted, capSetOf(C.CAP_SYS_RESOURCE)), -Errno.EPERM);
  // ambient caps no longer permitted and inheritable are dropped
  const a = makeCredentials({ capEffective: capSetOf(C.CAP_KILL), capInheritable: capSetOf(C.CAP_KILL), capAmbient: capSetOf(C.CAP_KILL) });
  assert.equal(ok(capset(a, 0n, a.capPermitted, 0n)).capAmbient, 0n);
});
