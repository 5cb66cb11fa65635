/**
 * The x86_64 shmctl structures: the typed-array encoders (in place, through
 * the scratch area, through fresh arrays) against a plain DataView
 * reference of the same layouts, for values at the edges of their types.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  SHMID64_DS_SIZE, SHMINFO64_SIZE, SHM_INFO_SIZE, decodeShmidDs, decodeShmInfo64, decodeShmInfoDs, encodeShmidDs,
  encodeShmidDsTo, encodeShmInfo64, encodeShmInfo64To, encodeShmInfoDs, encodeShmInfoDsTo,
  type ShmidDsFields, type ShmInfo64Fields, type ShmInfoDsFields, type U64Field,
} from '../../src/abi/structs.js';

const U64_MAX = (1n << 64n) - 1n;

/** The layouts written field by field with a DataView: an independent reference. */
function refShmidDs(s: ShmidDsFields): Uint8Array {
  const b = new Uint8Array(SHMID64_DS_SIZE);
  const v = new DataView(b.buffer);
  v.setInt32(0, s.key, true);
  v.setUint32(4, s.uid >>> 0, true);
  v.setUint32(8, s.gid >>> 0, true);
  v.setUint32(12, s.cuid >>> 0, true);
  v.setUint32(16, s.cgid >>> 0, true);
  v.setUint32(20, s.mode >>> 0, true);
  v.setUint16(24, s.seq & 0xffff, true);
  v.setBigUint64(48, BigInt.asUintN(64, BigInt(s.segsz)), true);
  v.setBigInt64(56, BigInt(s.atime), true);
  v.setBigInt64(64, BigInt(s.dtime), true);
  v.setBigInt64(72, BigInt(s.ctime), true);
  v.setInt32(80, s.cpid, true);
  v.setInt32(84, s.lpid, true);
  v.setBigUint64(88, BigInt(s.nattch), true);
  return b;
}

function refShmInfo64(s: ShmInfo64Fields): Uint8Array {
  const b = new Uint8Array(SHMINFO64_SIZE);
  const v = new DataView(b.buffer);
  [s.shmmax, s.shmmin, s.shmmni, s.shmseg, s.shmall].forEach((x, i) => v.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(x)), true));
  return b;
}

function refShmInfoDs(s: ShmInfoDsFields): Uint8Array {
  const b = new Uint8Array(SHM_INFO_SIZE);
  const v = new DataView(b.buffer);
  v.setInt32(0, s.usedIds, true);
  [s.shmTot, s.shmRss, s.shmSwp, s.swapAttempts, s.swapSuccesses]
    .forEach((x, i) => v.setBigUint64(8 + i * 8, BigInt.asUintN(64, BigInt(x)), true));
  return b;
}

const u32 = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 65534, 0x7fffffff, 0x80000000, 0xfffffffe));
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
/** A u64 as the kernel hands it to an encoder: a safe integer as a number, else a bigint. */
const u64Field: fc.Arbitrary<U64Field> = fc.oneof(
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom<U64Field>(0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, 2n ** 53n, 2n ** 63n, U64_MAX),
  fc.bigInt({ min: 0n, max: U64_MAX }),
);
const time = fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.constantFrom(0, -1, 1_700_000_000, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER));
const shmidDs: fc.Arbitrary<ShmidDsFields> = fc.record({
  key: i32, uid: u32, gid: u32, cuid: u32, cgid: u32, mode: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.integer({ min: 0, max: 0xffff }), segsz: u64Field, atime: time, dtime: time, ctime: time,
  cpid: i32, lpid: i32, nattch: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
});

/** `size` bytes of 0xa5 around a window at byte offset `at`, to see what an encoder touches. */
function dirty(total: number): Uint8Array {
  return new Uint8Array(total).fill(0xa5);
}

test('encodeShmidDs: every field at its x86_64 offset, 64-bit values exact beyond 2^53 (number or bigint)', () => {
  fc.assert(fc.property(shmidDs, (s) => {
    assert.deepEqual(encodeShmidDs(s), refShmidDs(s));
  }), { numRuns: 500 });
});

test('encodeShmidDs / decodeShmidDs round trip (the decoder reads bigints)', () => {
  fc.assert(fc.property(shmidDs, (s) => {
    const d = decodeShmidDs(encodeShmidDs(s));
    assert.equal(d.key, s.key);
    assert.equal(d.uid, s.uid >>> 0);
    assert.equal(d.cgid, s.cgid >>> 0);
    assert.equal(d.segsz, BigInt(s.segsz));
    assert.equal(d.atime, BigInt(s.atime));
    assert.equal(d.ctime, BigInt(s.ctime));
    assert.equal(d.nattch, BigInt(s.nattch));
  }), { numRuns: 200 });
});

test('encodeShmidDsTo: in place or through the scratch area, all 112 bytes are written and nothing past them', () => {
  fc.assert(fc.property(shmidDs, fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 3 }), (s, offset, reuse) => {
    const backing = dirty(offset + SHMID64_DS_SIZE + 16);
    const dst = backing.subarray(offset, offset + SHMID64_DS_SIZE + 8);
    // The same buffer several times (the second time it is written in place
    // when aligned), then another one, then the first again.
    for (let i = 0; i <= reuse; i++) encodeShmidDsTo(dst, s);
    encodeShmidDsTo(dirty(SHMID64_DS_SIZE), s);
    encodeShmidDsTo(dst, s);
    const want = refShmidDs(s);
    assert.deepEqual(backing.subarray(offset, offset + SHMID64_DS_SIZE), want);
    assert.ok(backing.subarray(0, offset).every((b) => b === 0xa5), 'bytes before');
    assert.ok(backing.subarray(offset + SHMID64_DS_SIZE).every((b) => b === 0xa5), 'bytes after');
  }), { numRuns: 300 });
});

test('encodeShmidDsTo: a buffer over a SharedArrayBuffer is written in place like any other', () => {
  const sab = new Uint8Array(new SharedArrayBuffer(256)).fill(0xa5);
  const dst = sab.subarray(64, 64 + SHMID64_DS_SIZE);
  const s: ShmidDsFields = {
    key: -5, uid: 0xfffffffe, gid: 1, cuid: 2, cgid: 3, mode: 0o1600, seq: 0xffff, segsz: U64_MAX,
    atime: -1, dtime: 0, ctime: 1_700_000_000, cpid: 7, lpid: 8, nattch: 3,
  };
  for (let i = 0; i < 3; i++) encodeShmidDsTo(dst, s);
  assert.deepEqual(new Uint8Array(dst), refShmidDs(s));
  assert.ok(sab.subarray(0, 64).every((b) => b === 0xa5));
  assert.ok(sab.subarray(64 + SHMID64_DS_SIZE).every((b) => b === 0xa5));
});

test('encodeShmInfo64 / encodeShmInfoDs: the IPC_INFO and SHM_INFO layouts, padding zeroed', () => {
  const info64 = fc.record({ shmmax: u64Field, shmmin: u64Field, shmmni: u64Field, shmseg: u64Field, shmall: u64Field });
  const shmInfo = fc.record({
    usedIds: i32, shmTot: u64Field, shmRss: u64Field, shmSwp: u64Field, swapAttempts: u64Field, swapSuccesses: u64Field,
  });
  fc.assert(fc.property(info64, shmInfo, (a, b) => {
    assert.deepEqual(encodeShmInfo64(a), refShmInfo64(a));
    assert.deepEqual(encodeShmInfoDs(b), refShmInfoDs(b));
    const d1 = dirty(SHMINFO64_SIZE);
    encodeShmInfo64To(d1, a);
    encodeShmInfo64To(d1, a);
    assert.deepEqual(d1, refShmInfo64(a));
    const d2 = dirty(SHM_INFO_SIZE);
    encodeShmInfoDsTo(d2, b);
    encodeShmInfoDsTo(d2, b);
    assert.deepEqual(d2, refShmInfoDs(b));
    const r = decodeShmInfo64(d1);
    assert.equal(r.shmmax, BigInt(a.shmmax));
    assert.equal(decodeShmInfoDs(d2).shmTot, BigInt(b.shmTot));
  }), { numRuns: 300 });
});
