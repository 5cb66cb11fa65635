/**
 * shmget(2): ipc/shm.c newseg() / ksys_shmget() error precedence, the
 * shmem/hugetlb file setup and the commit accounting (spec §2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, Errno } from '../../src/index.js';
import {
  IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPC_RMID, SHM_HUGETLB, SHM_HUGE_SHIFT, SHM_NORESERVE,
} from '../../src/abi/constants.js';
import { makeCredentials } from '../../src/auth/cred.js';

const PAGE = 4096n;
const ULONG_MAX = (1n << 64n) - 1n;
const TIB = 1n << 40n;
/** ~23 GiB of RAM, no swap: a 1 TiB request is larger than RAM + swap. */
const RAM_PAGES = 6_000_000;

function setup(opts: ConstructorParameters<typeof Kernel>[0] = {}) {
  const kernel = new Kernel({ totalRamPages: RAM_PAGES, clock: () => 1000, ...opts });
  const root = kernel.spawn();
  const sysctl = (name: string, value: string | bigint | number) => {
    const r = kernel.proc.write(`/proc/sys/kernel/${name}`, `${value}\n`, root);
    assert.ok(r.ok, `writing ${name}=${value}`);
  };
  return { kernel, root, sysctl, ns: root.ipcNs.shm };
}

const user = (uid: number, gid = uid, groups: number[] = []) => makeCredentials({ uid, gid, groups });

test('newseg: size 0 and size > shmmax are EINVAL (SHMMIN / shm_ctlmax check first)', () => {
  const { root, sysctl } = setup();
  assert.equal(root.sys.shmget(IPC_PRIVATE, 0, 0o600), -Errno.EINVAL);
  sysctl('shmmax', 8192);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 8193, 0o600), -Errno.EINVAL);
  assert.ok(root.sys.shmget(IPC_PRIVATE, 8192, 0o600) >= 0);
  sysctl('shmmax', 0);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 1, 0o600), -Errno.EINVAL);
});

test('newseg: the default SHMMAX itself is not creatable (shmem EINVAL for sizes >= 2^63)', () => {
  const { root } = setup();
  const SHMMAX = ULONG_MAX - (1n << 24n);
  assert.equal(root.sys.shmget(IPC_PRIVATE, SHMMAX, 0o600 | SHM_NORESERVE), -Errno.EINVAL);
  assert.equal(root.sys.shmget(IPC_PRIVATE, SHMMAX + 1n, 0o600 | SHM_NORESERVE), -Errno.EINVAL);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 1n << 63n, 0o600 | SHM_NORESERVE), -Errno.EINVAL);
});

test('newseg: page rounding overflow is ENOSPC once shmmax = ULONG_MAX; ULONG_MAX-4095 is EINVAL', () => {
  const { root, sysctl, ns } = setup();
  sysctl('shmmax', ULONG_MAX);
  assert.equal(ns.ctlmax, ULONG_MAX);
  assert.equal(root.sys.shmget(IPC_PRIVATE, ULONG_MAX, 0o600), -Errno.ENOSPC);
  assert.equal(root.sys.shmget(IPC_PRIVATE, ULONG_MAX - 4094n, 0o600), -Errno.ENOSPC);
  // ceil(size/PAGE)*PAGE == size: no overflow; the shmem layer refuses the negative loff_t.
  assert.equal(root.sys.shmget(IPC_PRIVATE, ULONG_MAX - 4095n, 0o600), -Errno.EINVAL);
  assert.equal(ns.ids.inUse, 0);
  assert.equal(ns.shmTot, 0n);
});

test('newseg: shm_tot + numpages > shmall is ENOSPC, SHM_DEST segments still count', () => {
  const { root, sysctl, ns } = setup();
  sysctl('shmall', 3);
  const a = root.sys.shmget(IPC_PRIVATE, 2n * PAGE, 0o600);
  assert.ok(a >= 0);
  assert.equal(ns.shmTot, 2n);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 2n * PAGE, 0o600), -Errno.ENOSPC);
  // 4097 bytes is two pages for shm_tot.
  assert.equal(root.sys.shmget(IPC_PRIVATE, PAGE + 1n, 0o600), -Errno.ENOSPC);
  // Attached and removed: SHM_DEST, still counted until destroyed.
  const addr = root.sys.shmat(a, 0, 0);
  assert.ok(addr > 0);
  assert.equal(root.sys.shmctl(a, IPC_RMID, null), 0);
  assert.equal(ns.shmTot, 2n);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 2n * PAGE, 0o600), -Errno.ENOSPC);
  assert.equal(root.sys.shmdt(addr), 0);
  assert.equal(ns.shmTot, 0n);
  assert.ok(root.sys.shmget(IPC_PRIVATE, 3n * PAGE, 0o600) >= 0);
  sysctl('shmall', 0);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 1, 0o600), -Errno.ENOSPC);
});

test('shmem_file_setup: 1 TiB without SHM_NORESERVE is ENOMEM (__vm_enough_memory), with it succeeds', () => {
  const { kernel, root, ns } = setup();
  const committed = kernel.allocator.committedPages;
  assert.equal(root.sys.shmget(IPC_PRIVATE, TIB, 0o600), -Errno.ENOMEM);
  assert.equal(kernel.allocator.committedPages, committed, 'a refused request charges nothing');
  const id = root.sys.shmget(IPC_PRIVATE, TIB, 0o600 | SHM_NORESERVE);
  assert.ok(id >= 0);
  assert.equal(ns.shmTot, TIB / PAGE);
  assert.equal(kernel.allocator.committedPages, committed, 'SHM_NORESERVE is not charged');
  const id2 = root.sys.shmget(IPC_PRIVATE, 1n << 62n, 0o600 | SHM_NORESERVE);
  assert.ok(id2 >= 0);
  assert.equal(ns.shmTot, TIB / PAGE + (1n << 50n));
  assert.equal(root.sys.shmget(IPC_PRIVATE, 1n << 63n, 0o600 | SHM_NORESERVE), -Errno.EINVAL);
});

test('shmem_acct_size: a normal segment is charged ceil(size/PAGE) pages, released on destroy', () => {
  const { kernel, root } = setup();
  const before = kernel.allocator.committedPages;
  const id = root.sys.shmget(IPC_PRIVATE, 5000, 0o600);
  assert.equal(kernel.allocator.committedPages, before + 2);
  assert.equal(root.sys.shmctl(id, IPC_RMID, null), 0);
  assert.equal(kernel.allocator.committedPages, before);
});

test('newseg: the shmmni check comes last (ENOMEM/EINVAL beat ENOSPC)', () => {
  const { root, sysctl, ns } = setup();
  sysctl('shmmni', 1);
  assert.ok(root.sys.shmget(IPC_PRIVATE, PAGE, 0o600) >= 0);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 0, 0o600), -Errno.EINVAL);
  assert.equal(root.sys.shmget(IPC_PRIVATE, TIB, 0o600), -Errno.ENOMEM);
  assert.equal(root.sys.shmget(IPC_PRIVATE, PAGE, 0o600 | SHM_HUGETLB | (20 << SHM_HUGE_SHIFT)), -Errno.EINVAL);
  assert.equal(root.sys.shmget(IPC_PRIVATE, PAGE, 0o600 | SHM_HUGETLB), -Errno.ENOMEM);
  assert.equal(root.sys.shmget(IPC_PRIVATE, PAGE, 0o600), -Errno.ENOSPC);
  assert.equal(root.sys.shmget(0x77, PAGE, 0o600 | IPC_CREAT), -Errno.ENOSPC);
  assert.equal(ns.ids.inUse, 1);
  assert.equal(ns.shmTot, 1n);
  sysctl('shmmni', 0);
  assert.equal(root.sys.shmget(IPC_PRIVATE, PAGE, 0o600), -Errno.ENOSPC);
});

test('newseg: a failed creation leaves shm_next_id, shm_tot, the commit charge and the pages alone', () => {
  const { kernel, root, sysctl, ns } = setup();
  sysctl('shmmni', 0);
  sysctl('shm_next_id', 12345);
  const committed = kernel.allocator.committedPages;
  assert.equal(root.sys.shmget(IPC_PRIVATE, 5 * 4096, 0o600), -Errno.ENOSPC);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 0, 0o600), -Errno.EINVAL);
  assert.equal(kernel.allocator.committedPages, committed);
  assert.equal(kernel.allocator.allocatedPages, 0);
  assert.equal(ns.shmTot, 0n);
  assert.equal(kernel.proc.readText('/proc/sys/kernel/shm_next_id', root), '12345\n');
  sysctl('shmmni', 4096);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 1, 0o600), 12345);
  assert.equal(kernel.proc.readText('/proc/sys/kernel/shm_next_id', root), '-1\n');
});

test('hugetlb_file_setup: an unsupported huge page size is EINVAL, before the privilege check', () => {
  const { kernel } = setup();
  const nobody = kernel.spawn({ cred: user(65534) });
  for (const log of [12, 20, 22, 29, 31, 63]) {
    assert.equal(nobody.sys.shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | (log << SHM_HUGE_SHIFT) | 0o600), -Errno.EINVAL, `log ${log}`);
  }
});

test('hugetlb_file_setup: without CAP_IPC_LOCK or hugetlb_shm_group it is EPERM (and charges no memlock)', () => {
  const { kernel } = setup();
  const p = kernel.spawn({ cred: user(1000) });
  assert.equal(p.sys.shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | 0o600), -Errno.EPERM);
  assert.equal(p.sys.shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | SHM_NORESERVE | 0o600), -Errno.EPERM);
  assert.equal(p.sys.shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | (21 << SHM_HUGE_SHIFT) | 0o600), -Errno.EPERM);
  assert.equal(kernel.ucounts.totalMemlock(), 0n);
  assert.equal(p.ipcNs.shm.ids.inUse, 0);
  // CAP_IPC_LOCK alone is enough.
  const locker = kernel.spawn({ cred: makeCredentials({ uid: 1000, gid: 1000, capEffective: 1n << 14n }) });
  assert.ok(locker.sys.shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | SHM_NORESERVE | 0o600) >= 0);
});

test('hugetlb_file_setup: membership of vm.hugetlb_shm_group replaces CAP_IPC_LOCK', () => {
  const { kernel } = setup({ hugetlb: { shmGroup: 2000 } });
  const member = kernel.spawn({ cred: user(1000, 1000, [2000]) });
  const other = kernel.spawn({ cred: user(1001) });
  assert.ok(member.sys.shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | SHM_NORESERVE | 0o600) >= 0);
  assert.equal(other.sys.shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | SHM_NORESERVE | 0o600), -Errno.EPERM);
  // The default group is gid 0: a uid-1000 process whose gid is 0 qualifies.
  const k2 = setup().kernel;
  const gid0 = k2.spawn({ cred: user(1000, 0) });
  assert.ok(gid0.sys.shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | SHM_NORESERVE | 0o600) >= 0);
});

test('hugetlb_file_setup / hugetlb_no_page: with an empty pool the reservation is ENOMEM; SHM_NORESERVE skips it, touching is SIGBUS', () => {
  const { kernel, root, ns } = setup();
  assert.equal(root.sys.shmget(IPC_PRIVATE, 5000, SHM_HUGETLB | 0o600), -Errno.ENOMEM);
  assert.equal(root.sys.shmget(IPC_PRIVATE, 5000, SHM_HUGETLB | (30 << SHM_HUGE_SHIFT) | 0o600), -Errno.ENOMEM);
  const committed = kernel.allocator.committedPages;
  const id = root.sys.shmget(IPC_PRIVATE, 5000, SHM_HUGETLB | SHM_NORESERVE | 0o600);
  assert.ok(id >= 0);
  const st = root.shmStat(id);
  assert.equal(st.segsz, 5000n, 'segsz is the requested size');
  assert.equal(ns.shmTot, 2n, 'shm_tot counts base pages of segsz');
  assert.equal(kernel.allocator.committedPages, committed);
  // The attach maps ALIGN(size, 2 MiB); the first touch of an unavailable huge page is SIGBUS.
  const a = root.shmat(id);
  const v = root.mm.findVma(a)!;
  assert.equal(v.end - v.start, 2 << 20);
  assert.deepEqual(root.sys.read(a, 1).fault, { signal: 'SIGBUS', offset: 0n });
  assert.deepEqual(root.sys.write(a + 4096 * 100, new Uint8Array(1)).fault, { signal: 'SIGBUS', offset: 0n });
  assert.equal(kernel.allocator.allocatedPages, 0);
  // A pool with free pages lets the reservation pass.
  const k2 = new Kernel({ hugetlb: { freePages: () => 1 } }).spawn();
  assert.ok(k2.sys.shmget(IPC_PRIVATE, 2 << 20, SHM_HUGETLB | 0o600) >= 0);
  assert.equal(k2.sys.shmget(IPC_PRIVATE, (2 << 20) + 1, SHM_HUGETLB | 0o600), -Errno.ENOMEM);
});

test('ksys_shmget: existing key: EEXIST, then size > segsz EINVAL, then EACCES', () => {
  const { kernel, root } = setup();
  const id = root.sys.shmget(0x1234, 8192, IPC_CREAT | 0o600);
  assert.ok(id >= 0);
  const nobody = kernel.spawn({ cred: user(65534) });
  assert.equal(nobody.sys.shmget(0x1234, 8193, IPC_CREAT | IPC_EXCL | 0o600), -Errno.EEXIST);
  assert.equal(nobody.sys.shmget(0x1234, 8193, 0o600), -Errno.EINVAL);
  assert.equal(nobody.sys.shmget(0x1234, 8192, 0o400), -Errno.EACCES);
  // 0040 folds into a read request too.
  assert.equal(nobody.sys.shmget(0x1234, 0, 0o040), -Errno.EACCES);
  // Asking for nothing always works; size 0 and sizes up to segsz pass; shmmax is not consulted.
  assert.equal(nobody.sys.shmget(0x1234, 0, 0), id);
  assert.equal(root.sys.shmget(0x1234, 1, 0o600 | SHM_HUGETLB | SHM_NORESERVE), id);
  assert.equal(root.sys.shmget(0x5678, 0, 0o600), -Errno.ENOENT);
});

test('newseg: stored fields (mode & 0777, euid/egid as owner and creator, key, cpid)', () => {
  const { kernel } = setup();
  const p = kernel.spawn({ cred: makeCredentials({ uid: 10, euid: 20, gid: 30, egid: 40 }) });
  const id = p.sys.shmget(-5, 5000, IPC_CREAT | 0o777 | 0x7fff0000);
  assert.ok(id >= 0);
  const shp = p.ipcNs.shm.ids.obtainObjectCheck(id);
  assert.ok(typeof shp !== 'number');
  assert.equal(shp.mode, 0o777);
  assert.equal(shp.key, -5);
  assert.equal(shp.uid, 20);
  assert.equal(shp.cuid, 20);
  assert.equal(shp.gid, 40);
  assert.equal(shp.cgid, 40);
  assert.equal(shp.cpid, p.pid);
  assert.equal(shp.lpid, 0);
  assert.equal(shp.segsz, 5000, 'segsz is a word: a number below 2^53');
  assert.equal(shp.file?.name, 'SYSVfffffffb');
  assert.equal(shp.file?.ino, id);
});

test('shm_more_checks: size > segsz is exact for number and bigint sizes, also beyond 2^53', () => {
  const { root, sysctl } = setup();
  sysctl('shmmax', ULONG_MAX);
  sysctl('shmall', ULONG_MAX);
  // 2^53 + 1 bytes: segsz itself is not a safe integer.
  const big = (1n << 53n) + 1n;
  const id = root.sys.shmget(0x4242, big, IPC_CREAT | SHM_NORESERVE | 0o600);
  assert.ok(id >= 0);
  assert.equal(root.sys.shmget(0x4242, Number.MAX_SAFE_INTEGER, 0o600), id);
  assert.equal(root.sys.shmget(0x4242, 2 ** 53, 0o600), id); // a number, exactly 2^53 < segsz
  assert.equal(root.sys.shmget(0x4242, big, 0o600), id);
  assert.equal(root.sys.shmget(0x4242, big + 1n, 0o600), -Errno.EINVAL);
  assert.equal(root.sys.shmget(0x4242, 2 ** 54, 0o600), -Errno.EINVAL); // not safe: converted as a u64
  assert.equal(root.sys.shmget(0x4242, -1, 0o600), -Errno.EINVAL); // (size_t)-1
  // A small segment: number and bigint sizes agree at the boundary.
  const small = root.sys.shmget(0x4343, 5000, IPC_CREAT | 0o600);
  assert.equal(root.sys.shmget(0x4343, 5000, 0), small);
  assert.equal(root.sys.shmget(0x4343, 5000n, 0), small);
  assert.equal(root.sys.shmget(0x4343, 5001, 0), -Errno.EINVAL);
  assert.equal(root.sys.shmget(0x4343, 5001n, 0), -Errno.EINVAL);
});

test('ksys_shmget: a key given as an unsigned 32-bit value or a bigint is the same key_t', () => {
  const { root } = setup();
  const id = root.sys.shmget(0xfffffffb, 4096, IPC_CREAT | 0o600);
  assert.ok(id >= 0);
  assert.equal(root.sys.shmget(-5, 0, 0), id);
  assert.equal(root.sys.shmget(0x1fffffffb, 0, 0), id);
  assert.equal(root.sys.shmget(0x5b000000, 0, 0), -Errno.ENOENT);
  const id2 = root.sys.shmget(0x5b000000, 4096, IPC_CREAT | 0o600);
  assert.equal(root.sys.shmget(0x5b000000 + 0.5, 0, 0), id2); // truncated like a C int
});

test('newseg: shm_tot and segsz are exact across 2^53 (number words below, bigints above, and back)', () => {
  const { root, sysctl, ns } = setup();
  const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
  const ids: number[] = [];
  const mk = (size: number | bigint) => root.sys.shmget(IPC_PRIVATE, size, 0o600 | SHM_NORESERVE);
  // 7 * 2^50 + (2^50 - 11) pages: shm_tot = 2^53 - 11 = MAX_SAFE - 10.
  for (let i = 0; i < 7; i++) ids.push(mk(1n << 62n));
  ids.push(mk(((1n << 50n) - 11n) * PAGE));
  assert.ok(ids.every((id) => id >= 0));
  assert.equal(ns.shmTot, MAX_SAFE - 10n);
  assert.equal(typeof ns.shmTotWord, 'number');
  const big = ns.ids.obtainObjectCheck(ids[0]!);
  assert.ok(typeof big !== 'number');
  assert.equal(big.segsz, 1n << 62n, 'segsz above 2^53 is a bigint');
  // A number size whose pages take shm_tot past 2^53: exact ENOSPC against shmall...
  sysctl('shmall', (1n << 53n) + 4n);
  assert.equal(mk(20 * 4096), -Errno.ENOSPC, 'shm_tot + 20 = 2^53 + 9 > shmall');
  assert.ok(mk(15 * 4096) >= 0, 'shm_tot + 15 = 2^53 + 4 = shmall');
  assert.equal(ns.shmTot, (1n << 53n) + 4n);
  assert.equal(typeof ns.shmTotWord, 'bigint');
  assert.equal(mk(1), -Errno.ENOSPC);
  // ... and back below 2^53 on destroy.
  assert.equal(root.sys.shmctl(ids[0]!, IPC_RMID, null), 0);
  assert.equal(ns.shmTot, (1n << 53n) + 4n - (1n << 50n));
  assert.equal(typeof ns.shmTotWord, 'number');
  assert.ok(mk(4096) >= 0);
  assert.equal(ns.shmTot, (1n << 53n) + 5n - (1n << 50n));
  // shmall/shmmax above 2^53 compare exactly with number sizes.
  sysctl('shmall', ULONG_MAX);
  sysctl('shmmax', (1n << 53n) + 1n);
  assert.ok(mk(Number.MAX_SAFE_INTEGER) >= 0);
  sysctl('shmmax', MAX_SAFE - 1n);
  assert.equal(mk(Number.MAX_SAFE_INTEGER), -Errno.EINVAL);
  assert.ok(mk(Number.MAX_SAFE_INTEGER - 1) >= 0);
});

test('newseg: the file name is SYSV%08x of the creation key, kept after IPC_RMID of an attached segment', () => {
  const { root, ns } = setup();
  const id = root.sys.shmget(0x1234abcd, 4096, IPC_CREAT | 0o600);
  const shp = ns.ids.obtainObjectCheck(id);
  assert.ok(typeof shp !== 'number' && shp.file);
  const addr = root.sys.shmat(id, 0, 0);
  assert.ok(addr > 0);
  assert.equal(root.sys.shmctl(id, IPC_RMID, null), 0);
  assert.equal(shp.key, IPC_PRIVATE);
  assert.equal(shp.file.name, 'SYSV1234abcd');
  assert.equal(shp.file.path, '/SYSV1234abcd (deleted)');
  assert.equal(root.sys.shmdt(addr), 0);
});
