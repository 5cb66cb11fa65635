/**
 * The IPC tools on the model alone, deterministic: a fixed kernel clock,
 * injected user/group names and ctime, and outputs checked against text
 * util-linux 2.38.1 printed for the same state on Linux (times and pids
 * substituted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel } from '../../src/kernel/kernel.js';
import { IPC_CREAT, CAP_FULL_SET, CAP_REFERENCE_ROOT_SET } from '../../src/abi/constants.js';
import { makeCredentials, initialRootCredentials } from '../../src/auth/cred.js';
import { ipcs, ipcrm, ipcmk, ctimeUtc, nameServiceFrom, numericNameService, execCredentials } from '../../src/tools/index.js';
import { ipcsCommand, ipcmkCommand } from '../../src/tools/cli.js';

const T = 1795350771;  // Sun Nov 22 12:32:51 2026 UTC
const names = nameServiceFrom('root:x:0:0::/root:/bin/sh\nsystemd-network:x:998:998::/:/bin/false\n', 'root:x:0:\nsystemd-network:x:998:\n');
const opts = { ctime: ctimeUtc, names };

/** The state of linux-shm-semantics 9.3: three segments, one removed while attached and locked. */
function specState() {
  const kernel = new Kernel({ clock: () => T });
  const p = kernel.spawn({ name: 'p0' });
  const a = p.shmget(0x1234abcd, 10000, IPC_CREAT | 0o640);
  const b = p.shmget(0, 1048576, IPC_CREAT | 0o600);
  p.shmget(0x7ffffffe, 1, IPC_CREAT | 0o600);
  const d = p.shmget(0x80000000 | 0, 4096, IPC_CREAT | 0o666);
  p.shmRemove(2);
  p.fill(p.shmat(a), 5000, 1);
  p.shmat(b);
  p.shmLock(b);
  p.shmRemove(b);
  return { kernel, p, ids: { a, b, d } };
}

test('ipcs -m, -t, -p, -c, -i, -u, --human: the text util-linux printed', () => {
  const { kernel, p } = specState();
  assert.deepEqual(ipcs(kernel, ['-m'], p, opts), {
    status: 0, stderr: '', pid: 2, stdout: '\n------ Shared Memory Segments --------\n' +
      'key        shmid      owner      perms      bytes      nattch     status      \n' +
      '0x1234abcd 0          root       640        10000      1                       \n' +
      '0x00000000 1          root       600        1048576    1          dest   locked\n' +
      '0x80000000 3          root       666        4096       0                       \n\n',
  });
  assert.equal(ipcs(kernel, ['-m', '-t'], p, opts).stdout, '\n------ Shared Memory Attach/Detach/Change Times --------\n' +
    'shmid      owner      attached             detached             changed             \n' +
    '0          root       Nov 22 12:32:51      Not set              Nov 22 12:32:51     \n' +
    '1          root       Nov 22 12:32:51      Not set              Nov 22 12:32:51     \n' +
    '3          root       Not set              Not set              Nov 22 12:32:51     \n\n');
  assert.equal(ipcs(kernel, ['-m', '-p'], p, opts).stdout, '\n------ Shared Memory Creator/Last-op PIDs --------\n' +
    'shmid      owner      cpid       lpid      \n' +
    '0          root       1          1         \n' +
    '1          root       1          1         \n' +
    '3          root       1          0         \n\n');
  assert.equal(ipcs(kernel, ['-m', '-i', '1'], p, opts).stdout, '\nShared memory Segment shmid=1\n' +
    'uid=0\tgid=0\tcuid=0\tcgid=0\nmode=03600\taccess_perms=0600\n' +
    'bytes=1048576\tlpid=1\tcpid=1\tnattch=1\n' +
    'att_time=Sun Nov 22 12:32:51 2026  \ndet_time=Not set                   \n' +
    'change_time=Sun Nov 22 12:32:51 2026  \n\n');
  assert.equal(ipcs(kernel, ['-m', '-u'], p, opts).stdout, '\n------ Shared Memory Status --------\n' +
    'segments allocated 3\npages allocated 260\npages resident  2\npages swapped   0\n' +
    'Swap performance: 0 attempts\t 0 successes\n\n');
  assert.match(ipcs(kernel, ['-m', '--human'], p, opts).stdout,
    /^key {8}shmid {6}owner {6}perms {6}size {7}nattch {5}status {6}\n0x1234abcd 0 {10}root {7}640 {10}9\.8K {5}1 /m);
});

test('owner names: truncated to 10 columns, full in -c, numeric without an entry', () => {
  const { kernel, p, ids } = specState();
  p.shmSet(ids.a, { uid: 998, gid: 998, mode: 0o640 });
  p.shmSet(ids.d, { uid: 4242, gid: 4343, mode: 0o644 });
  const m = ipcs(kernel, ['-m'], p, opts).stdout;
  assert.match(m, /^0x1234abcd 0 {10}systemd-ne 640 /m);
  assert.match(m, /^0x80000000 3 {10}4242 {7}644 /m);
  assert.match(ipcs(kernel, ['-m', '-c'], p, opts).stdout, /^0 {10}640 {8}root {7}root {7}systemd-network systemd-network\n/m);
  assert.match(ipcs(kernel, ['-m'], p, { ...opts, names: numericNameService }).stdout, /^0x1234abcd 0 {10}998 {8}640 /m);
});

test('a tool is a process of its own: it exits, and the reader\'s segments do not move', () => {
  const { kernel, p } = specState();
  const before = p.shmStat(0);
  const live = kernel.live.length;
  const r = ipcs(kernel, ['-a'], p, opts);
  assert.equal(r.status, 0);
  assert.ok(r.pid !== p.pid);
  assert.equal(kernel.processes.get(r.pid)!.alive, false);
  assert.equal(kernel.live.length, live);
  assert.deepEqual(p.shmStat(0), before);
  // without a reader: root of the initial namespaces
  assert.match(ipcs(kernel, ['-m'], undefined, opts).stdout, /^0x1234abcd /m);
});

test('execve credentials: root regains its bounding set, others keep only ambient capabilities', () => {
  const root = execCredentials(makeCredentials({ uid: 0, capEffective: 0n, capBounding: CAP_FULL_SET, keepCaps: true }));
  assert.equal(root.capPermitted, CAP_FULL_SET);
  assert.equal(root.capEffective, CAP_FULL_SET);
  assert.equal(root.keepCaps, false);
  const user = execCredentials(makeCredentials({ uid: 1000, gid: 1000, capEffective: CAP_FULL_SET }));
  assert.equal(user.capPermitted, 0n);
  assert.equal(user.capEffective, 0n);
  const setuidish = execCredentials(makeCredentials({ uid: 1000, euid: 0 }));
  assert.equal(setuidish.capEffective, CAP_REFERENCE_ROOT_SET);
  assert.equal(setuidish.suid, 0);
  const realRoot = execCredentials(makeCredentials({ uid: 0, euid: 1000 }));
  assert.equal(realRoot.capPermitted, CAP_REFERENCE_ROOT_SET);
  assert.equal(realRoot.capEffective, 0n);
  assert.equal(execCredentials(initialRootCredentials()).capEffective, CAP_REFERENCE_ROOT_SET);
});

test('ipcrm and ipcmk change the kernel as their system calls do', () => {
  const { kernel, p } = specState();
  const mk = ipcmk(kernel, ['-M', '1.5K', '-p', '600'], p, { key: () => 0x4b1d });
  assert.deepEqual([mk.stdout, mk.stderr, mk.status], ['Shared memory id: 4\n', '', 0]);  // ids are allocated cyclically
  const st = p.shmStat(4);
  assert.deepEqual([st.key, st.mode, st.segsz, st.cpid], [0x4b1d, 0o600, 1536n, mk.pid]);
  assert.deepEqual(ipcrm(kernel, ['-M', '0x4b1d'], p), { stdout: '', stderr: '', status: 0, pid: mk.pid + 1 });
  assert.throws(() => p.shmStat(4), /EINVAL/);
  const user = kernel.fork(p);
  user.sys.setresuid(1000, 1000, 1000);
  assert.equal(ipcrm(kernel, ['-m', '0'], user).stderr, 'ipcrm: permission denied for id (0)\n');
  // the model has no message queues or semaphores
  assert.equal(ipcmk(kernel, ['-Q'], p).stderr, 'ipcmk: create message queue failed: Function not implemented\n');
  assert.equal(ipcmk(kernel, ['-S', '2'], p).status, 1);
  assert.equal(ipcrm(kernel, ['-q', '0'], p).stderr, 'ipcrm: invalid id (0)\n');
  assert.equal(ipcs(kernel, ['-q', '-i', '0'], p).stderr, 'ipcs: id 0 not found\n');
});

async function capture(fn: () => Promise<number>): Promise<{ out: string; err: string; status: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
  try {
    const status = await fn();
    return { out: out.join(''), err: err.join(''), status };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

test('CLI: a scenario, then the tool as one of its processes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipctools-'));
  try {
    const scn = join(dir, 's.scn');
    writeFileSync(scn, 'shmget 0x1234 6000 IPC_CREAT|0600 -> $id\nfork p1\np1: creds uid=1000 gid=1000\n');
    const r = await capture(() => ipcsCommand(['--scenario', scn, '-m', '-c']));
    assert.equal(r.status, 0);
    assert.match(r.out, /^0 {10}600 {8}root /m);
    const denied = await capture(() => ipcsCommand(['--scenario', scn, '--as', 'p1', '--', '-m', '-i', '0']));
    assert.match(denied.out, /uid=0\tgid=0/);
    const mk = await capture(() => ipcmkCommand(['-M', '1', '-p', 'x']));
    assert.deepEqual(mk, { out: '', err: 'ipcmk: failed to parse mode: Success\n', status: 1 });
    const bad = await capture(() => ipcsCommand(['--scenario', scn, '--as', 'p9']));
    assert.equal(bad.status, 2);
    assert.match(bad.err, /no process named 'p9'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
