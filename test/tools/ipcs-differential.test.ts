/**
 * ipcs on the model against util-linux's ipcs on Linux: the same segments
 * (keys 0, negative and positive; sizes 1 to 1 MiB; attached in several
 * processes; removed while attached; SHM_LOCKed; owned by root, by a uid
 * without a passwd entry and by one with a long name; unreadable), then every
 * output format of ipcs on both, byte for byte after normalising times and
 * pids. Skipped where the oracle cannot run (no cc, not root).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IPC_CREAT, IPC_RMID, SHM_LOCK } from '../../src/abi/constants.js';
import { Twin, oracleSkip } from './helpers.js';

let skip: string | false = false;
let twin: Twin;
const ids: Record<string, number> = {};

before(async () => {
  skip = await oracleSkip();
  if (skip) return;
  twin = new Twin();
  await twin.start();
  ids.a = await twin.shmget('p0', 0x1234abcd, 10000n, IPC_CREAT | 0o640);
  ids.b = await twin.shmget('p0', 0, 1048576n, IPC_CREAT | 0o600);
  ids.c = await twin.shmget('p0', -1, 1n, IPC_CREAT | 0o666);
  ids.d = await twin.shmget('p0', 0x7fffffff, 4096n, IPC_CREAT | 0o644);
  ids.e = await twin.shmget('p0', 0x80000000, 5000n, IPC_CREAT);  // mode 0: unreadable
  ids.f = await twin.shmget('p0', 0x5eed, 8192n, IPC_CREAT | 0o640);
  ids.g = await twin.shmget('p0', 0x600d, 3n << 20n, IPC_CREAT | 0o604);
  await twin.ipcSet('p0', ids.d!, 4242, 4343, 0o400);  // no passwd or group entry
  await twin.ipcSet('p0', ids.f!, 998, 998, 0o640);  // systemd-network: longer than the owner column
  await twin.ipcSet('p0', ids.g!, 0, 1000, 0o604);
  const a = await twin.shmat('p0', ids.a!);
  await twin.fill('p0', a, 5000n, 0x5a);  // two resident pages
  await twin.shmat('p0', ids.b!);
  await twin.fork('p0', 'p1');  // inherits both attaches
  const c = await twin.shmat('p1', ids.c!);
  await twin.shmdt('p1', a);  // dtime and lpid of a
  await twin.shmat('p1', ids.g!);
  await twin.shmdt('p1', c);
  assert.deepEqual(await twin.shmctl('p0', ids.b!, SHM_LOCK), { ok: true, value: 0n });
  assert.deepEqual(await twin.shmctl('p0', ids.b!, IPC_RMID), { ok: true, value: 0n });  // dest, still attached
  await twin.fork('p0', 'p2');
  await twin.creds('p2', 1000, 1000);  // cloudsdk, no capabilities
  await twin.fork('p0', 'p3');
  await twin.creds('p3', 4242, 4343);  // no passwd entry
});

after(async () => {
  if (twin) await twin.close();
});

const FORMATS: string[][] = [
  [], ['-a'], ['-m'], ['-m', '-t'], ['-m', '-p'], ['-m', '-c'], ['-m', '-l'], ['-m', '-u'], ['-m', '-b'],
  ['--human'], ['-m', '--human'], ['-m', '-b', '--human'], ['-m', '--human', '-b'],
  ['-l'], ['-u'], ['-p'], ['-t'], ['-c'], ['-b'], ['-l', '--human'], ['-l', '-b'], ['-u', '--human'], ['-u', '-b'],
  ['-q'], ['-s'], ['-q', '-s'], ['-s', '-p'], ['-q', '-t'], ['-s', '-t'], ['-q', '-l', '--human'],
  ['--shmems', '--time'], ['--sh', '--cr'], ['-mt'], ['-m', 'operand', '-p'], ['--all', '--summary'], ['-m', '--', '-p'],
];

test('ipcs formats, as root: identical to util-linux', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  for (const args of FORMATS) await twin.same('p0', 'ipcs', args);
});

test('ipcs -i of every segment, in every unit', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  for (const id of Object.values(ids)) {
    await twin.same('p0', 'ipcs', ['-m', '-i', String(id)]);
    await twin.same('p0', 'ipcs', ['--human', '-m', '-i', String(id)]);
    await twin.same('p0', 'ipcs', ['-b', '--id', String(id), '--shmems']);
  }
  await twin.same('p0', 'ipcs', [`-mi${ids.b}`]);
  await twin.same('p0', 'ipcs', ['-m', '-t', '-i', String(ids.e)]);  // the format is ignored
  await twin.same('p0', 'ipcs', ['-m', '-i', '-1']);  // negative: the first segment, titled shmid=-1
  await twin.same('p0', 'ipcs', ['-m', '-i', ` ${ids.c}`]);
});

test('ipcs as a user without capabilities sees every segment (/proc/sysvipc/shm is not filtered)', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  for (const args of [['-m'], ['-m', '-c'], ['-m', '-u'], ['-m', '-i', String(ids.e)], ['-l']]) {
    await twin.same('p2', 'ipcs', args);
    await twin.same('p3', 'ipcs', args);
  }
  await twin.same('p1', 'ipcs', ['-m', '-p']);
});

test('ipcs errors: messages and exit statuses', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  const cases: string[][] = [
    ['-x'], ['--foo'], ['-i'], ['-m', '-i'], ['-m', '-i', 'abc'], ['-m', '-i', '99'], ['-i', '5'], ['-m', '-q', '-i', '5'],
    ['-a', '-i', '0'], ['-m', '-i', '99999999999'], ['-m', '-i', '0x10'], ['-m', '-i', ''], ['-m', '-i', '12abc'],
    ['--h'], ['--s'], ['--human=1'], ['--id'], ['--id=x', '-m'], ['-q', '-i', '0'], ['-s', '-i', '0'],
    ['-h'], ['--help'], ['-V'], ['--version'], ['-x', '-h'], ['-h', '-x'], ['-m', '-i', '-99999999999999999999'],
  ];
  for (const args of cases) await twin.same('p0', 'ipcs', args);
});

test('running ipcs changes nothing: no attach is copied, no time or pid moves', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  const before1 = await twin.same('p1', 'ipcs', ['-m', '-t']);
  const before2 = await twin.same('p1', 'ipcs', ['-m', '-p']);
  assert.equal((await twin.same('p1', 'ipcs', ['-m', '-t'])).stdout, before1.stdout);
  assert.equal((await twin.same('p1', 'ipcs', ['-m', '-p'])).stdout, before2.stdout);
  assert.match(before1.stdout, /Not set/, 'segments attached by the runner keep dtime unset');
});
