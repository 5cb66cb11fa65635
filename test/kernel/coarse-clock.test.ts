import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { coarseSeconds } from '../../src/kernel/coarse-clock.js';
import { Kernel, constants as C } from '../../src/index.js';

test('coarse clock: the host seconds, following each new second as xtime does', async () => {
  const before = Math.floor(Date.now() / 1000);
  const t = coarseSeconds();
  assert.ok(t === before || t === before + 1, `${t} vs ${before}`);
  // Wait until well into the next second: the ticker must have moved on.
  const next = before + 1;
  await sleep(next * 1000 - Date.now() + 100);
  assert.equal(coarseSeconds(), Math.floor(Date.now() / 1000));
  assert.ok(coarseSeconds() >= next);
});

test('coarse clock: a kernel without a clock option stamps segments with it', () => {
  const k = new Kernel();
  const p = k.spawn();
  const lo = Math.floor(Date.now() / 1000);
  const id = p.sys.shmget(C.IPC_PRIVATE, 4096, C.IPC_CREAT | 0o600);
  const a = p.sys.shmat(id, 0, 0);
  const shp = k.initIpcNs.shm.ids.obtainObjectIdr(id);
  const hi = Math.floor(Date.now() / 1000);
  assert.ok(a > 0 && typeof shp !== 'number');
  for (const t of [shp.ctime, shp.atime]) assert.ok(t >= lo && t <= hi, `${t} outside [${lo}, ${hi}]`);
  k.shutdown();
});
