/**
 * Futexes between worker processes, with Linux's semantics (futex(2);
 * kernel/futex/waitwake.c futex_wait(), futex_wake(); kernel/futex/core.c
 * get_futex_key()): wait/wake across processes attached at different
 * addresses, exactly N of M woken, timeouts, EAGAIN, bitsets, private
 * futexes that do not meet across processes, and the error cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { W } from './guest-util.js';
import { guest, setup, teardown, until } from './helpers.js';

test('FUTEX_WAKE wakes exactly N of M waiters in other processes (attached at other addresses)', async () => {
  const { kernel, host, id, word } = setup();
  const m = 5, n = 2;
  const waiters = Array.from({ length: m }, (_, i) =>
    kernel.spawnWorker(guest('futex'), { name: `waiter${i}`, argv: ['waiter', String(id), String(i + 1)] }));
  const waker = kernel.spawnWorker(guest('futex'), { name: 'waker', argv: ['waker', String(id), '0', String(m), String(n)] });
  for (const h of [waker, ...waiters]) assert.deepEqual(await h.exited, { code: 0 }, `pid ${h.pid}`);
  assert.equal(word(W.woken), m);
  await teardown(kernel, host);
});

test('FUTEX_WAKE_BITSET selects waiters by bitset; a MATCH_ANY waiter matches any bitset', async () => {
  const { kernel, host, id, word, rt } = setup();
  const hs = [
    kernel.spawnWorker(guest('futex'), { argv: ['bitwaiter', String(id), '1', '1'] }),
    kernel.spawnWorker(guest('futex'), { argv: ['bitwaiter', String(id), '2', '2'] }),
    kernel.spawnWorker(guest('futex'), { argv: ['bitwaiter', String(id), '3', 'any'] }),
  ];
  // The two bitset waiters sleep in the kernel's queue.
  await until(() => rt.futex.size === 2, 'two kernel-queued waiters');
  assert.equal(Atomics.load(rt.futex.queuedShared, 0), 2, 'counted for the guests\' wake fast path');
  hs.push(kernel.spawnWorker(guest('futex'), { argv: ['bitwaker', String(id), '4'] }));
  for (const h of hs) assert.deepEqual(await h.exited, { code: 0 }, `pid ${h.pid}`);
  assert.equal(word(W.bits), 0x103);
  assert.equal(rt.futex.size, 0);
  assert.equal(Atomics.load(rt.futex.queuedShared, 0), 0);
  await teardown(kernel, host);
});

test('a plain FUTEX_WAKE from the fast path reaches a kernel-queued (bitset) waiter of another process', async () => {
  const { kernel, host, id, rt } = setup();
  const w = kernel.spawnWorker(guest('futex'), { argv: ['kernelwaiter', String(id), '1'] });
  await until(() => rt.futex.size === 1, 'the kernel-queued waiter');
  const k = kernel.spawnWorker(guest('futex'), { argv: ['kernelwaker', String(id), '2'] });
  assert.deepEqual(await w.exited, { code: 0 });
  assert.deepEqual(await k.exited, { code: 0 });
  await teardown(kernel, host);
});

test('private futexes are keyed by (process, address): they never meet another process\'s waiters', async () => {
  const { kernel, host, id, rt } = setup();
  const w = kernel.spawnWorker(guest('futex'), { argv: ['privwaiter', String(id), '1'] });
  await until(() => rt.futex.size === 1, 'the private waiter');
  const k = kernel.spawnWorker(guest('futex'), { argv: ['privwaker', String(id), '1'] });
  assert.deepEqual(await k.exited, { code: 0 });
  assert.deepEqual(await w.exited, { code: 0 });
  // And a private wake does not meet a shared waiter.
  const sw = kernel.spawnWorker(guest('futex'), { argv: ['sharedwaiter', String(id), '2'] });
  const sk = kernel.spawnWorker(guest('futex'), { argv: ['sharedwaker', String(id), '1'] });
  assert.deepEqual(await sk.exited, { code: 0 });
  assert.deepEqual(await sw.exited, { code: 0 });
  await teardown(kernel, host);
});

test('futex timeouts (ETIMEDOUT), EAGAIN, EINVAL, EFAULT, ENOSYS, private memory', async () => {
  const { kernel, host, id, rt } = setup();
  const h = kernel.spawnWorker(guest('futex'), { argv: ['errors', String(id), '0'] });
  assert.deepEqual(await h.exited, { code: 0 });
  assert.equal(rt.futex.size, 0, 'timed-out waiters left the queue');
  assert.equal(rt.errors.length, 0);
  await teardown(kernel, host);
});

// --- the bounded spin of a shared FUTEX_WAIT before Atomics.wait (src/runtime/futex-spin.ts) ---

/** A guest environment with a fixed spin budget. */
const spinEnv = (ns: number) => ({ SYSVSHM_FUTEX_SPIN_NS: String(ns) });

test('spin: a word that changes during the spin is EAGAIN; a FUTEX_WAKE meanwhile counts nobody', async () => {
  const { kernel, host, id } = setup();
  const w = kernel.spawnWorker(guest('futex'), { argv: ['spinwaiter', String(id), '1'], env: spinEnv(1e9) });
  const k = kernel.spawnWorker(guest('futex'), { argv: ['spinchanger', String(id), '2'] });
  assert.deepEqual(await w.exited, { code: 0 });
  assert.deepEqual(await k.exited, { code: 0 });
  await teardown(kernel, host);
});

test('spin: a wake that arrives after the spin still wakes (and is counted)', async () => {
  const { kernel, host, id } = setup();
  const w = kernel.spawnWorker(guest('futex'), { argv: ['spinsleeper', String(id), '1'], env: spinEnv(20e6) });
  const k = kernel.spawnWorker(guest('futex'), { argv: ['spinwaker', String(id), '2'] });
  assert.deepEqual(await w.exited, { code: 0 });
  assert.deepEqual(await k.exited, { code: 0 });
  await teardown(kernel, host);
});

test('spin: a zero timeout or a past deadline does not spin; no spin outlasts the timeout', async () => {
  const { kernel, host, id } = setup();
  const h = kernel.spawnWorker(guest('futex'), { argv: ['spintimeouts', String(id), '0'], env: spinEnv(1e9) });
  assert.deepEqual(await h.exited, { code: 0 });
  await teardown(kernel, host);
});

test('spin: ping-pong hand-offs with the default spin lose no wake-up (also with spinning off)', async () => {
  for (const env of [undefined, spinEnv(0)]) {
    const { kernel, host, id, word } = setup();
    const rounds = 3000;
    const hs = [1, 2].map((i) => kernel.spawnWorker(guest('futex'), { argv: ['pingpong', String(id), String(i), String(rounds)], env }));
    for (const h of hs) assert.deepEqual(await h.exited, { code: 0 });
    assert.equal(word(W.counter), rounds);
    await teardown(kernel, host);
  }
});
