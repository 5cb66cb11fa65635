import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IPC_CREAT, IPC_PRIVATE } from '../../src/abi/constants.js';
import { Errno } from '../../src/abi/errno.js';
import { initialRootCredentials } from '../../src/auth/cred.js';
import { initUserNs } from '../../src/auth/userns.js';
import { IpcIds, ipcBuildId } from '../../src/ipc/ids.js';
import { KernIpcPerm } from '../../src/ipc/perm.js';
import { ipcget } from '../../src/ipc/util.js';

class Obj extends KernIpcPerm {}

const root = initialRootCredentials();
const MNI = 32768;

/**
 * A deliberately naive restatement of spec §3.2/§3.5 (linear scans over a
 * Set), used as the oracle for the registry's allocator.
 */
class NaiveAllocator {
  used = new Set<number>();
  seq = 0;
  lastIdx = -1;
  cursor = 0;
  nextId = -1;

  alloc(): { idx: number; seq: number; window: number } {
    const nextId = this.nextId;
    this.nextId = -1;
    if (nextId >= 0) {
      let idx = nextId & 0x7fff;
      while (this.used.has(idx)) idx++;
      this.used.add(idx);
      return { idx, seq: nextId >> 15, window: Infinity };
    }
    const window = Math.min(Math.max(Math.floor((this.used.size * 3) / 2), 64), MNI);
    let idx = -1;
    for (let i = this.cursor; i < window; i++) if (!this.used.has(i)) { idx = i; break; }
    if (idx < 0) for (let i = 0; i < window; i++) if (!this.used.has(i)) { idx = i; break; }
    assert.ok(idx >= 0);
    this.cursor = idx + 1;
    if (idx <= this.lastIdx) {
      this.seq++;
      if (this.seq >= 65535) this.seq = 0;
    }
    this.lastIdx = idx;
    this.used.add(idx);
    return { idx, seq: this.seq, window };
  }
}

type Op =
  | { kind: 'create'; key: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'private'; pick: number }
  | { kind: 'nextId'; seq: number; idx: number }
  | { kind: 'burst'; n: number }
  | { kind: 'drain'; keep: number; seed: number }
  | { kind: 'churn'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('create' as const), key: fc.oneof(fc.constant(IPC_PRIVATE), fc.integer({ min: -3, max: 12 })) }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('private' as const), pick: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('nextId' as const),
      seq: fc.integer({ min: 0, max: 65535 }),
      idx: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 32760, max: 32767 })),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('burst' as const), n: fc.integer({ min: 1, max: 150 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('drain' as const), keep: fc.integer({ min: 0, max: 60 }), seed: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('churn' as const), n: fc.integer({ min: 1, max: 100 }) }), weight: 1 },
);

function checkConsistency(ids: IpcIds<Obj>, live: Map<Obj, number>, dead: Obj[]): void {
  // index table vs. the set of live objects
  const entries = [...ids.entries()];
  assert.equal(ids.inUse, live.size);
  assert.equal(entries.length, live.size);
  for (let i = 1; i < entries.length; i++) assert.ok(entries[i - 1]![0] < entries[i]![0], 'increasing index order');
  for (const [idx, obj] of entries) {
    assert.equal(live.get(obj), idx);
    assert.equal(obj.deleted, false);
    assert.equal(obj.id, ipcBuildId(obj.seq, idx));
    if (idx < MNI) {
      assert.equal(obj.id & 0x7fff, idx);
      assert.equal(obj.id >> 15, obj.seq);
      assert.equal(ids.obtainObjectCheck(obj.id), obj);
      assert.equal(ids.obtainObjectIdx(idx), obj);
    }
  }
  // max_idx
  const maxIdx = entries.length ? entries[entries.length - 1]![0] : -1;
  assert.equal(ids.maxIdxCached, maxIdx);
  assert.equal(ids.getMaxIdx(), live.size === 0 ? -1 : live.size === MNI ? MNI - 1 : maxIdx);
  assert.equal(ids.maxIdx(), Math.max(ids.getMaxIdx(), 0));
  // key table: exactly the live objects with a non-private key
  const keyed = [...live.keys()].filter((o) => o.key !== IPC_PRIVATE);
  assert.equal(ids.keyCount, keyed.length);
  for (const o of keyed) assert.equal(ids.findKey(o.key), o);
  for (const [k, o] of ids.keyEntries()) {
    assert.equal(k, o.key);
    assert.ok(live.has(o));
  }
  // removed objects are gone
  for (const o of dead) {
    assert.equal(o.deleted, true);
    assert.notEqual(ids.obtainObjectCheck(o.id), o);
  }
}

test('registry: random add/remove/key-private/next_id sequences stay consistent and match the naive allocator', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      const ids = new IpcIds<Obj>();
      const naive = new NaiveAllocator();
      const live = new Map<Obj, number>(); // object -> index
      const dead: Obj[] = [];

      const createOne = (key: number): void => {
        const flg = IPC_CREAT | 0o600;
        const existing = key === IPC_PRIVATE ? undefined : ids.findKey(key);
        const inUseBefore = ids.inUse;
        const nextIdBefore = ids.nextId;
        let created: Obj | undefined;
        const id = ipcget(ids, key, flg, {
          getnew() {
            created = new Obj(key, flg & 0o777);
            return ids.addId(created, 4096, root);
          },
        }, initUserNs, root);
        if (existing) {
          assert.equal(created, undefined);
          assert.equal(id, existing.id);
          assert.equal(ids.nextId, nextIdBefore);
          return;
        }
        assert.ok(created);
        if (inUseBefore >= 4096) {
          assert.equal(id, -Errno.ENOSPC);
          assert.equal(ids.nextId, nextIdBefore);
          return;
        }
        const want = naive.alloc();
        assert.equal(id, created.id);
        assert.equal(created.seq, want.seq);
        assert.equal(created.id, ipcBuildId(want.seq, want.idx));
        if (nextIdBefore < 0) {
          // cyclic path: index inside the window computed from in_use before the creation
          const window = Math.min(Math.max(Math.floor((inUseBefore * 3) / 2), 64), MNI);
          assert.equal(want.window, window);
          assert.ok(want.idx < window);
          assert.equal(ids.seq, naive.seq);
          assert.equal(ids.lastIdx, naive.lastIdx);
          assert.equal(ids.cursor, naive.cursor);
        } else {
          assert.ok(want.idx >= (nextIdBefore & 0x7fff));
          assert.equal(created.seq, nextIdBefore >> 15);
        }
        assert.equal(ids.nextId, -1);
        live.set(created, want.idx);
      };

      const removeObj = (victim: Obj): void => {
        ids.rmid(victim);
        naive.used.delete(live.get(victim)!);
        live.delete(victim);
        dead.push(victim);
      };

      for (const op of ops) {
        switch (op.kind) {
          case 'create':
            createOne(op.key);
            break;
          case 'burst':
            for (let i = 0; i < op.n; i++) createOne(IPC_PRIVATE);
            break;
          case 'remove': {
            if (live.size === 0) break;
            const objs = [...live.keys()];
            removeObj(objs[op.pick % objs.length]!);
            break;
          }
          case 'drain': {
            // remove all but `keep` objects, chosen pseudo-randomly
            const objs = [...live.keys()];
            let x = op.seed;
            while (objs.length > op.keep) {
              x = (x * 1103515245 + 12345) % 2147483648;
              const [victim] = objs.splice(x % objs.length, 1);
              removeObj(victim!);
            }
            break;
          }
          case 'churn':
            for (let i = 0; i < op.n; i++) {
              createOne(IPC_PRIVATE);
              const last = [...live.keys()].at(-1);
              if (last) removeObj(last);
            }
            break;
          case 'private': {
            if (live.size === 0) break;
            const objs = [...live.keys()];
            const o = objs[op.pick % objs.length]!;
            ids.setKeyPrivate(o);
            assert.equal(o.key, IPC_PRIVATE);
            break;
          }
          case 'nextId': {
            const v = (op.seq << 15 | op.idx) >>> 0;
            if (v > 0x7fffffff) break;
            ids.nextId = v;
            naive.nextId = v;
            break;
          }
        }
        checkConsistency(ids, live, dead);
      }
    }),
    { numRuns: 200 },
  );
});
