/**
 * How a worker process ends (kernel/exit.c do_exit()): return, throw, exit,
 * kill from outside (also in the middle of a stream of system calls, or
 * asleep on a futex), kernel.exit, kernel.shutdown; the kernel stays
 * consistent and nothing leaks. Garbage from a guest gets errnos.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, runtimeOf } from '../../src/index.js';
import { W } from './guest-util.js';
import { assertConsistent, guest, setup, teardown, until } from './helpers.js';

test('a guest that returns, throws, calls exit or exit_group, or is async: the process exits with its code', async () => {
  const kernel = new Kernel();
  const cases: Array<[string, object]> = [
    ['return', { code: 3 }],
    ['throw', { code: 1, error: 'boom from the guest' }],
    ['exit', { code: 5 }],
    ['sysexit', { code: 6 }],
    ['async', { code: 4 }],
    ['no-main', { code: 0 }],
  ];
  const hs = cases.map(([mode]) => kernel.spawnWorker(guest('lifecycle'), { argv: [mode] }));
  const missing = kernel.spawnWorker(guest('no-default'));
  for (const [i, h] of hs.entries()) {
    assert.deepEqual(await h.exited, cases[i]![1], cases[i]![0]);
    assert.equal(h.process.alive, false);
    assert.equal(h.process.exitCode, (cases[i]![1] as { code: number }).code);
  }
  assert.equal(hs[1]!.error, 'boom from the guest');
  const e = await missing.exited;
  assert.equal(e.code, 1);
  assert.match(e.error ?? '', /no default export/);
  await teardown(kernel);
});

test('kill() ends a computing worker at once; kernel.exit() of its process ends its thread', async () => {
  const kernel = new Kernel();
  const a = kernel.spawnWorker(guest('lifecycle'), { argv: ['spin'] });
  const b = kernel.spawnWorker(guest('lifecycle'), { argv: ['spin'] });
  await new Promise((r) => setTimeout(r, 30));
  a.kill('SIGTERM');
  assert.equal(a.process.alive, false, 'the process exits in the kernel at once');
  assert.deepEqual(await a.exited, { code: 143, signal: 'SIGTERM' });
  kernel.exit(b.process, 9);
  assert.deepEqual(await b.exited, { code: 9 });
  assert.throws(() => a.kill('SIGWHATEVER'), TypeError);
  await teardown(kernel);
});

test('killing workers mid-run (system-call loop, asleep on futexes) leaves a consistent kernel and no leak', async () => {
  const { kernel, host, id, addr, word, rt } = setup();
  const loopers = [1, 2, 3].map((i) => kernel.spawnWorker(guest('lifecycle'), { argv: ['loop', String(id), String(i)] }));
  const fast = kernel.spawnWorker(guest('lifecycle'), { argv: ['sleep-fast', String(id), '4'] });
  const slow = kernel.spawnWorker(guest('lifecycle'), { argv: ['sleep-kernel', String(id), '5'] });
  await until(() => word(W.counter) > 300 && rt.futex.size === 1 && word(W.ready) === 2, 'the loops run and the sleepers sleep');
  const kept = word(W.aux);
  const beforeIds = kernel.initIpcNs.shm.ids.inUse;
  for (const h of [...loopers, fast, slow]) h.kill();
  for (const h of [...loopers, fast, slow]) assert.deepEqual(await h.exited, { code: 137, signal: 'SIGKILL' });
  // Consistent: nattch = VMAs of the live processes (the host's one), shm_tot = the segments' pages.
  assertConsistent(kernel);
  assert.equal(host.shmStat(id).nattch, 1);
  assert.equal(rt.futex.size, 0, 'the kernel-queued wait went with its process');
  assert.equal(Atomics.load(rt.futex.queuedShared, 0), 0);
  // The loopers' IPC_RMID'd segments were destroyed at their exit; the kept ones are orphans.
  assert.equal(beforeIds, 1 + 3 * 2, 'the control segment, and two segments per looper');
  assert.equal(kernel.initIpcNs.shm.ids.inUse, 1 + 3, 'the control segment and three orphans');
  assert.equal(host.shmStat(kept).nattch, 0);
  host.shmdt(addr);
  host.shmRemove(id);
  for (const shp of [...kernel.initIpcNs.shm.ids]) host.shmRemove(shp.id);
  kernel.exit(host);
  assert.equal(kernel.allocator.allocatedPages, 0, 'every page is back');
  assert.equal(kernel.initIpcNs.shm.shmTot, 0n);
  await teardown(kernel);
});

test('kill() ends a worker spinning in FUTEX_WAIT at once', async () => {
  const { kernel, host, id, word } = setup();
  const h = kernel.spawnWorker(guest('lifecycle'), {
    argv: ['spin-futex', String(id), '1'], env: { SYSVSHM_FUTEX_SPIN_NS: '1000000000' },
  });
  await until(() => word(W.ready) === 1, 'the waiter spins');
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  h.kill();
  assert.equal(h.process.alive, false);
  assert.deepEqual(await h.exited, { code: 137, signal: 'SIGKILL' });
  assert.ok(Date.now() - t0 < 900, `the thread ended ${Date.now() - t0} ms after the kill: it finished its 1 s spin`);
  assertConsistent(kernel);
  await teardown(kernel, host);
});

test('with shm_rmid_forced, a killed worker\'s segments are destroyed with it', async () => {
  const { kernel, host, id, word } = setup();
  kernel.proc.write('/proc/sys/kernel/shm_rmid_forced', '1\n');
  const h = kernel.spawnWorker(guest('lifecycle'), { argv: ['loop', String(id), '1'] });
  await until(() => word(W.counter) > 20, 'the loop runs');
  h.kill();
  await h.exited;
  assert.deepEqual([...kernel.initIpcNs.shm.ids].map((s) => s.id), [id], 'only the control segment is left');
  assertConsistent(kernel);
  host.shmRemove(id);
  await teardown(kernel, host);
});

test('kernel.shutdown() ends every worker; shutdownWorkers() waits for their threads', async () => {
  const { kernel, host, id, rt } = setup();
  const hs = [
    kernel.spawnWorker(guest('lifecycle'), { argv: ['spin'] }),
    kernel.spawnWorker(guest('lifecycle'), { argv: ['loop', String(id), '1'] }),
    kernel.spawnWorker(guest('lifecycle'), { argv: ['sleep-kernel', String(id), '2'] }),
  ];
  await until(() => rt.futex.size === 1, 'the sleeper sleeps');
  kernel.shutdown();
  assert.equal(kernel.live.length, 0);
  await kernel.shutdownWorkers();
  for (const h of hs) assert.equal((await h.exited).code, 0);
  assert.equal(rt.size, 0);
  for (const shp of [...kernel.initIpcNs.shm.ids]) kernel.initIpcNs.shm.rmid(shp);
  assert.equal(kernel.allocator.allocatedPages, 0);
});

test('garbage from a guest - arguments and raw channel bytes - gets errnos; the kernel keeps serving', async () => {
  const kernel = new Kernel();
  const h = kernel.spawnWorker(guest('garbage'));
  assert.deepEqual(await h.exited, { code: 0 });
  assert.deepEqual(runtimeOf(kernel).errors, [], 'no kernel code threw');
  // And the kernel still serves others.
  const again = kernel.spawnWorker(guest('lifecycle'), { argv: ['return'] });
  assert.deepEqual(await again.exited, { code: 3 });
  await teardown(kernel);
});
