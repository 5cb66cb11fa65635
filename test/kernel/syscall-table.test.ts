/**
 * The x86_64 system-call table (arch/x86/entry/syscalls/syscall_64.tbl):
 * dispatch(process, nr, registers), with pointers into the guest's own
 * address space copied through copy_to_user/copy_from_user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, Errno, syscall, SYS } from '../../src/index.js';
import {
  IPC_CREAT, IPC_PRIVATE, IPC_RMID, IPC_SET, IPC_STAT, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED,
  PROT_NONE, PROT_READ, PROT_WRITE, RLIMIT_MEMLOCK, SHM_RDONLY,
} from '../../src/abi/constants.js';

const PAGE = 4096n;
const M1 = (1n << 64n) - 1n;
const err = (e: number) => BigInt(-e);

function setup() {
  const kernel = new Kernel({ clock: () => 500 });
  const p = kernel.spawn();
  const call = (nr: number, ...args: bigint[]) => syscall(p, nr, args);
  /** A private RW page mapped through the table. */
  const page = (prot = PROT_READ | PROT_WRITE) => {
    const a = call(SYS.mmap, 0n, PAGE, BigInt(prot), BigInt(MAP_PRIVATE | MAP_ANONYMOUS), M1, 0n);
    assert.ok(a > 0n);
    return a;
  };
  return { kernel, p, call, page };
}

test('syscall_64.tbl: the numbers of the SysV shm and mm calls', () => {
  assert.equal(SYS.shmget, 29);
  assert.equal(SYS.shmat, 30);
  assert.equal(SYS.shmctl, 31);
  assert.equal(SYS.shmdt, 67);
  assert.equal(SYS.mmap, 9);
  assert.equal(SYS.mprotect, 10);
  assert.equal(SYS.munmap, 11);
  assert.equal(SYS.mremap, 25);
  assert.equal(SYS.madvise, 28);
  assert.equal(SYS.getpid, 39);
  assert.equal(SYS.prlimit64, 302);
});

test('x64_sys_call: unknown numbers are ENOSYS', () => {
  const { call } = setup();
  for (const nr of [0, 1, 2, 12, 64, 66, 68, 400, 100000, -1]) assert.equal(call(nr), err(Errno.ENOSYS), `nr ${nr}`);
});

test('x64_sys_call / copy_to_user: shmctl(IPC_STAT) through a guest pointer into an mmap\'d page', () => {
  const { p, call, page } = setup();
  const id = call(SYS.shmget, 0x4242n, 5000n, BigInt(IPC_CREAT | 0o640));
  assert.equal(id, 0n);
  const buf = page();
  p.fill(buf, PAGE, 0xee);
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_STAT), buf + 100n), 0n);
  const b = p.read(buf + 100n, 112n);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  assert.equal(v.getInt32(0, true), 0x4242);
  assert.equal(v.getUint32(20, true), 0o640);
  assert.equal(v.getBigUint64(48, true), 5000n);
  assert.equal(v.getBigInt64(72, true), 500n);
  assert.equal(v.getInt32(80, true), p.pid);
  assert.equal(v.getBigUint64(88, true), 0n);
  assert.deepEqual([...p.read(buf + 212n, 4n)], [0xee, 0xee, 0xee, 0xee], 'nothing written past 112 bytes');
  assert.deepEqual([...p.read(buf + 96n, 4n)], [0xee, 0xee, 0xee, 0xee], 'nothing written before');
});

test('copy_to_user: shmctl(IPC_STAT) into a read-only page, an unmapped page or NULL is EFAULT', () => {
  const { call, page } = setup();
  const id = call(SYS.shmget, BigInt(IPC_PRIVATE), PAGE, 0o600n);
  const ro = page(PROT_READ);
  const none = page(PROT_NONE);
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_STAT), ro), err(Errno.EFAULT));
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_STAT), none), err(Errno.EFAULT));
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_STAT), 0n), err(Errno.EFAULT));
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_STAT), 0x10000n), err(Errno.EFAULT));
  // The structure crossing into an unmapped page.
  const rw = page();
  assert.equal(call(SYS.munmap, rw + PAGE, PAGE), 0n);
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_STAT), rw + PAGE - 111n), err(Errno.EFAULT));
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_STAT), rw + PAGE - 112n), 0n);
  // Through a read-only SysV attach, too.
  const at = call(SYS.shmat, id, 0n, BigInt(SHM_RDONLY));
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_STAT), at), err(Errno.EFAULT));
  // Lookup and permission come first: a bad id with a NULL pointer is EINVAL.
  assert.equal(call(SYS.shmctl, id + 1n, BigInt(IPC_STAT), 0n), err(Errno.EINVAL));
  // IPC_RMID ignores the pointer.
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_RMID), 0xdeadbeefn), 0n);
});

test('copy_from_user: shmctl(IPC_SET) reads the guest (a read-only page is fine, PROT_NONE is EFAULT)', () => {
  const { p, call, page } = setup();
  const id = call(SYS.shmget, BigInt(IPC_PRIVATE), PAGE, 0o600n);
  const buf = page();
  const req = new Uint8Array(112);
  const v = new DataView(req.buffer);
  v.setUint32(4, 1000, true);
  v.setUint32(8, 2000, true);
  v.setUint32(20, 0o644, true);
  p.write(buf, req);
  assert.equal(call(SYS.mprotect, buf, PAGE, BigInt(PROT_READ)), 0n);
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_SET), buf), 0n);
  const st = p.shmStat(Number(id));
  assert.equal(st.uid, 1000);
  assert.equal(st.gid, 2000);
  assert.equal(st.mode, 0o644);
  assert.equal(call(SYS.mprotect, buf, PAGE, BigInt(PROT_NONE)), 0n);
  assert.equal(call(SYS.shmctl, id, BigInt(IPC_SET), buf), err(Errno.EFAULT));
  assert.equal(call(SYS.shmctl, 12345n, BigInt(IPC_SET), 0n), err(Errno.EFAULT), 'copy-in before the lookup');
});

test('SYSCALL_DEFINE: int parameters are truncated to 32 bits, sizes and addresses are not', () => {
  const { p, call } = setup();
  // key 0x1234 with garbage in the upper half of the register; flags likewise.
  const id = call(SYS.shmget, 0xffffffff00001234n, 2n * PAGE, 0xabcd000000000000n | BigInt(IPC_CREAT | 0o600));
  assert.equal(id, 0n);
  assert.equal(p.ipcNs.shm.ids.at(0)?.key, 0x1234);
  // A size register is 64-bit: 2^32 + 1 bytes is not 1 byte (shm_tot says so).
  const big = call(SYS.shmget, BigInt(IPC_PRIVATE), (1n << 32n) + 1n, BigInt(0o600 | 0o10000));
  assert.ok(big > 0n);
  assert.equal(p.ipcNs.shm.shmTot, 2n + (1n << 20n) + 1n);
  // shmid and cmd are ints: garbage high bits disappear.
  const buf = p.mmapPrivate(PAGE);
  assert.equal(call(SYS.shmctl, 0x500000000n, 0x700000000n | BigInt(IPC_STAT), BigInt(buf)), 0n);
  // A negative int in a 64-bit register: -1 sign-extended or not, it is -1.
  assert.equal(call(SYS.shmctl, 0xffffffffn, BigInt(IPC_STAT), BigInt(buf)), err(Errno.EINVAL));
  assert.equal(call(SYS.shmctl, M1, BigInt(IPC_STAT), BigInt(buf)), err(Errno.EINVAL));
  // shmat/shmdt through the table; the address comes back as the register value.
  const at = call(SYS.shmat, id, 0n, 0n);
  assert.equal(at, BigInt(p.mm.vmas().find((x) => x.file)!.start));
  assert.equal(call(SYS.shmdt, at + 1n), err(Errno.EINVAL));
  assert.equal(call(SYS.shmdt, at), 0n);
  assert.equal(call(SYS.shmdt, at), err(Errno.EINVAL));
});

test('x64_sys_call: mmap, mprotect, mremap, madvise, munmap through the table', () => {
  const { p, call } = setup();
  const a = call(SYS.mmap, 0n, 2n * PAGE, BigInt(PROT_READ | PROT_WRITE), BigInt(MAP_SHARED | MAP_ANONYMOUS), M1, 0n);
  assert.ok(a > 0n);
  assert.equal(call(SYS.mmap, 0n, PAGE, 3n, BigInt(MAP_PRIVATE | MAP_ANONYMOUS), M1, 1n), err(Errno.EINVAL), 'unaligned offset');
  assert.equal(call(SYS.mmap, 0n, PAGE, 3n, BigInt(MAP_PRIVATE), 3n, 0n), err(Errno.EBADF), 'no files in the model');
  assert.equal(call(SYS.mprotect, a, PAGE, BigInt(PROT_READ)), 0n);
  // Every process also has its [stack] VMA above the mmap base.
  const mapped = () => p.mm.vmas().filter((v) => v.end <= 0x7ffff7fff000).length;
  assert.equal(mapped(), 2);
  assert.equal(call(SYS.madvise, a, 2n * PAGE, 4n), 0n);
  const b = call(SYS.mremap, a + PAGE, PAGE, 3n * PAGE, 1n, 0n);
  assert.ok(b > 0n);
  assert.equal(call(SYS.munmap, a, PAGE), 0n);
  assert.equal(call(SYS.munmap, b, 3n * PAGE), 0n);
  assert.equal(mapped(), 0);
});

test('x64_sys_call: getpid, fork, exit and exit_group', () => {
  const { kernel, p, call } = setup();
  assert.equal(call(SYS.getpid), BigInt(p.pid));
  const child = call(SYS.fork);
  assert.ok(child > BigInt(p.pid));
  const c = kernel.processes.get(Number(child))!;
  assert.equal(c.ppid, p.pid);
  assert.equal(syscall(c, SYS.exit_group, [7n]), 0n);
  assert.equal(c.alive, false);
  assert.equal(c.exitCode, 7);
  assert.equal(syscall(c, SYS.getpid, []), BigInt(c.pid));
  assert.equal(syscall(c, SYS.shmget, [0n, 1n, 0n]), err(Errno.ESRCH));
  assert.equal(call(SYS.exit, 0x100000000n), 0n);
  assert.equal(p.exitCode, 0, 'the status is an int');
});

test('prlimit64 / do_prlimit: the new limit is read from and the old one written to guest memory', () => {
  const { p, call } = setup();
  const buf = BigInt(p.mmapPrivate(PAGE));
  const nv = new Uint8Array(16);
  const v = new DataView(nv.buffer);
  v.setBigUint64(0, 4096n, true);
  v.setBigUint64(8, 8192n, true);
  p.write(buf, nv);
  assert.equal(call(SYS.prlimit64, 0n, BigInt(RLIMIT_MEMLOCK), buf, buf + 16n), 0n);
  assert.deepEqual(p.memlock, { cur: 4096n, max: 8192n });
  const old = p.read(buf + 16n, 16n);
  const ov = new DataView(old.buffer, old.byteOffset, 16);
  assert.equal(ov.getBigUint64(0, true), 8n << 20n);
  assert.equal(ov.getBigUint64(8, true), 8n << 20n);
  // cur > max.
  v.setBigUint64(0, 9000n, true);
  p.write(buf, nv);
  assert.equal(call(SYS.prlimit64, 0n, BigInt(RLIMIT_MEMLOCK), buf, 0n), err(Errno.EINVAL));
  assert.equal(call(SYS.prlimit64, 0n, BigInt(RLIMIT_MEMLOCK), 0x1000n, 0n), err(Errno.EFAULT));
  assert.equal(call(SYS.prlimit64, BigInt(p.pid + 100), BigInt(RLIMIT_MEMLOCK), buf, 0n), err(Errno.ESRCH));
  assert.equal(call(SYS.prlimit64, 0n, BigInt(RLIMIT_MEMLOCK), 0n, 0n), 0n, 'neither pointer: nothing to do');
});

test('setgroups / groups_from_user: the gid array is read from the guest', () => {
  const { p, call } = setup();
  const buf = BigInt(p.mmapPrivate(PAGE));
  const g = new Uint8Array(12);
  const v = new DataView(g.buffer);
  [30, 10, 20].forEach((x, i) => v.setUint32(4 * i, x, true));
  p.write(buf, g);
  assert.equal(call(SYS.setgroups, 3n, buf), 0n);
  assert.deepEqual([...p.cred.groups], [10, 20, 30]);
  assert.equal(call(SYS.setgroups, 2000n, buf), err(Errno.EFAULT), 'runs into the unmapped page');
  assert.equal(call(SYS.setgroups, M1, buf), err(Errno.EINVAL));
  assert.equal(call(SYS.setgroups, 0n, 0n), 0n);
  assert.deepEqual([...p.cred.groups], []);
});
