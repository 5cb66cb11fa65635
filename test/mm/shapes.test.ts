/**
 * The pinned exemplars (src/mm/shapes.ts) have the hidden class of the
 * objects of a real segment's life: otherwise they would not keep that
 * class alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { Kernel, constants as C } from '../../src/index.js';
import { pinnedShapes } from '../../src/mm/shapes.js';
import type { Vma } from '../../src/mm/vma.js';

setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

test('each pinned exemplar has the hidden class of its live counterparts after a segment life', () => {
  const kernel = new Kernel();
  const p = kernel.spawn({ name: 'shapes' });
  const sys = p.sys;
  const PAGE = 4096, pages = 600;
  const id = sys.shmget(C.IPC_PRIVATE, pages * PAGE, C.IPC_CREAT | 0o600);
  const a = sys.shmat(id, 0, 0);
  assert.ok(a > 0);
  for (let i = 0; i < pages; i++) assert.equal(sys.write(a + i * PAGE, new Uint8Array([i & 0xff])).fault, undefined);
  sys.read(a, 2 * PAGE);
  // A private anonymous page, and a fork (COW of it, PTE copies).
  const anon = sys.mmap(0, 4 * PAGE, C.PROT_READ | C.PROT_WRITE, C.MAP_PRIVATE | C.MAP_ANONYMOUS);
  assert.ok(anon > 0);
  sys.write(anon, new Uint8Array([7]));
  const child = kernel.fork(p);
  assert.equal(typeof child, 'object');
  const vma = p.mm.lookupVma(Number(a)) as Vma;
  const anonVma = p.mm.lookupVma(Number(anon)) as Vma;
  const sfd = vma.file as unknown as { base: { cache: object }; segment: object };
  const live: object[] = [
    vma, anonVma, sfd, sfd.base, sfd.base.cache, sfd.segment, vma.filePtes!, anonVma.anonPages!.values().next().value!,
  ];
  sys.shmdt(a);
  sys.shmctl(id, C.IPC_RMID, null);
  const seen = new Set<unknown>();
  for (const o of live) {
    const ex = pinnedShapes().find((e) => e.constructor === o.constructor);
    assert.ok(ex, `${o.constructor.name} is pinned`);
    assert.ok(sameMap(ex, o), `${o.constructor.name}: the exemplar has the live objects' hidden class`);
    seen.add(o.constructor);
  }
  assert.equal(seen.size, pinnedShapes().length, 'every pinned class was checked');
});
