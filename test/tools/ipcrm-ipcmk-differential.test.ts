/**
 * ipcrm and ipcmk on the model against util-linux's on Linux: the same
 * commands on the same state, their stdout/stderr/status compared byte for
 * byte, and their effects compared through ipcs and IPC_STAT. Skipped where
 * the oracle cannot run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPC_CREAT } from '../../src/abi/constants.js';
import { Twin, oracleSkip } from './helpers.js';

const skipP = oracleSkip();

async function withTwin(fn: (t: Twin) => Promise<void>): Promise<void> {
  const twin = new Twin();
  try {
    await twin.start();
    await fn(twin);
  } finally {
    await twin.close();
  }
}

test('ipcrm: ids, keys, permissions, --all, the old syntax; effects seen by ipcs and IPC_STAT', async (t) => {
  const skip = await skipP;
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withTwin(async (twin) => {
    const a = await twin.shmget('p0', 0x1234abcd, 10000n, IPC_CREAT | 0o640);
    const b = await twin.shmget('p0', 0x2222, 4096n, IPC_CREAT | 0o600);
    const c = await twin.shmget('p0', 0x3333, 1n, IPC_CREAT | 0o666);
    const d = await twin.shmget('p0', 0x7fffffff, 4096n, IPC_CREAT | 0o644);
    const e = await twin.shmget('p0', 0x80000000, 4096n, IPC_CREAT | 0o600);
    const f = await twin.shmget('p0', 0, 4096n, IPC_CREAT | 0o600);
    const g = await twin.shmget('p0', 0x4444, 4096n, IPC_CREAT | 0o606);
    await twin.shmat('p0', a);  // removing it leaves it "dest" until the detach
    await twin.fork('p0', 'p1');
    await twin.creds('p1', 1000, 1000);
    await twin.ipcSet('p0', g, 1000, 1000, 0o600);  // p1 owns g

    const steps: [string, string[]][] = [
      // a user without capabilities
      ['p1', ['-m', String(a)]],  // permission denied for id
      ['p1', ['-M', '0x1234abcd']],  // shmget(key, 0, 0) succeeds, IPC_RMID fails: the message names the id
      ['p1', ['-M', '0x2222']],
      ['p1', ['-v', '-a']],  // SHM_STAT skips what it cannot read; c is readable but not removable
      ['p1', ['-m', String(g), '-M', '0x3333']],
      // root
      ['p0', []],
      ['p0', ['-m', 'abc']], ['p0', ['-m', '99']], ['p0', ['-m', '-1']], ['p0', ['-m', '99999999999']], ['p0', ['-m', '']],
      ['p0', ['-M', '0x9999']], ['p0', ['-M', '0']], ['p0', ['-M', '0x00000000']], ['p0', ['-M', '']], ['p0', ['-M', '0x']],
      ['p0', ['-M', '99999999999999999999']], ['p0', ['-M', '4294967296']], ['p0', ['-M', ' 5']], ['p0', ['-M', '0x1p']],
      ['p0', ['-x']], ['p0', ['-m']], ['p0', ['extra']], ['p0', ['-m', String(c), 'extra']], ['p0', ['shm']],
      ['p0', ['-q', '1']], ['p0', ['-Q', '0x5']], ['p0', ['-s', '1']], ['p0', ['-S', '0x5']], ['p0', ['msg', '1']], ['p0', ['sem', '1']],
      ['p0', ['--all=foo']], ['p0', ['-a=shm']], ['p0', ['-V']], ['p0', ['-h']], ['p0', ['--shmem']], ['p0', ['--s', '1']],
      ['p0', ['-m', String(c)]], ['p0', ['-m', String(c)]],  // the second one: invalid id
      ['p0', ['-M', '0x7fffffff']],  // d by key
      ['p0', ['-M', '-2147483648']],  // e, key 0x80000000, written as a negative number
      ['p0', ['-m', String(a)]], ['p0', ['-m', String(a)]],  // a is attached: dest, and still removable
      ['p0', ['-M', '0x1234abcd']],  // its key went private with IPC_RMID
      ['p0', ['shm', String(f), 'abc', '', '77']],
      ['p0', ['-v', '-a', 'shm']],  // removes everything, then complains about "shm"
    ];
    for (const [proc, args] of steps) {
      await twin.same(proc, 'ipcrm', args);
      await twin.same('p0', 'ipcs', ['-m']);
    }
    for (const id of [a, b, c, d, e, f, g]) await twin.statResult('p0', id);
    // -a of a user when every segment is gone, and --all=shm as root
    await twin.shmget('p0', 0x5555, 4096n, IPC_CREAT | 0o644);
    await twin.same('p1', 'ipcrm', ['--all=shm']);
    await twin.same('p0', 'ipcrm', ['-v', '--all=shm']);
    await twin.same('p0', 'ipcs', ['-m']);
    assert.match((await twin.same('p0', 'ipcs', ['-m', '-u'])).stdout, /segments allocated 1\n/, 'only the attached one is left');
  });
});

/** ipcs -m with the (random) key of every segment at or above `from` masked. */
function maskKeys(from: number): (s: string) => string {
  return (s) => s.replace(/^0x[0-9a-f]{8} (\d+)/gm, (m, id: string) => (Number(id) >= from ? `0xKKKKKKKK ${id}` : m));
}

test('ipcmk: sizes, modes and errors; the segments it creates', async (t) => {
  const skip = await skipP;
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withTwin(async (twin) => {
    await twin.fork('p0', 'p1');
    await twin.creds('p1', 1000, 1000);
    const cases: [string, string[]][] = [
      ['p0', ['-M', '4096']], ['p0', ['-M', '1K', '-p', '600']], ['p0', ['-M', '1KiB']], ['p0', ['-M', '1KB']],
      ['p0', ['-M', '0.5M']], ['p0', ['-M', '1.5K']], ['p0', ['-M', '0x10']], ['p0', ['-M', '010']], ['p0', ['-M', '1k']],
      ['p0', ['-M', '1kb']], ['p0', ['-M', '1.05M']], ['p0', ['-M', '2.999K']], ['p0', ['-M', ' 12']], ['p0', ['-M', '1.K']],
      ['p0', ['--shmem=100', '--mode=640']], ['p0', ['-M1G']], ['p0', ['-M', '1', '-p', '1777']], ['p0', ['-M', '1', '-p', '+600']],
      ['p0', ['-M', '1', '-p', '40000000644']], ['p0', ['-M', '10', 'extra']], ['p0', ['-M', '1', '-M', '2']],
      ['p1', ['-M', '100', '-p', '0']], ['p1', ['-M', '1M']],
      ['p0', ['-M', '0']], ['p0', ['-M', '-5']], ['p0', ['-M', 'abc']], ['p0', ['-M', '1X']], ['p0', ['-M', '1Z']],
      ['p0', ['-M', '99999999999999999999']], ['p0', ['-M', '18446744073709551615']], ['p0', ['-M', '18446744073709551616']],
      ['p0', ['-M', '1.']], ['p0', ['-M', '1.5']], ['p0', ['-M', '12 ']], ['p0', ['-M', '1KIB']],
      ['p0', ['-M', '1.123456789012345678901234K']], ['p0', ['-M', '0.0001K']],
      ['p0', ['-M', '1', '-p', '4777']],  // SHM_HUGETLB with no huge pages
      ['p0', ['-M', '1', '-p', '37777777777']], ['p0', ['-M', '1', '-p', '-1']],
      ['p0', ['-M', '1', '-p', '999']], ['p0', ['-M', '1', '-p', '']], ['p0', ['-M', '1', '-p', '0x1']],
      ['p0', ['-M', '1', '-p', '7777777777777777777777777']], ['p0', ['-M', '1', '-p', '0644x']],
      ['p0', []], ['p0', ['-p', '600']], ['p0', ['-x']], ['p0', ['-M']], ['p0', ['-S', 'abc']], ['p0', ['-S', '99999999999']],
      ['p0', ['-h']], ['p0', ['--hel']], ['p0', ['-V']], ['p0', ['-M', '1', '-Q', '-x']],
    ];
    for (const [proc, args] of cases) await twin.same(proc, 'ipcmk', args);
    await twin.same('p0', 'ipcs', ['-m'], maskKeys(0));
    await twin.same('p0', 'ipcs', ['-m', '-p']);  // cpid: the ipcmk processes
    await twin.same('p0', 'ipcs', ['-m', '-c']);
    await twin.same('p0', 'ipcs', ['-m', '-u']);
    await twin.same('p0', 'ipcs', ['-m', '--human'], maskKeys(0));
    // what ipcmk created, removed by ipcrm (as root: all of them)
    await twin.same('p1', 'ipcrm', ['-a']);
    await twin.same('p0', 'ipcrm', ['-a']);
    await twin.same('p0', 'ipcs', ['-m']);
    // kernel.shm_rmid_forced: what ipcmk creates dies with it (exit_shm of an unattached segment)
    await twin.both('shm_rmid_forced=1', (b) => b.writeFile(0, '/proc/sys/kernel/shm_rmid_forced', '1'));
    assert.equal((await twin.same('p0', 'ipcmk', ['-M', '100'])).status, 0);
    assert.doesNotMatch((await twin.same('p0', 'ipcs', ['-m'])).stdout, /^0x/m);
  });
});
