/**
 * Zero-copy views of shared mappings: validation (permissions, ranges,
 * alignment, private memory), residency (the covered pages count in
 * shm_rss and smaps), no aliasing across segments after a destroy, and the
 * futex mutex and condition variable of examples/ across worker processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, viewOf, constants as C } from '../../src/index.js';
import { PageCache } from '../../src/mm/page-cache.js';
import { runDemo } from '../../examples/worker-mutex.js';
import { W } from './guest-util.js';
import { guest, setup, teardown, until } from './helpers.js';

test('views: SHM_RDONLY write view is EACCES; alignment, range, permission and private-memory errors', async () => {
  const { kernel, host } = setup();
  const id = host.shmget(C.IPC_PRIVATE, 4 * 4096, C.IPC_CREAT | 0o600);
  const a = host.shmat(id);
  host.write(a, 'hello');
  const h = kernel.spawnWorker(guest('views'), { argv: ['checks', String(id)] });
  assert.deepEqual(await h.exited, { code: 0 });
  host.shmdt(a);
  host.shmRemove(id);
  await teardown(kernel, host);
});

test('a view faults its pages in: they are resident in shm_rss and in the process\'s smaps', async () => {
  const { kernel, host, id, word, setWord } = setup();
  const h = kernel.spawnWorker(guest('views'), { argv: ['resident', String(id)] });
  await until(() => word(W.flag) === 1, 'the guest made its view');
  const smaps = kernel.proc.readText(`/proc/${h.pid}/smaps`);
  // The 16 KiB segment's VMA: two of its four pages are resident (and dirty: a writable view).
  const block = smaps.split(/\n(?=[0-9a-f]+-)/).find((b) => /\nSize:\s+16 kB/.test(b) && b.includes('SYSV'));
  assert.ok(block, smaps);
  assert.match(block, /\nRss:\s+8 kB/);
  assert.match(block, /\nPrivate_Dirty:\s+8 kB/);
  setWord(W.flag, 2);
  assert.deepEqual(await h.exited, { code: 0 });
  await teardown(kernel, host);
});

test('payloads larger than the channel\'s data area are chunked, with fault offsets kept', async () => {
  const kernel = new Kernel();
  const h = kernel.spawnWorker(guest('views'), { argv: ['bulk'], dataBytes: 64 * 1024 });
  assert.deepEqual(await h.exited, { code: 0 });
  await teardown(kernel);
});

test('a view never aliases another segment, even after its segment is destroyed', async () => {
  const kernel = new Kernel();
  const h = kernel.spawnWorker(guest('views'), { argv: ['alias'] });
  assert.deepEqual(await h.exited, { code: 0 });
  assert.equal(kernel.initIpcNs.shm.ids.inUse, 0);
  await teardown(kernel);
});

test('PageCache never hands a buffer of one file to another', () => {
  const kernel = new Kernel();
  const a = new PageCache(kernel.allocator, 4);
  a.faultIn(0, true);
  const sa = a.storage(0, 4)!;
  new Uint8Array(sa.buffer).fill(7);
  a.destroy();
  const b = new PageCache(kernel.allocator, 4);
  const sb = b.storage(0, 4)!;
  assert.notEqual(sb.buffer, sa.buffer);
  assert.ok(new Uint8Array(sb.buffer).every((x) => x === 0));
  // A hole punch zeroes in place: the same file keeps its buffer.
  b.faultIn(1, true);
  new Uint8Array(sb.buffer)[4096] = 1;
  b.punchHole(0, 4);
  assert.equal(b.storage(0, 4)!.buffer, sb.buffer);
  assert.equal(new Uint8Array(sb.buffer)[4096], 0);
  b.destroy();
  assert.equal(kernel.allocator.allocatedPages, 0);
});

test('viewOf gives the kernel side the same memory as the guests', async () => {
  const { kernel, host, addr } = setup();
  const v = viewOf(host, addr, 4096);
  assert.ok(v instanceof Uint8Array);
  v.set([1, 2, 3]);
  assert.deepEqual([...host.read(addr, 3)], [1, 2, 3]);
  assert.equal(viewOf(host, addr + 1, 4, { align: 4 }), -22);
  assert.equal(viewOf(host, 0x1000, 4), -14);
  await teardown(kernel, host);
});

test('examples: a futex mutex and condition variables across worker processes', async () => {
  const r = await runDemo({ counters: 3, iterations: 2000, consumers: 2, items: 300 });
  assert.equal(r.counter, r.expectedCounter);
  assert.equal(r.total, r.expectedTotal);
  assert.equal(r.consumed, 300);
  assert.deepEqual(r.exitCodes, [0, 0, 0, 0, 0, 0]);
  assert.equal(r.allocatedPagesAfter, 0);
});
