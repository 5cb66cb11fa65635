/**
 * OracleBackend.exec(): a program run as a child of a scenario process, with
 * its credentials and IPC namespace, leaving the agent's address space and
 * every segment's state untouched. Skipped where the oracle cannot run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPC_CREAT, IPC_STAT } from '../../src/abi/constants.js';
import { SHMID64_DS_SIZE } from '../../src/abi/structs.js';
import { OracleBackend } from '../../src/oracle/oracle-backend.js';
import { Twin, ok, oracleSkip } from './helpers.js';

const skipP = oracleSkip();

async function withOracle(fn: (b: OracleBackend, p0: number) => Promise<void>): Promise<void> {
  const b = new OracleBackend({ quiet: true });
  try {
    await fn(b, await b.start());
  } finally {
    await b.close();
  }
}

test('exec: output, exit status, pid, environment', async (t) => {
  const skip = await skipP;
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withOracle(async (b, p0) => {
    const r = await b.exec(0, ['sh', '-c', 'echo out; echo err >&2; echo "$TZ $LC_ALL $PPID"; exit 3']);
    assert.equal(r.stdout, `out\nUTC C ${p0}\n`);
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.status, 3);
    assert.ok(r.pid > p0, 'a pid of the run\'s PID namespace');
    const big = await b.exec(0, ['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" a; head -c 70000 /dev/zero | tr "\\0" b >&2']);
    assert.equal(big.stdout, 'a'.repeat(100000));
    assert.equal(big.stderr, 'b'.repeat(70000));
    assert.equal((await b.exec(0, ['/bin/sh', '-c', 'kill -9 $$'])).status, 128 + 9);
    const missing = await b.exec(0, ['no-such-program-here']);
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /cannot execute no-such-program-here/);
    assert.equal((await b.exec(0, ['true'])).status, 0, 'the agent still answers');
  });
});

test('exec: the child has the process\'s credentials as execve(2) leaves them', async (t) => {
  const skip = await skipP;
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withOracle(async (b) => {
    ok(await b.fork(0, 1));
    ok(await b.creds(1, 1000, 1000, [], 0n));
    const user = await b.exec(1, ['sh', '-c', 'id -u; id -g; grep ^CapEff /proc/self/status']);
    assert.equal(user.stdout, '1000\n1000\nCapEff:\t0000000000000000\n');
    const root = await b.exec(0, ['sh', '-c', 'id -u; grep ^CapEff /proc/self/status']);
    assert.match(root.stdout, /^0\nCapEff:\t0*1ff/);
  });
});

test('exec maps nothing in the agent and leaves every attached segment as it was', async (t) => {
  const skip = await skipP;
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  await withOracle(async (b) => {
    const id = Number(ok(await b.shmget(0, 0x77, 8192n, IPC_CREAT | 0o600)));
    ok(await b.shmat(0, id, 0n, 0));
    const stat = async () => (await b.shmctl(0, id, IPC_STAT, new Uint8Array(SHMID64_DS_SIZE))).buf;
    const mapsBefore = ok(await b.readFile(0, '/proc/self/maps'));
    const statBefore = await stat();
    const r = await b.exec(0, ['ipcs', '-m', '-i', String(id)]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /det_time=Not set/);
    assert.equal(ok(await b.readFile(0, '/proc/self/maps')), mapsBefore);
    // a copied attach closed by execve would have set dtime and lpid
    assert.deepEqual(await stat(), statBefore, 'nattch, atime, dtime, lpid unchanged');
  });
});

test('exec runs in the process\'s IPC namespace (model and Linux agree)', async (t) => {
  const skip = await skipP;
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);
  const twin = new Twin();
  try {
    await twin.start();
    await twin.shmget('p0', 0x1111, 4096n, IPC_CREAT | 0o644);
    await twin.fork('p0', 'p1');
    ok(await twin.both('unshare', (b) => b.unshareIpc(twin.handle('p1'))));
    await twin.shmget('p1', 0x2222, 100n, IPC_CREAT | 0o600);
    const inner = await twin.same('p1', 'ipcs', ['-m']);
    assert.match(inner.stdout, /^0x00002222 /m);
    assert.doesNotMatch(inner.stdout, /0x00001111/);
    assert.match((await twin.same('p0', 'ipcs', ['-m'])).stdout, /^0x00001111 /m);
    await twin.same('p1', 'ipcs', ['-l']);
    await twin.same('p1', 'ipcrm', ['-M', '0x1111']);  // not in this namespace
  } finally {
    await twin.close();
  }
});
