/**
 * /proc/sysvipc/shm: ipc/shm.c sysvipc_shm_proc_show() with
 * ipc/util.c sysvipc_proc_start()/sysvipc_find_ipc() (spec §9.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/index.js';
import { IPC_CREAT, IPC_PRIVATE, SHM_STAT_ANY } from '../../src/abi/constants.js';
import { makeCredentials } from '../../src/auth/cred.js';

const HEADER = '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid'
  + '      atime      dtime      ctime                   rss                  swap\n';

/**
 * A tiny printf for the conversions of the row's format string:
 * %Nd, %Nu, %Nlu, %Nllu, %No (right-aligned, space-padded).
 */
function printf(fmt: string, args: (number | bigint)[]): string {
  let i = 0;
  return fmt.replace(/%(\d*)(l{0,2})([duo])/g, (_m, w: string, _l: string, conv: string) => {
    const v = args[i++]!;
    const s = conv === 'o' ? v.toString(8) : v.toString(10);
    return s.padStart(Number(w || 0), ' ');
  });
}
const ROW_FORMAT = '%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u %10llu %10llu %10llu %21lu %21lu\n';

test('sysvipc_shm_proc_show: the 64-bit header, and the rows Linux printed (spec example, same pid and clock)', () => {
  const T = 1795350771;
  const kernel = new Kernel({ firstPid: 24251, clock: () => T });
  const p = kernel.spawn();
  const a = p.shmget(0x1234abcd, 10000, IPC_CREAT | 0o640);
  const b = p.shmget(IPC_PRIVATE, 1 << 20, 0o600);
  const c = p.shmget(IPC_PRIVATE, 1, 0o600);
  const d = p.shmget(0x80000000 | 0, 4096, IPC_CREAT | 0o666);
  assert.deepEqual([a, b, c, d], [0, 1, 2, 3]);
  p.shmRemove(c);
  p.fill(p.shmat(a), 10000, 1);
  p.shmat(b);
  p.shmLock(b);
  p.shmRemove(b);
  const text = kernel.proc.readText('/proc/sysvipc/shm', p);
  assert.equal(text,
    HEADER
    + ' 305441741          0   640                 10000 24251 24251      1     0     0     0     0 1795350771          0 1795350771                 12288                     0\n'
    + '         0          1  3600               1048576 24251 24251      1     0     0     0     0 1795350771          0 1795350771                     0                     0\n'
    + '-2147483648          3   666                  4096 24251     0      0     0     0     0     0          0          0 1795350771                     0                     0\n');
});

test('sysvipc_shm_proc_show: every row follows the format string, with the values SHM_STAT_ANY reports', () => {
  let now = 1_700_000_000;
  const kernel = new Kernel({ clock: () => now++ });
  const p = kernel.spawn();
  const q = kernel.spawn({ cred: makeCredentials({ uid: 1000, euid: 1001, gid: 100, egid: 101 }) });
  q.shmget(-1, 123456789, IPC_CREAT | 0o604);
  const big = p.shmget(IPC_PRIVATE, 1n << 40n, 0o10000 | 0o777);
  const at = q.shmat(big, 0, 0o10000);
  q.read(at + 4096 * 7, 1);
  p.shmget(0x7fffffff, 1, IPC_CREAT);
  const lines = kernel.proc.readText('/proc/sysvipc/shm', p).split('\n');
  assert.equal(lines[0] + '\n', HEADER);
  assert.equal(lines.at(-1), '', 'ends with a newline');
  const rows = lines.slice(1, -1);
  assert.equal(rows.length, 3);
  for (let idx = 0; idx < 3; idx++) {
    const b = new Uint8Array(112);
    const id = p.sys.shmctl(idx, SHM_STAT_ANY, b);
    const v = new DataView(b.buffer);
    const shp = p.ipcNs.shm.ids.at(idx)!;
    const expected = printf(ROW_FORMAT, [
      v.getInt32(0, true), id, v.getUint32(20, true), v.getBigUint64(48, true), v.getInt32(80, true), v.getInt32(84, true),
      v.getBigUint64(88, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true), v.getUint32(16, true),
      v.getBigInt64(56, true), v.getBigInt64(64, true), v.getBigInt64(72, true),
      BigInt(shp.file!.cache.residentPages) * 4096n, 0,
    ]);
    assert.equal(rows[idx] + '\n', expected, `row ${idx}`);
  }
  assert.match(rows[0]!, /^ {8}-1 {10}0   604 {13}123456789 /);
  assert.match(rows[0]!, / {2}1001 {3}101  1001 {3}101 /, 'uid gid cuid cgid: the creator\'s effective ids');
  assert.match(rows[1]!, / {17}4096 {21}0$/, 'rss in bytes (one page read)');
});

test('sysvipc_find_ipc: rows come in increasing index order, not creation order', () => {
  const kernel = new Kernel();
  const p = kernel.spawn();
  assert.ok(kernel.proc.write('/proc/sys/kernel/shm_next_id', String((3 << 15) | 10), p).ok);
  const first = p.shmget(0x111, 1, IPC_CREAT | 0o600);
  const second = p.shmget(0x222, 1, IPC_CREAT | 0o600);
  const third = p.shmget(0x333, 1, IPC_CREAT | 0o600);
  assert.deepEqual([first, second, third], [(3 << 15) | 10, 0, 1]);
  const rows = kernel.proc.readText('/proc/sysvipc/shm', p).split('\n').slice(1, -1);
  assert.deepEqual(rows.map((r) => r.trim().split(/\s+/).slice(0, 2)), [
    ['546', '0'], ['819', '1'], ['273', String((3 << 15) | 10)],
  ]);
  // Removing one removes its row; an empty namespace shows only the header.
  p.shmRemove(0);
  p.shmRemove(1);
  p.shmRemove(first);
  assert.equal(kernel.proc.readText('/proc/sysvipc/shm', p), HEADER);
});

test('sysvipc_proc_open: /proc/sysvipc/shm lists the opener\'s IPC namespace, whatever its permissions', () => {
  const kernel = new Kernel();
  const p = kernel.spawn();
  const nobody = kernel.spawn({ cred: makeCredentials({ uid: 65534, gid: 65534 }) });
  p.shmget(0x10, 1, IPC_CREAT | 0o000);
  assert.equal(kernel.proc.readText('/proc/sysvipc/shm', nobody).split('\n').length, 3);
  const q = kernel.fork(p);
  assert.equal(q.sys.unshare(0x08000000), 0);
  assert.equal(kernel.proc.readText('/proc/sysvipc/shm', q), HEADER);
  q.shmget(0x20, 1, IPC_CREAT | 0o600);
  assert.match(kernel.proc.readText('/proc/sysvipc/shm', q), /^ {8}32 /m);
  assert.doesNotMatch(kernel.proc.readText('/proc/sysvipc/shm', p), /^ {8}32 /m);
  // No reader given: a root reader of the initial namespace.
  assert.match(kernel.proc.readText('/proc/sysvipc/shm'), /^ {8}16 /m);
});
