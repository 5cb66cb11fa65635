/**
 * task->sysvshm.shm_clist (ShmClist): the creator's list of segments,
 * linked through the segments, answering as the Set it replaced did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/index.js';
import { IPC_PRIVATE, IPC_RMID } from '../../src/abi/constants.js';
import { ShmClist, type Segment } from '../../src/shm/segment.js';

function segments(n: number) {
  const kernel = new Kernel({ clock: () => 1000 });
  const p = kernel.spawn();
  const ids = Array.from({ length: n }, () => p.sys.shmget(IPC_PRIVATE, 4096, 0o600));
  const shps = ids.map((id) => p.ipcNs.shm.ids.obtainObjectCheck(id) as Segment);
  return { kernel, p, ids, shps };
}

test('shm_clist: creation order, has/size, delete from the middle and both ends', () => {
  const { p, ids, shps } = segments(5);
  assert.deepEqual([...p.shmCreated], shps);
  assert.equal(p.shmCreated.size, 5);
  for (const s of shps) assert.ok(p.shmCreated.has(s));
  assert.equal(p.sys.shmctl(ids[2]!, IPC_RMID, null), 0);
  assert.equal(p.sys.shmctl(ids[0]!, IPC_RMID, null), 0);
  assert.equal(p.sys.shmctl(ids[4]!, IPC_RMID, null), 0);
  assert.deepEqual([...p.shmCreated], [shps[1], shps[3]]);
  assert.equal(p.shmCreated.size, 2);
  assert.ok(!p.shmCreated.has(shps[0]!));
  assert.equal(shps[0]!.creator, null);
  assert.equal(p.shmCreated.delete(shps[0]!), false, 'not on the list');
  assert.equal(p.sys.shmctl(ids[1]!, IPC_RMID, null), 0);
  assert.equal(p.sys.shmctl(ids[3]!, IPC_RMID, null), 0);
  assert.deepEqual([...p.shmCreated], []);
  assert.equal(p.shmCreated.size, 0);
  // The emptied list takes new segments again.
  const id = p.sys.shmget(IPC_PRIVATE, 4096, 0o600);
  assert.deepEqual([...p.shmCreated].map((s) => s.id), [id]);
});

test('shm_clist: a segment is on one list at most; add twice is a no-op; deleting while iterating', () => {
  const { p, shps } = segments(3);
  const other = new ShmClist();
  assert.throws(() => other.add(shps[0]!), /already on a creator's list/);
  p.shmCreated.add(shps[0]!);
  assert.equal(p.shmCreated.size, 3);
  const seen: Segment[] = [];
  for (const s of p.shmCreated) {
    seen.push(s);
    p.shmCreated.delete(s);
  }
  assert.deepEqual(seen, shps);
  assert.equal(p.shmCreated.size, 0);
  other.add(shps[1]!);
  assert.ok(other.has(shps[1]!) && !p.shmCreated.has(shps[1]!));
});
