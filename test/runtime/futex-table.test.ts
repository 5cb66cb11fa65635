/**
 * The kernel's futex wait queues on their own (kernel/futex/waitwake.c
 * futex_wait(), futex_wake(); kernel/futex/core.c get_futex_key()), driven
 * by in-process processes: keys, bitsets, FIFO order, nr_wake <= 0, the
 * shared counter, timeouts, and a task that exits while queued.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, Errno, constants as C } from '../../src/index.js';
import { FutexTable, PARKED } from '../../src/runtime/futex-table.js';
import {
  FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_PRIVATE, FUTEX_WAKE, FUTEX_WAKE_BITSET,
  FUTEX_WAKE_PRIVATE,
} from '../../src/runtime/futex-abi.js';

function setup() {
  const kernel = new Kernel();
  const p1 = kernel.spawn();
  const p2 = kernel.spawn();
  const id = p1.shmget(C.IPC_PRIVATE, 8192, C.IPC_CREAT | 0o600);
  const a1 = p1.shmat(id);
  p2.mmapPrivate(4096 * 3); // p2 attaches elsewhere
  const a2 = p2.shmat(id);
  assert.notEqual(a1, a2);
  const t = new FutexTable();
  const log: string[] = [];
  const waiter = (name: string) => (ret: number) => { log.push(`${name}:${ret}`); };
  return { kernel, p1, p2, id, a1, a2, t, log, waiter };
}

test('shared keys are (file, offset): a wake through another address meets the waiter; FIFO; at most n', () => {
  const { p1, p2, a1, a2, t, log, waiter } = setup();
  const o1 = {}, o2 = {}, o3 = {};
  assert.equal(t.futex(p1, o1, a1 + 8, FUTEX_WAIT_BITSET, 0, undefined, 1, waiter('w1')), PARKED);
  assert.equal(t.futex(p1, o2, a1 + 8, FUTEX_WAIT_BITSET, 0, undefined, 3, waiter('w2')), PARKED);
  assert.equal(t.futex(p1, o3, a1 + 8, FUTEX_WAIT_BITSET, 0, undefined, 2, waiter('w3')), PARKED);
  assert.equal(t.size, 3);
  assert.equal(Atomics.load(t.queuedShared, 0), 3);
  // Another word of the same page: nobody.
  assert.equal(t.futex(p2, {}, a2 + 12, FUTEX_WAKE, 5, undefined, 0, () => {}), 0);
  // Bitset 0b10: w2 and w3 match; n = 1 wakes the first queued (w2).
  assert.equal(t.futex(p2, {}, a2 + 8, FUTEX_WAKE_BITSET, 1, undefined, 0b10, () => {}), 1);
  assert.deepEqual(log, ['w2:0']);
  // FUTEX_WAKE with nr_wake 0 still wakes one (futex_wake's ++ret >= nr_wake).
  assert.equal(t.futex(p2, {}, a2 + 8, FUTEX_WAKE, 0, undefined, 0, () => {}), 1);
  assert.deepEqual(log, ['w2:0', 'w1:0']);
  assert.equal(t.futex(p2, {}, a2 + 8, FUTEX_WAKE, -5, undefined, 0, () => {}), 1);
  assert.equal(t.size, 0);
  assert.equal(Atomics.load(t.queuedShared, 0), 0);
});

test('private keys are (process, address); shared-on-private-memory keys are distinct from private ones', () => {
  const { p1, p2, a1, a2, t, log, waiter } = setup();
  assert.equal(t.futex(p1, {}, a1, FUTEX_WAIT_PRIVATE, 0, undefined, 0, waiter('priv')), PARKED);
  assert.equal(Atomics.load(t.queuedShared, 0), 0, 'private waiters are not counted');
  assert.equal(t.futex(p2, {}, a2, FUTEX_WAKE_PRIVATE, 1, undefined, 0, () => {}), 0, 'other process');
  assert.equal(t.futex(p2, {}, a1, FUTEX_WAKE_PRIVATE, 1, undefined, 0, () => {}), 0, 'other process, same address');
  assert.equal(t.futex(p1, {}, a1, FUTEX_WAKE, 1, undefined, 0, () => {}), 0, 'a shared wake');
  assert.equal(t.futex(p1, {}, a1, FUTEX_WAKE_PRIVATE, 1, undefined, 0, () => {}), 1, 'its own process');
  assert.deepEqual(log, ['priv:0']);
  // Private anonymous memory with a shared futex: (mm, address) | FUT_OFF_MMSHARED.
  const m = p1.mmapPrivate(4096);
  assert.equal(t.futex(p1, {}, m, FUTEX_WAIT, 0, undefined, 0, waiter('anon')), PARKED);
  assert.equal(Atomics.load(t.queuedShared, 0), 0);
  assert.equal(t.futex(p1, {}, m, FUTEX_WAKE_PRIVATE, 1, undefined, 0, () => {}), 0);
  assert.ok((t.futex(p2, {}, m, FUTEX_WAKE, 1, undefined, 0, () => {}) as number) <= 0, 'the same address in another process');
  assert.equal(t.size, 1);
  assert.equal(t.futex(p1, {}, m, FUTEX_WAKE, 1, undefined, 0, () => {}), 1);
  assert.deepEqual(log, ['priv:0', 'anon:0']);
  p1.write(m, new Uint8Array([1]));
  assert.equal(t.futex(p1, {}, m, FUTEX_WAIT, 0, undefined, 0, () => {}), -Errno.EAGAIN);
});

test('checks: EINVAL (bitset 0, unaligned, negative time), EFAULT, EAGAIN, ENOSYS, garbage', () => {
  const { p1, a1, t } = setup();
  const call = (addr: unknown, op: unknown, val: unknown, timeout?: unknown, val3?: unknown) =>
    t.futex(p1, {}, addr, op, val, timeout, val3, () => assert.fail('must not sleep'));
  assert.equal(call(a1, FUTEX_WAIT_BITSET, 0, undefined, 0), -Errno.EINVAL);
  assert.equal(call(a1, FUTEX_WAKE_BITSET, 1, undefined, 0), -Errno.EINVAL);
  assert.equal(call(a1 + 1, FUTEX_WAIT, 0), -Errno.EINVAL);
  assert.equal(call(a1, FUTEX_WAIT, 0, -1), -Errno.EINVAL);
  assert.equal(call(a1, FUTEX_WAIT, 0, NaN), -Errno.EINVAL);
  assert.equal(call(a1, FUTEX_WAIT, 0, 'x'), -Errno.EFAULT);
  assert.equal(call(0x1000, FUTEX_WAIT, 0), -Errno.EFAULT);
  assert.equal(call(2n ** 64n - 4n, FUTEX_WAKE, 1), -Errno.EFAULT);
  assert.equal(call(a1, FUTEX_WAIT, 1), -Errno.EAGAIN);
  assert.equal(call(a1, FUTEX_WAIT, 0, 0), -Errno.ETIMEDOUT);
  assert.equal(call(a1, 99, 0), -Errno.ENOSYS);
  assert.equal(call(a1, 'op', 0), -Errno.EINVAL);
  assert.equal(call(a1, FUTEX_WAKE, 'x'), 0, 'a garbage count is 0, which wakes at most one');
  assert.equal(t.size, 0);
  assert.equal(Atomics.load(t.queuedShared, 0), 0);
});

test('a queued wait times out (ETIMEDOUT) on its timer; a task that exits leaves the queue', async () => {
  const { p1, a1, t } = setup();
  const deadline = process.hrtime.bigint() + 20_000_000n;
  const got = new Promise<[number, bigint]>((res) => {
    assert.equal(t.futex(p1, {}, a1, FUTEX_WAIT_BITSET, 0, deadline, 1, (r) => res([r, process.hrtime.bigint()])), PARKED);
  });
  const [r, at] = await got;
  assert.equal(r, -Errno.ETIMEDOUT);
  assert.ok(at >= deadline, 'never before the deadline');
  const owner = {};
  assert.equal(t.futex(p1, owner, a1, FUTEX_WAIT_BITSET, 0, process.hrtime.bigint() + 10n ** 12n, 1, () => assert.fail('answered')), PARKED);
  assert.equal(t.futex(p1, owner, a1 + 4, FUTEX_WAIT_PRIVATE, 0, undefined, 0, () => assert.fail('answered')), PARKED);
  assert.equal(t.size, 2);
  t.removeOwner(owner);
  assert.equal(t.size, 0);
  assert.equal(Atomics.load(t.queuedShared, 0), 0);
});
