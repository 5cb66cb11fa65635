/**
 * Worker processes share memory for real: data through a segment, seen
 * through views and through read/write; fork-style inheritance
 * (kernel/fork.c copy_process, dup_mmap) of shared anonymous memory and
 * attachments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { W } from './guest-util.js';
import { assertConsistent, guest, setup, teardown, until } from './helpers.js';

test('two processes exchange data through a segment: views, read/write and Atomics, at different addresses', async () => {
  const { kernel, host, id, addr, word, rt } = setup();
  const rounds = 20000;
  const a = kernel.spawnWorker(guest('exchange'), { name: 'a', argv: ['a', String(id), '0', String(rounds)] });
  const b = kernel.spawnWorker(guest('exchange'), { name: 'b', argv: ['b', String(id), '3', String(rounds)] });
  assert.notEqual(a.pid, b.pid);
  assert.deepEqual(await a.exited, { code: 0 });
  assert.deepEqual(await b.exited, { code: 0 });
  assert.equal(word(W.counter), 2 * rounds, 'Atomics.add from both processes');
  assert.notEqual(word(W.aux), word(W.aux + 4), 'attached at different addresses');
  assert.equal(new TextDecoder().decode(host.read(addr + W.data, 12)), 'hello from a');
  assert.equal(new TextDecoder().decode(host.read(addr + W.data + 300, 12)), 'b wrote this');
  assert.equal(host.shmStat(id).nattch, 1, 'the workers detached at exit');
  assert.equal(rt.errors.length, 0);
  assertConsistent(kernel);
  host.shmRemove(id);
  await teardown(kernel, host);
});

test('spawnWorker with a parent forks it: shared anonymous memory and attachments are inherited', async () => {
  const { kernel, host, id, addr } = setup();
  const anon = host.mmap(0, 8192);
  host.write(anon, 'from the parent');
  host.write(addr, 'sysv');
  const child = kernel.spawnWorker(guest('fork'), { parent: host, name: 'child', argv: ['child', String(anon), String(addr), String(id)] });
  assert.equal(child.process.ppid, host.pid);
  assert.deepEqual(await child.exited, { code: 0 });
  assert.equal(new TextDecoder().decode(host.read(anon + 100, 14)), 'from the child');
  assert.equal(new TextDecoder().decode(host.read(addr + 8, 5)), 'child');
  assert.equal(host.shmStat(id).nattch, 1, 'the child\'s VMA closed at exit');
  assertConsistent(kernel);
  host.shmRemove(id);
  await teardown(kernel, host);
});

test('a worker process forked from a worker process shares its shared memory and meets it on a futex', async () => {
  const { kernel, host } = setup();
  const at = 0x10000000;
  const parent = kernel.spawnWorker(guest('fork'), { name: 'parent', argv: ['parent', String(at)] });
  await until(() => parent.process.mm.lookupVma(at) !== null && parent.process.read(at, 1)[0] === 1, 'the parent\'s mapping');
  const child = kernel.spawnWorker(guest('fork'), { parent: parent.process, argv: ['grandchild', String(at)] });
  assert.equal(child.process.ppid, parent.pid);
  assert.deepEqual(await child.exited, { code: 0 });
  assert.deepEqual(await parent.exited, { code: 0 });
  await teardown(kernel, host);
});
