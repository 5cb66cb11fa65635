/**
 * The Linux oracle backend, driven directly (no interpreter): raw results of
 * real system calls in a fresh IPC namespace. Skipped where the oracle cannot
 * run (no cc, not root).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPC_RMID, IPC_STAT, MAP_ANONYMOUS, MAP_PRIVATE,
  MREMAP_MAYMOVE, PROT_NONE, PROT_READ, PROT_WRITE, SHM_LOCK, SHM_RDONLY,
} from '../../src/abi/constants.js';
import { Errno } from '../../src/abi/errno.js';
import { ensureOracle, OracleUnavailableError } from '../../src/oracle/build.js';
import { OracleBackend } from '../../src/oracle/oracle-backend.js';
import type { SysResult } from '../../src/scenario/backend.js';

const MMAP_BASE = 0x7ffff7fff000n;
const STRUCT = 112;

let skip: string | false = false;
let ipcsBefore = '';

function ipcs(): string {
  try { return execFileSync('ipcs', ['-m'], { encoding: 'utf8' }); } catch { return '(no ipcs)'; }
}

before(async () => {
  try {
    await ensureOracle();
  } catch (e) {
    if (e instanceof OracleUnavailableError) skip = e.message;
    else throw e;
  }
  ipcsBefore = ipcs();
});

after(() => {
  if (!skip) assert.equal(ipcs(), ipcsBefore, 'the machine\'s own IPC namespace is untouched');
});

function ok<T>(r: SysResult<T>): T {
  if (!r.ok) assert.fail(`expected success, got errno ${r.errno}`);
  return r.value;
}

/** struct shmid64_ds (x86_64): mode at 20 (u32), segsz at 48, nattch at 88 (u64). */
function stat(buf: Uint8Array): { mode: number; segsz: bigint; nattch: bigint; cpid: number; lpid: number } {
  const b = Buffer.from(buf);
  return { mode: b.readUInt32LE(20), segsz: b.readBigUInt64LE(48), cpid: b.readInt32LE(80), lpid: b.readInt32LE(84), nattch: b.readBigUInt64LE(88) };
}

/** A process that still exists and is not a zombie (an orphaned zombie waits for the machine's init). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}

async function withOracle(fn: (b: OracleBackend, p0pid: number) => Promise<void>): Promise<OracleBackend> {
  const b = new OracleBackend({ quiet: true });
  try {
    const pid = await b.start();
    await fn(b, pid);
  } finally {
    await b.close();
  }
  for (const pid of b.hostPids()) assert.equal(alive(pid), false, `process ${pid} gone after close()`);
  return b;
}

test('spec section 7: RMID waits for the last detach', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withOracle(async (b, p0pid) => {
    const id = ok(await b.shmget(0, 0x1234, 6000n, IPC_CREAT | 0o644));
    assert.equal(id, 0n);
    const a = ok(await b.shmat(0, Number(id), 0n, 0));
    assert.equal(a, MMAP_BASE - 0x2000n, 'first kernel-chosen mapping lands right below the mmap base');
    assert.deepEqual(await b.write(0, a, Buffer.from('hello')), { data: new Uint8Array(0) });
    const child = ok(await b.fork(0, 1));
    assert.ok(child > 0 && child !== p0pid);
    const r = await b.read(1, a, 5n);
    assert.equal(r.fault, undefined);
    assert.equal(Buffer.from(r.data).toString('latin1'), 'hello');
    assert.equal(ok((await b.shmctl(0, Number(id), IPC_RMID, new Uint8Array(STRUCT))).ret), 0n);
    const st = await b.shmctl(1, Number(id), IPC_STAT, new Uint8Array(STRUCT));
    assert.equal(ok(st.ret), 0n);
    const s = stat(st.buf);
    assert.equal(s.mode, 0o1644);
    assert.equal(s.nattch, 2n);
    assert.equal(s.segsz, 6000n);
    assert.equal(s.cpid, p0pid);
    assert.equal(s.lpid, p0pid);
    assert.equal(Buffer.from(st.buf).readUInt32LE(0), 0, 'key is IPC_PRIVATE after RMID');
    assert.equal(ok(await b.shmdt(0, a)), 0n);
    await b.exit(1);
    const gone = await b.shmctl(0, Number(id), IPC_STAT, new Uint8Array(STRUCT));
    assert.deepEqual(gone.ret, { ok: false, errno: Errno.EINVAL });
    await assert.rejects(b.read(1, a, 1n), /exited/);
  });
});

test('layout: a fresh p0 maps its first page right below the mmap base', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withOracle(async (b) => {
    const m = ok(await b.mmap(0, 0n, 4096n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
    assert.equal(m, 0x7ffff7ffe000n);
    const m2 = ok(await b.mmap(0, 0n, 8192n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS));
    assert.equal(m2, 0x7ffff7ffc000n, 'top-down, no holes');
    const maps = ok(await b.readFile(0, '/proc/self/maps'));
    assert.doesNotMatch(maps, /\[vdso\]|\[vvar/);
    assert.match(maps, /^7ffff7ffc000-7ffff7ffe000 r--p /m);
  });
});

test('faults stop the access and report the offset; the process survives', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withOracle(async (b) => {
    // nothing mapped in the 1 GiB below the mmap base
    assert.deepEqual(await b.read(0, MMAP_BASE - 0x10000000n, 16n),
      { data: new Uint8Array(0), fault: { signal: 'SIGSEGV', offset: 0n } });
    const id = Number(ok(await b.shmget(0, IPC_PRIVATE, 4096n, 0o600)));
    const ro = ok(await b.shmat(0, id, 0n, SHM_RDONLY));
    assert.deepEqual(await b.write(0, ro, Buffer.from('x')),
      { data: new Uint8Array(0), fault: { signal: 'SIGSEGV', offset: 0n } });
    const rw = ok(await b.shmat(0, id, 0n, 0));
    assert.deepEqual(await b.fill(0, rw, 4096n, 0x41), { data: new Uint8Array(0) });
    // a write that runs into a PROT_NONE page stops at the page boundary
    const m = ok(await b.mmap(0, 0n, 8192n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
    ok(await b.mprotect(0, m + 4096n, 4096n, PROT_NONE));
    assert.deepEqual(await b.write(0, m + 4093n, Buffer.from('abcdef')),
      { data: new Uint8Array(0), fault: { signal: 'SIGSEGV', offset: 3n } });
    const back = await b.read(0, m + 4093n, 6n);
    assert.deepEqual(back, { data: new Uint8Array(Buffer.from('abc')), fault: { signal: 'SIGSEGV', offset: 3n } });
    // growing a SysV attach with mremap: the pages past the segment raise SIGBUS
    const grown = ok(await b.mremap(0, rw, 4096n, 8192n, MREMAP_MAYMOVE, 0n));
    const r = await b.read(0, grown, 8192n);
    assert.deepEqual(r.fault, { signal: 'SIGBUS', offset: 4096n });
    assert.equal(r.data.length, 4096);
    assert.ok(r.data.every((x) => x === 0x41));
    assert.deepEqual(await b.fill(0, grown + 4000n, 200n, 1), { data: new Uint8Array(0), fault: { signal: 'SIGBUS', offset: 96n } });
    // still alive and answering
    assert.equal(ok(await b.shmdt(0, ro)), 0n);
  });
});

test('large fill and read stream through the channel', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withOracle(async (b) => {
    const len = 64n << 20n;
    const m = ok(await b.mmap(0, 0n, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
    assert.deepEqual(await b.fill(0, m, len, 0x1ff), { data: new Uint8Array(0) });
    const big = Buffer.alloc(100_000, 7);
    assert.deepEqual(await b.write(0, m + 10n, big), { data: new Uint8Array(0) });
    const r = await b.read(0, m, 4n << 20n);
    assert.equal(r.fault, undefined);
    assert.equal(r.data.length, 4 << 20);
    assert.equal(r.data[0], 0xff);
    assert.equal(r.data[10], 7);
    assert.equal(r.data[100_009], 7);
    assert.equal(r.data[100_010], 0xff);
    assert.equal(r.data[(4 << 20) - 1], 0xff);
    const tail = await b.read(0, m + len - 3n, 10n);
    assert.deepEqual(tail, { data: new Uint8Array([0xff, 0xff, 0xff]), fault: { signal: 'SIGSEGV', offset: 3n } });
    assert.deepEqual(await b.read(0, m, 0n), { data: new Uint8Array(0) });
  });
});

test('creds, files, sysctls and namespaces', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withOracle(async (b) => {
    const id = Number(ok(await b.shmget(0, 0x77, 4096n, IPC_CREAT | 0o600)));
    const a = ok(await b.shmat(0, id, 0n, 0));
    const maps = ok(await b.readFile(0, '/proc/self/maps'));
    assert.match(maps, /^7ffff7ffe000-7ffff7fff000 rw-s 00000000 00:01 \d+ +\/SYSV00000077 \(deleted\)$/m);
    assert.equal(a, 0x7ffff7ffe000n);
    const sysvipc = ok(await b.readFile(0, '/proc/sysvipc/shm'));
    assert.equal(sysvipc.trim().split('\n').length, 2, 'header + our one segment');
    assert.equal(ok(await b.readFile(0, '/proc/sys/kernel/shmmax')).trim(), '18446744073692774399');
    assert.equal(ok(await b.writeFile(0, '/proc/sys/kernel/shmmni', '8\n')), 0n);
    assert.equal(ok(await b.readFile(0, '/proc/sys/kernel/shmmni')).trim(), '8');
    assert.deepEqual(await b.writeFile(0, '/proc/sys/kernel/shmmni', 'junk'), { ok: false, errno: Errno.EINVAL });
    assert.deepEqual(await b.readFile(0, '/nonexistent/file'), { ok: false, errno: Errno.ENOENT });

    // p1: a new IPC namespace, with defaults and no segments; p0 unaffected
    ok(await b.fork(0, 1));
    assert.equal(ok(await b.unshareIpc(1)), 0n);
    assert.equal(ok(await b.readFile(1, '/proc/sys/kernel/shmmni')).trim(), '4096');
    assert.deepEqual(await b.shmget(1, 0x77, 4096n, 0), { ok: false, errno: Errno.ENOENT });
    ok(await b.shmget(1, 0x88, 4096n, IPC_CREAT | IPC_EXCL | 0o600));   // cleaned up by close()

    // p2: an unprivileged user cannot open a 0600 root segment
    ok(await b.fork(0, 2));
    assert.equal(ok(await b.creds(2, 65534, 65534, [], 0n)), 0n);
    assert.deepEqual(await b.shmget(2, 0x77, 0n, 0o400), { ok: false, errno: Errno.EACCES });
    // ipcperms() checks only the permission bits requested in the flags: none here
    assert.deepEqual(await b.shmget(2, 0x77, 0n, 0), { ok: true, value: BigInt(id) });
    assert.deepEqual(await b.writeFile(2, '/proc/sys/kernel/shmmax', '1'), { ok: false, errno: Errno.EACCES });
    assert.deepEqual(await b.unshareIpc(2), { ok: false, errno: Errno.EPERM });
    // the first failing step is reported: setgroups needs CAP_SETGID
    assert.deepEqual(await b.creds(2, 0, 0, [], 0n), { ok: false, errno: Errno.EPERM });
    // raising the hard limit needs CAP_SYS_RESOURCE; lowering it does not
    assert.deepEqual(await b.setrlimitMemlock(2, 1n << 24n, 1n << 24n), { ok: false, errno: Errno.EPERM });
    assert.equal(ok(await b.setrlimitMemlock(2, 4096n, 4096n)), 0n);
  });
});

test('SHM_LOCK charges do not outlive a run', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  // An unprivileged uid (no CAP_IPC_LOCK) locks 6 MiB of its 8 MiB
  // RLIMIT_MEMLOCK; the charge is per uid machine-wide, so the second run can
  // lock again only if the first run's segments were really destroyed.
  for (let run = 0; run < 2; run++) {
    await withOracle(async (b) => {
      assert.equal(ok(await b.creds(0, 4242, 4242, [], 0n)), 0n);
      const id = Number(ok(await b.shmget(0, IPC_PRIVATE, 6n << 20n, 0o600)));
      assert.equal(ok((await b.shmctl(0, id, SHM_LOCK, new Uint8Array(STRUCT))).ret), 0n, `run ${run}`);
      const st = await b.shmctl(0, id, IPC_STAT, new Uint8Array(STRUCT));
      assert.equal(stat(st.buf).mode, 0o2600);
    });
  }
});

test('a dying scenario process is reported; the hub dying takes every agent along', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withOracle(async (b) => {
    ok(await b.fork(0, 1));
    // unmapping its own stack kills p1 (the scenario's result is undefined)
    await assert.rejects(b.munmap(1, 0x7fff00000000n, 0x7ffffffff000n - 0x7fff00000000n), /died/);
    assert.equal(ok(await b.mmap(0, 0n, 4096n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)), 0x7ffff7ffe000n);
  });

  const b = new OracleBackend({ quiet: true });
  await b.start();
  ok(await b.fork(0, 1));
  ok(await b.fork(1, 2));
  await b.exit(1);   // p2 is now an orphan
  const pids = b.hostPids();
  assert.equal(pids.length, 5, 'hub, driver, p0, p1, p2');
  process.kill(pids[0], 'SIGKILL');
  // the driver gets PR_SET_PDEATHSIG, cleans up and exits; the PID namespace goes with it
  for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} gone after the hub's death`);
  await assert.rejects(b.read(0, MMAP_BASE, 1n), /hub exited unexpectedly/);
  await b.close();
});
