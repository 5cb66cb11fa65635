import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPC_PRIVATE, IPCMNI } from '../../src/abi/constants.js';
import { Errno } from '../../src/abi/errno.js';
import { initialRootCredentials, makeCredentials } from '../../src/auth/cred.js';
import { IpcIds, ipcBuildId } from '../../src/ipc/ids.js';
import { KernIpcPerm } from '../../src/ipc/perm.js';

class Obj extends KernIpcPerm {}

const root = initialRootCredentials();
const SHMMNI = 4096;

function fresh(): IpcIds<Obj> {
  return new IpcIds<Obj>();
}

function create(ids: IpcIds<Obj>, key = IPC_PRIVATE, limit = SHMMNI): Obj {
  const obj = new Obj(key, 0o600);
  const id = ids.addId(obj, limit, root);
  assert.ok(id >= 0, `addId failed with ${id}`);
  assert.equal(id, obj.id);
  return obj;
}

function createId(ids: IpcIds<Obj>, key = IPC_PRIVATE): number {
  return create(ids, key).id;
}

test('fresh namespace: ids 0, 1, 2', () => {
  const ids = fresh();
  assert.deepEqual([createId(ids), createId(ids), createId(ids)], [0, 1, 2]);
  assert.equal(ids.inUse, 3);
  assert.equal(ids.seq, 0);
});

test('create 0,1,2, remove 1: next id is 3 (freed index not reused at once)', () => {
  const ids = fresh();
  const objs = [create(ids), create(ids), create(ids)];
  ids.rmid(objs[1]!);
  assert.equal(createId(ids), 3);
});

test('create/remove loop with 0, 2, 3 alive: 4..63, then 32769, 32772, 32773 (spec 3.2)', () => {
  const ids = fresh();
  const o = [create(ids), create(ids), create(ids)];
  ids.rmid(o[1]!);
  assert.equal(createId(ids), 3); // index 3 stays alive; 0, 2, 3 in use
  const seen: number[] = [];
  for (let i = 0; i < 63; i++) {
    const obj = create(ids);
    seen.push(obj.id);
    ids.rmid(obj);
  }
  const expected = [];
  for (let i = 4; i <= 63; i++) expected.push(i);
  expected.push(32769, 32772, 32773);
  assert.deepEqual(seen, expected);
  assert.equal(ids.seq, 1);
});

test('100 segments created then all removed: the next id is 32768', () => {
  const ids = fresh();
  const objs: Obj[] = [];
  for (let i = 0; i < 100; i++) objs.push(create(ids));
  assert.deepEqual(objs.map((o) => o.id), Array.from({ length: 100 }, (_, i) => i));
  for (const o of objs) ids.rmid(o);
  assert.equal(ids.inUse, 0);
  assert.equal(createId(ids), 32768);
});

test('the window grows with the live count: index >= 64 only with >= 43 alive', () => {
  const ids = fresh();
  const objs: Obj[] = [];
  for (let i = 0; i < 64; i++) objs.push(create(ids));
  // 64 alive: window 96, cursor 64 -> 64
  assert.equal(createId(ids), 64);
  // remove down to 42 alive (indexes 0..41): window max(63, 64) = 64; cursor 65 -> wrap to 42
  const ids2 = fresh();
  const o2: Obj[] = [];
  for (let i = 0; i < 64; i++) o2.push(create(ids2));
  for (let i = 42; i < 64; i++) ids2.rmid(o2[i]!);
  assert.equal(ids2.inUse, 42);
  assert.equal(createId(ids2), ipcBuildId(1, 42));
});

test('next_id: a taken index gives the next free one; seq, last_idx and cursor untouched', () => {
  const ids = fresh();
  ids.nextId = 12345;
  assert.equal(createId(ids), 12345);
  assert.equal(ids.nextId, -1);
  const before = { seq: ids.seq, lastIdx: ids.lastIdx, cursor: ids.cursor };
  ids.nextId = 12345;
  assert.equal(createId(ids), 12346);
  assert.deepEqual({ seq: ids.seq, lastIdx: ids.lastIdx, cursor: ids.cursor }, before);
  // The following normal allocation continues where the cyclic allocator left off.
  assert.equal(createId(ids), 0);
  assert.equal(createId(ids), 1);
  assert.equal(ids.maxIdx(), 12346);
});

test('next_id: seq 65535 is accepted (65535 << 15 | 5) and INT_MAX gives index 32767', () => {
  const ids = fresh();
  ids.nextId = (65535 << 15) | 5;
  const a = create(ids);
  assert.equal(a.id, 2147450885);
  assert.equal(a.seq, 65535);
  ids.nextId = 0x7fffffff;
  const b = create(ids);
  assert.equal(b.id, 0x7fffffff);
  assert.equal(b.seq, 65535);
  assert.equal(ids.obtainObjectCheck(0x7fffffff), b);
  assert.equal(ids.seq, 0);
});

test('next_id is not consumed by a creation that fails before index allocation', () => {
  const ids = fresh();
  create(ids);
  ids.nextId = 777;
  const obj = new Obj(IPC_PRIVATE, 0o600);
  assert.equal(ids.addId(obj, 1, root), -Errno.ENOSPC); // in_use 1 >= limit 1
  assert.equal(ids.nextId, 777);
  assert.equal(obj.id, -1);
  assert.equal(createId(ids), 777);
  assert.equal(ids.nextId, -1);
});

test('next_id whose index 32767 is taken: idr_alloc has no upper bound, index 32768', () => {
  // [S] ipc_idr_alloc() calls idr_alloc(..., start = next_id & 0x7fff, end = 0).
  const ids = fresh();
  ids.nextId = 32767;
  create(ids);
  ids.nextId = 32767;
  const q = create(ids);
  assert.equal(q.id, 32768); // (0 << 15) + 32768
  assert.equal(ids.at(32768), q);
  assert.equal(ids.obtainObjectCheck(32768), -Errno.EINVAL); // looks at index 0, which is empty
  assert.equal(ids.getMaxIdx(), 32768);
  ids.rmid(q);
  assert.equal(ids.getMaxIdx(), 32767);
});

test('ENOSPC when in_use >= min(limit, IPCMNI); the object is left untouched', () => {
  const ids = fresh();
  const obj = new Obj(42, 0o600);
  assert.equal(ids.addId(obj, 0, root), -Errno.ENOSPC);
  assert.equal(obj.id, -1);
  assert.equal(ids.findKey(42), undefined);
  assert.equal(ids.inUse, 0);
});

test('a full table: IPCMNI objects, max index IPCMNI-1, limit capped at IPCMNI', () => {
  const ids = fresh();
  for (let i = 0; i < IPCMNI; i++) {
    const obj = new Obj(IPC_PRIVATE, 0);
    assert.ok(ids.addId(obj, 1 << 24, root) >= 0);
  }
  assert.equal(ids.inUse, IPCMNI);
  assert.equal(ids.maxIdx(), IPCMNI - 1);
  assert.equal(ids.getMaxIdx(), IPCMNI - 1);
  assert.equal(ids.addId(new Obj(IPC_PRIVATE, 0), 1 << 24, root), -Errno.ENOSPC);
  // Free one in the middle: it is the only free index, found by the wrapped search.
  const victim = ids.obtainObjectIdx(20000);
  assert.ok(typeof victim !== 'number');
  ids.rmid(victim);
  const again = create(ids, IPC_PRIVATE, 1 << 24);
  assert.equal(again.id & 0x7fff, 20000);
});

test('max_idx: 5,6,7 live -> 7; remove 7 -> 6; remove all -> 0', () => {
  const ids = fresh();
  const objs: Obj[] = [];
  for (let i = 0; i < 8; i++) objs.push(create(ids));
  for (let i = 0; i < 5; i++) ids.rmid(objs[i]!);
  assert.equal(ids.maxIdx(), 7);
  ids.rmid(objs[7]!);
  assert.equal(ids.maxIdx(), 6);
  assert.equal(ids.maxIdxCached, 6);
  ids.rmid(objs[5]!);
  ids.rmid(objs[6]!);
  assert.equal(ids.maxIdx(), 0);
  assert.equal(ids.getMaxIdx(), -1);
  assert.equal(ids.maxIdxCached, -1);
});

test('max_idx is recomputed only when the highest index goes', () => {
  const ids = fresh();
  const objs: Obj[] = [];
  for (let i = 0; i < 40; i++) objs.push(create(ids));
  ids.rmid(objs[3]!);
  assert.equal(ids.maxIdx(), 39);
  for (let i = 39; i >= 10; i--) ids.rmid(objs[i]!);
  assert.equal(ids.maxIdx(), 9);
  ids.rmid(objs[0]!);
  assert.equal(ids.maxIdx(), 9);
});

test('obtainObjectCheck: stale ids and garbage high bits are EINVAL; obtainObjectIdx ignores seq', () => {
  const ids = fresh();
  const objs: Obj[] = [];
  for (let i = 0; i < 64; i++) objs.push(create(ids));
  const a = objs[0]!;
  assert.equal(ids.obtainObjectCheck(0), a);
  assert.equal(ids.obtainObjectCheck(0 | (5 << 15)), -Errno.EINVAL);
  assert.equal(ids.obtainObjectIdx(0 + 5 * 32768), a);
  assert.equal(ids.obtainObjectCheck(9999), -Errno.EINVAL);
  assert.equal(ids.obtainObjectIdx(9999), -Errno.EINVAL);
  ids.rmid(a);
  assert.equal(a.deleted, true);
  for (let i = 1; i < 64; i++) ids.rmid(objs[i]!);
  // The next allocation wraps to index 0 with seq 1: the old id 0 stays invalid.
  const b = create(ids);
  assert.equal(b.id, 32768);
  assert.equal(ids.obtainObjectCheck(0), -Errno.EINVAL);
  assert.equal(ids.obtainObjectCheck(32768), b);
});

test('seq wraps at 65535 back to 0', () => {
  const ids = fresh();
  let last = -1;
  // Every 64 create/remove pairs wrap the cursor once and advance seq.
  for (let wrap = 0; wrap < 65535; wrap++) {
    for (let i = 0; i < 64; i++) {
      const o = new Obj(IPC_PRIVATE, 0);
      ids.addId(o, SHMMNI, root);
      last = o.id;
      ids.rmid(o);
    }
  }
  assert.equal(ids.seq, 65534);
  assert.equal(last, ipcBuildId(65534, 63));
  const o = create(ids);
  assert.equal(ids.seq, 0);
  assert.equal(o.id, 0);
});

test('ipcmni_extend layout: 24 index bits, 7 seq bits, minimum cycle 4096', () => {
  const ids = new IpcIds<Obj>({ extend: true });
  assert.equal(ids.ipcMni, 1 << 24);
  assert.equal(ids.seqMax, 127);
  const objs: Obj[] = [];
  for (let i = 0; i < 4096; i++) {
    const o = create(ids);
    objs.push(o);
    ids.rmid(o);
  }
  assert.equal(objs[4095]!.id, 4095);
  assert.equal(createId(ids), 1 << 24);
});

test('key table: keys are found, private keys are never in it, setKeyPrivate and rmid remove', () => {
  const ids = fresh();
  const a = create(ids, 0x1234);
  const p = create(ids, IPC_PRIVATE);
  const b = create(ids, -5);
  assert.equal(ids.findKey(0x1234), a);
  assert.equal(ids.findKey(-5), b);
  assert.equal(ids.findKey(0xfffffffb), b); // key_t is signed 32-bit
  assert.equal(ids.findKey(IPC_PRIVATE), undefined);
  assert.equal(ids.keyCount, 2);
  ids.setKeyPrivate(a);
  assert.equal(a.key, IPC_PRIVATE);
  assert.equal(ids.findKey(0x1234), undefined);
  assert.equal(ids.obtainObjectCheck(a.id), a); // still registered under its id
  // The key can be used again while the old object lives on.
  const a2 = create(ids, 0x1234);
  assert.equal(ids.findKey(0x1234), a2);
  ids.rmid(b);
  assert.equal(ids.findKey(-5), undefined);
  ids.rmid(a);
  ids.rmid(p);
  assert.equal(ids.keyCount, 1);
  assert.equal(ids.inUse, 1);
});

test('addId sets owner and creator to the caller euid/egid', () => {
  const ids = fresh();
  const cred = makeCredentials({ uid: 1000, euid: 1001, gid: 100, egid: 101, fsgid: 102 });
  const o = new Obj(7, 0o644);
  ids.addId(o, SHMMNI, cred);
  assert.deepEqual([o.uid, o.cuid, o.gid, o.cgid], [1001, 1001, 101, 101]);
  assert.equal(o.deleted, false);
});

test('iteration is in increasing index order, not creation order', () => {
  const ids = fresh();
  const objs: Obj[] = [];
  for (let i = 0; i < 10; i++) objs.push(create(ids));
  ids.rmid(objs[2]!);
  ids.nextId = 1000;
  const hi = create(ids);
  ids.nextId = 2;
  const low = create(ids);
  assert.equal(low.id, 2);
  const order = [...ids].map((o) => o.id & 0x7fff);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1000]);
  assert.equal([...ids].at(-1), hi);
  assert.deepEqual(ids.getNext(10)?.[0], 1000);
  assert.equal(ids.getNext(1001), undefined);
});

test('freeAll visits every object in index order', () => {
  const ids = fresh();
  for (let i = 0; i < 5; i++) create(ids, i + 1);
  const seen: number[] = [];
  ids.freeAll((o) => {
    seen.push(o.id);
    ids.rmid(o);
  });
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.equal(ids.inUse, 0);
  assert.equal(ids.keyCount, 0);
});

test('nextId setter rejects values the kernel could never hold', () => {
  const ids = fresh();
  assert.throws(() => { ids.nextId = -2; });
  assert.throws(() => { ids.nextId = 0x80000000; });
  ids.nextId = -1;
  assert.equal(ids.nextId, -1);
});

test('ipcBuildId: (seq << shift) + idx as a C int, for every seq and the extreme indexes', () => {
  for (const shift of [15, 24]) {
    const seqMax = 0x7fffffff >> shift;
    for (let seq = 0; seq <= seqMax; seq += seq < 300 ? 1 : 97) {
      for (const idx of [0, 1, (1 << shift) - 1, 1 << shift, 0x7fffffff]) {
        const want = Number(BigInt.asIntN(32, (BigInt(seq) << BigInt(shift)) + BigInt(idx)));
        assert.equal(ipcBuildId(seq, idx, shift), want, `seq ${seq} idx ${idx} shift ${shift}`);
      }
    }
  }
});
