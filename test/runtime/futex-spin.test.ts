/**
 * The spin policy of a guest's shared FUTEX_WAIT (src/runtime/futex-spin.ts)
 * on its own: the budget (none with one CPU, the environment's setting),
 * the spin itself, and the adaptive state (growth on near misses, back-off
 * on real ones). The guest-side behaviour is in futex.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import {
  DEFAULT_SPIN_NS, MAX_BACKOFF_SHIFT, MAX_SETTING_NS, MAX_SPIN_NS, NEAR_MISS_FACTOR, spinBudget, SpinState, spinWhileEqual,
} from '../../src/runtime/futex-spin.js';

test('spinBudget: none with one CPU, the default with more, the environment\'s setting fixes it', () => {
  assert.deepEqual(spinBudget(1, undefined), { initialNs: 0, maxNs: 0 });
  assert.deepEqual(spinBudget(2, undefined), { initialNs: DEFAULT_SPIN_NS, maxNs: MAX_SPIN_NS });
  assert.deepEqual(spinBudget(64, ''), { initialNs: DEFAULT_SPIN_NS, maxNs: MAX_SPIN_NS });
  assert.deepEqual(spinBudget(2, '0'), { initialNs: 0, maxNs: 0 }, '0 turns it off');
  assert.deepEqual(spinBudget(1, '3000'), { initialNs: 3000, maxNs: 3000 }, 'a setting wins over the CPU count');
  assert.deepEqual(spinBudget(2, '2500.7'), { initialNs: 2500, maxNs: 2500 });
  assert.deepEqual(spinBudget(2, '1e15'), { initialNs: MAX_SETTING_NS, maxNs: MAX_SETTING_NS }, 'clamped');
  for (const bad of ['-1', 'abc', 'NaN', 'Infinity']) {
    assert.deepEqual(spinBudget(2, bad), { initialNs: DEFAULT_SPIN_NS, maxNs: MAX_SPIN_NS }, `ignored: ${bad}`);
  }
});

test('spinWhileEqual: true at once for a different value, false after the limit for an equal one', () => {
  const a = new Int32Array(new SharedArrayBuffer(8));
  a[1] = 5;
  assert.equal(spinWhileEqual(a, 1, 4, performance.now() + 1000), true);
  assert.equal(spinWhileEqual(a, 1, 5, 0), false, 'a limit already past: one look');
  const t0 = performance.now();
  assert.equal(spinWhileEqual(a, 1, 5, t0 + 5), false);
  assert.ok(performance.now() - t0 >= 5);
});

test('spinWhileEqual sees a store of another thread', async () => {
  const a = new Int32Array(new SharedArrayBuffer(8));
  const w = new Worker(`
    const { workerData } = require('node:worker_threads');
    const a = new Int32Array(workerData);
    Atomics.wait(a, 0, 0, 20);
    Atomics.store(a, 1, 1);`, { eval: true, workerData: a.buffer });
  const t0 = performance.now();
  assert.equal(spinWhileEqual(a, 1, 0, t0 + 10_000), true);
  assert.ok(performance.now() - t0 < 10_000);
  await new Promise((r) => w.once('exit', r));
});

test('SpinState: hits keep spinning, near misses grow the budget up to its maximum, real misses back off', () => {
  const ms = (ns: number) => ns / 1e6;
  const s = new SpinState({ initialNs: 4000, maxNs: 20_000 });
  assert.equal(s.next(), ms(4000));
  s.hit();
  assert.equal(s.next(), ms(4000));
  // Near misses (woken within NEAR_MISS_FACTOR x the maximum): the budget doubles, up to the maximum, no back-off.
  s.miss(ms(12_000));
  assert.equal(s.currentMs, ms(8000));
  assert.equal(s.next(), ms(8000));
  s.miss(ms(NEAR_MISS_FACTOR * 20_000));
  s.miss(ms(30_000));
  assert.equal(s.currentMs, ms(20_000));
  assert.equal(s.skipping, 0);
  // A miss with the full budget is a real one (so are a later wake-up and a timeout): 2^k - 1 waits skip the spin.
  s.miss(ms(30_000));
  assert.equal(s.currentMs, ms(20_000));
  assert.equal(s.skipping, 1);
  const late = new SpinState({ initialNs: 4000, maxNs: 20_000 });
  late.miss(ms(NEAR_MISS_FACTOR * 20_000 + 1));
  assert.equal(late.currentMs, ms(4000), 'a late wake-up does not grow the budget');
  assert.equal(late.skipping, 1);
  assert.equal(s.next(), 0);
  assert.equal(s.next(), ms(20_000));
  s.miss(null);
  assert.equal(s.skipping, 3);
  for (let i = 0; i < 3; i++) assert.equal(s.next(), 0);
  for (let k = 3; k <= MAX_BACKOFF_SHIFT + 2; k++) {
    assert.ok(s.next() > 0);
    s.miss(1000); // a second
    assert.equal(s.skipping, (1 << Math.min(k, MAX_BACKOFF_SHIFT)) - 1, `miss ${k}`);
    while (s.skipping > 0) s.next();
  }
  // A hit resets the count: the next real miss skips one wait.
  assert.ok(s.next() > 0);
  s.hit();
  s.miss(null);
  assert.equal(s.skipping, 1);
  // A fixed budget (the environment's setting) never grows: every miss is a real one.
  const f = new SpinState({ initialNs: 3000, maxNs: 3000 });
  f.miss(ms(5000));
  assert.equal(f.currentMs, ms(3000));
  assert.equal(f.skipping, 1);
  // No budget: never spins.
  assert.equal(new SpinState({ initialNs: 0, maxNs: 0 }).next(), 0);
});
