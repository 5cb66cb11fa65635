import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeBytes, renderRelative, renderChosen, renderMode, parseMaps, decodeShmidDs,
} from '../../src/scenario/render.js';
import { toInt, toU32 } from '../../src/scenario/interpreter.js';

test('byte chunks: runs of 8 or more, literals, empty read', () => {
  const hello = new Uint8Array(4096);
  hello.set([0x68, 0x65, 0x6c, 0x6c, 0x6f]);
  assert.equal(encodeBytes(hello), '68656c6c6f 00*4091');
  assert.equal(encodeBytes(new Uint8Array()), '-');
  assert.equal(encodeBytes(new Uint8Array(7)), '00000000000000');
  assert.equal(encodeBytes(new Uint8Array(8)), '00*8');
  assert.equal(encodeBytes(Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 2])), '01 00*8 02');
  assert.equal(encodeBytes(Uint8Array.from([0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xff, 0xff])), 'ab*9 ffff');
});

test('relative rendering picks the greatest variable at or below, within 1 GiB', () => {
  const vars = [
    { name: 'a', value: 0x7ffff7ffd000n, order: 1 },
    { name: 'b', value: 0x7ffff7ff0000n, order: 2 },
    { name: 'c', value: 0x7ffff7ffd000n, order: 3 },
  ];
  assert.equal(renderRelative(0x7ffff7ffd000n, vars), '$c');
  assert.equal(renderRelative(0x7ffff7fff000n, vars), '$c+0x2000');
  assert.equal(renderRelative(0x7ffff7ff1000n, vars), '$b+0x1000');
  assert.equal(renderRelative(0x7ffff7ff0000n - 1n, vars), 'ADDR');
  assert.equal(renderRelative(0x7ffff7ffd000n + (1n << 30n), vars), '$c+0x40000000');
  assert.equal(renderRelative(0x7ffff7ffd000n + (1n << 30n) + 1n, vars), 'ADDR');
  assert.equal(renderChosen(0x7ffff7ffd000n, vars), '$c');
  assert.equal(renderChosen(0x7ffff7ffe000n, vars), 'ADDR');
});

test('modes, C conversions, maps parsing, shmid_ds decoding', () => {
  assert.equal(renderMode(0o644), '0644');
  assert.equal(renderMode(0o1600), '01600');
  assert.equal(renderMode(0), '0000');
  assert.equal(renderMode(0o3777), '03777');
  assert.equal(toInt((1n << 64n) - 1n), -1);
  assert.equal(toInt(0x80000000n), -2147483648);
  assert.equal(toInt(0x1_0000_0005n), 5);
  assert.equal(toU32((1n << 64n) - 1n), 4294967295);
  const rows = parseMaps(
    '7ffff7ffd000-7ffff7fff000 rw-s 00000000 00:01 0                          /SYSV00001234 (deleted)\n' +
    '7ffff7ffc000-7ffff7ffd000 rw-p 00000000 00:00 0 \n');
  assert.equal(rows.length, 2);
  assert.equal(rows[0]!.path, '/SYSV00001234 (deleted)');
  assert.equal(rows[0]!.start, 0x7ffff7ffd000n);
  assert.equal(rows[1]!.path, '');
  const buf = new Uint8Array(112);
  const v = new DataView(buf.buffer);
  v.setInt32(0, -5, true); v.setUint32(4, 65534, true); v.setUint32(20, 0o1644, true);
  v.setUint16(24, 3, true); v.setBigUint64(48, 6000n, true); v.setInt32(80, 42, true); v.setBigUint64(88, 2n, true);
  const s = decodeShmidDs(buf);
  assert.deepEqual([s.key, s.uid, s.mode, s.seq, s.segsz, s.cpid, s.nattch], [-5, 65534, 0o1644, 3, 6000n, 42, 2n]);
});
