/**
 * shmat(2): ipc/shm.c do_shmat() address rules, order of checks and side
 * effects (spec §4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno } from '../../src/index.js';
import {
  IPC_CREAT, IPC_PRIVATE, IPC_RMID, MAP_ANONYMOUS, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE,
  SHM_EXEC, SHM_RDONLY, SHM_REMAP, SHM_RND, TASK_SIZE,
} from '../../src/abi/constants.js';
import { makeCredentials } from '../../src/auth/cred.js';
import { ShmAttachFile } from '../../src/shm/attach.js';
import { VM_MAYWRITE, VM_SHARED, VM_MAYSHARE, VM_WRITE, VM_EXEC, VM_READ } from '../../src/mm/vma.js';
import { userVmas } from '../helpers/vmas.js';
import { clockedKernel } from '../helpers/kernel.js';

const PAGE = 4096;
const X = 0x100000000000;

function setup() {
  const { kernel, tick } = clockedKernel(1000);
  const root = kernel.spawn();
  const nobody = kernel.spawn({ cred: makeCredentials({ uid: 65534, gid: 65534 }) });
  return { kernel, root, nobody, tick };
}

function shmVmas(p: { mm: { vmas(): import('../../src/mm/vma.js').Vma[] } }) {
  return userVmas(p).filter((v) => v.file instanceof ShmAttachFile);
}

test('do_shmat: a negative shmid is EINVAL before anything else', () => {
  const { root } = setup();
  assert.equal(root.sys.shmat(-1, 0x1001, SHM_REMAP), -Errno.EINVAL);
  assert.equal(root.sys.shmat(-2147483648, 0, 0), -Errno.EINVAL);
});

test('do_shmat: address rules are checked before the id lookup and the permission check', () => {
  const { root, nobody } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  // Unknown id, misaligned address: EINVAL either way; NULL with SHM_REMAP: EINVAL.
  assert.equal(root.sys.shmat(12345, X + 1, 0), -Errno.EINVAL);
  assert.equal(nobody.sys.shmat(id, X + 1, 0), -Errno.EINVAL);
  assert.equal(nobody.sys.shmat(id, 0, SHM_REMAP), -Errno.EINVAL);
  // Aligned address: the permission check answers (EACCES), even where the range is occupied.
  const a = root.sys.shmat(id, X, 0);
  assert.equal(a, X);
  assert.equal(nobody.sys.shmat(id, 0, 0), -Errno.EACCES);
  assert.equal(root.sys.shmat(12345, X, 0), -Errno.EINVAL);
});

test('do_shmat: SHM_RND rounds down to SHMLBA; an address below SHMLBA maps at 0 or fails', () => {
  const { root, nobody, kernel } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, PAGE, 0o666);
  assert.equal(root.sys.shmat(id, X + 123, SHM_RND), X);
  assert.equal(root.sys.shmat(id, 0x7ff, SHM_RND | SHM_REMAP), -Errno.EINVAL);
  // Rounded to 0 without SHM_REMAP: a fixed mapping at 0, which needs CAP_SYS_RAWIO (mmap_min_addr).
  const other = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 1000 }) });
  assert.equal(other.sys.shmat(id, 0x7ff, SHM_RND), -Errno.EPERM);
  assert.equal(root.sys.shmat(id, 0x7ff, SHM_RND), 0);
  assert.equal(root.mm.findVma(0)?.start, 0);
  assert.equal(root.shmStat(id).nattch, 2);
  void nobody;
});

test('do_shmat: a fixed address overlapping a mapping is EINVAL without SHM_REMAP, and changes nothing', () => {
  const { root, tick } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, 2 * PAGE, 0o600);
  assert.equal(root.sys.mmap(X + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS), X + PAGE);
  const before = root.shmStat(id);
  tick(2000);
  assert.equal(root.sys.shmat(id, X, 0), -Errno.EINVAL);
  const after = root.shmStat(id);
  assert.equal(after.nattch, 0);
  assert.equal(after.atime, before.atime);
  assert.equal(after.lpid, 0);
  // SHM_REMAP replaces the anonymous page.
  assert.equal(root.sys.shmat(id, X, SHM_REMAP), X);
  const vmas = userVmas(root);
  assert.equal(vmas.length, 1);
  assert.ok(vmas[0]!.file instanceof ShmAttachFile);
  assert.equal(root.shmStat(id).atime, 2000);
  assert.equal(root.shmStat(id).lpid, root.pid);
});

test('do_shmat: SHM_REMAP over another attach closes the replaced VMA (nattch, dtime, lpid)', () => {
  const { root, kernel, tick } = setup();
  const a = root.sys.shmget(IPC_PRIVATE, PAGE, 0o666);
  const b = root.sys.shmget(IPC_PRIVATE, PAGE, 0o666);
  const child = kernel.fork(root);
  assert.equal(child.sys.shmat(a, X, 0), X);
  assert.equal(child.shmStat(a).nattch, 1);
  tick(3000);
  assert.equal(root.sys.shmat(b, X, 0), X, 'another process: no overlap there');
  assert.equal(child.sys.shmat(b, X, SHM_REMAP), X);
  const sa = child.shmStat(a);
  assert.equal(sa.nattch, 0);
  assert.equal(sa.dtime, 3000);
  assert.equal(sa.lpid, child.pid);
  assert.equal(child.shmStat(b).nattch, 2);
});

test('do_shmat: beyond TASK_SIZE is ENOMEM; wrapping past 2^64 is EINVAL (ENOMEM with SHM_REMAP)', () => {
  const { root } = setup();
  // Clear the [stack] at the top of user space, so that only the limits decide.
  for (const v of root.mm.vmas().filter((x) => x.end === Number(TASK_SIZE))) root.munmap(v.start, v.end - v.start);
  const id = root.sys.shmget(IPC_PRIVATE, 2 * PAGE, 0o600);
  const top = TASK_SIZE - BigInt(PAGE);
  assert.equal(root.sys.shmat(id, top, 0), -Errno.ENOMEM);
  assert.equal(root.sys.shmat(id, top, SHM_REMAP), -Errno.ENOMEM);
  assert.equal(root.sys.shmat(id, TASK_SIZE - 2n * BigInt(PAGE), 0), Number(TASK_SIZE) - 2 * PAGE);
  const wrap = (1n << 64n) - BigInt(PAGE);
  assert.equal(root.sys.shmat(id, wrap, 0), -Errno.EINVAL);
  assert.equal(root.sys.shmat(id, wrap, SHM_REMAP), -Errno.ENOMEM);
  assert.equal(root.shmStat(id).nattch, 1);
});

test('do_shmat: the mapping is roundup(segsz, PAGE) long; slack bytes are shared memory', () => {
  const { root, kernel } = setup();
  const id = root.sys.shmget(0x42, 5000, IPC_CREAT | 0o600);
  const a = root.shmat(id);
  const b = root.shmat(id);
  const v = root.mm.findVma(a)!;
  assert.equal(v.end - v.start, 8192);
  root.write(a + 8191, new Uint8Array([0x5a]));
  assert.deepEqual([...root.read(b + 8191, 1)], [0x5a]);
  assert.equal(kernel.proc.readText('/proc/sysvipc/shm', root).split('\n')[1]!.trim().split(/\s+/)[14], '4096');
});

test('do_shmat: SHM_RDONLY maps r--s without VM_MAYWRITE; writes fault, mprotect(PROT_WRITE) is EACCES', () => {
  const { root } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, PAGE, 0o600);
  const a = root.shmat(id, 0, SHM_RDONLY);
  const v = root.mm.findVma(a)!;
  assert.equal(v.flags & (VM_READ | VM_WRITE | VM_EXEC), VM_READ);
  assert.equal(v.flags & VM_MAYWRITE, 0);
  assert.equal(v.flags & VM_SHARED, 0);
  assert.equal(v.flags & VM_MAYSHARE, VM_MAYSHARE);
  const w = root.sys.write(a, new Uint8Array([1]));
  assert.equal(w.fault?.signal, 'SIGSEGV');
  assert.equal(root.sys.mprotect(a, PAGE, PROT_READ | PROT_WRITE), -Errno.EACCES);
  // VM_MAYEXEC is always set: PROT_EXEC works on any attach.
  assert.equal(root.sys.mprotect(a, PAGE, PROT_READ | PROT_EXEC), 0);
});

test('do_shmat: SHM_EXEC asks for the x bit of the caller\'s class', () => {
  const { root, nobody } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, PAGE, 0o666);
  assert.equal(nobody.sys.shmat(id, 0, SHM_EXEC), -Errno.EACCES);
  assert.equal(nobody.sys.shmat(id, 0, SHM_EXEC | SHM_RDONLY), -Errno.EACCES);
  const a = nobody.sys.shmat(id, 0, 0);
  assert.ok(a > 0);
  assert.equal(nobody.sys.mprotect(a, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC), 0, 'mprotect bypasses the x bit');
  const id2 = root.sys.shmget(IPC_PRIVATE, PAGE, 0o667);
  const b = nobody.sys.shmat(id2, 0, SHM_EXEC);
  assert.ok(b > 0);
  assert.equal(nobody.mm.findVma(b)!.flags & VM_EXEC, VM_EXEC);
  // Read-only attach needs r only: 0o604 lets nobody attach SHM_RDONLY but not RW.
  const id3 = root.sys.shmget(IPC_PRIVATE, PAGE, 0o604);
  assert.ok(nobody.sys.shmat(id3, 0, SHM_RDONLY) > 0);
  assert.equal(nobody.sys.shmat(id3, 0, 0), -Errno.EACCES);
});

test('do_shmat: a segment marked SHM_DEST can still be attached by id until its last detach', () => {
  const { root } = setup();
  const id = root.sys.shmget(0x99, PAGE, IPC_CREAT | 0o600);
  const a = root.shmat(id);
  assert.equal(root.sys.shmctl(id, IPC_RMID, null), 0);
  assert.equal(root.sys.shmget(0x99, 0, 0), -Errno.ENOENT);
  const b = root.shmat(id);
  assert.equal(root.shmStat(id).nattch, 2);
  assert.equal(root.shmStat(id).key, 0);
  root.shmdt(a);
  root.shmdt(b);
  assert.equal(root.sys.shmat(id, 0, 0), -Errno.EINVAL);
  assert.equal(root.ipcNs.shm.ids.inUse, 0);
});

test('do_shmat: success sets atime and lpid through the open hook; nattch counts VMAs', () => {
  const { root, kernel, tick } = setup();
  const id = root.sys.shmget(IPC_PRIVATE, 3 * PAGE, 0o666);
  const p = kernel.spawn();
  tick(5000);
  const a = p.shmat(id);
  let st = root.shmStat(id);
  assert.equal(st.atime, 5000);
  assert.equal(st.lpid, p.pid);
  assert.equal(st.nattch, 1);
  assert.equal(st.dtime, 0);
  // Splitting the attach adds VMAs (and sets atime/lpid again).
  tick(6000);
  root.sys.shmat(id, 0, 0);
  p.mprotect(a + PAGE, PAGE, PROT_READ);
  st = root.shmStat(id);
  assert.equal(st.nattch, 4);
  assert.equal(st.atime, 6000);
  assert.equal(st.lpid, p.pid);
  assert.equal(shmVmas(p).length, 3);
  // Restoring the protection does not merge SysV VMAs.
  p.mprotect(a + PAGE, PAGE, PROT_READ | PROT_WRITE);
  assert.equal(shmVmas(p).length, 3);
  assert.equal(root.shmStat(id).nattch, 4);
});
