import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAP_FIXED, MAP_SHARED, MREMAP_MAYMOVE, P, PRIV, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE, RW,
  caller, hookedFile, mmap, newMm,
} from './helpers.js';

const bytes = (s: string) => new TextEncoder().encode(s);

test('SIGSEGV at the first inaccessible byte; bytes before it are done', () => {
  const mm = newMm();
  const a = mmap(mm, 0x30000000, 2 * P, RW, PRIV | MAP_FIXED);
  mmap(mm, a + 2 * P, P, PROT_READ, PRIV | MAP_FIXED);
  assert.deepEqual(mm.read(0x20000000, 4).fault, { signal: 'SIGSEGV', offset: 0n });
  const w = mm.write(a + 2 * P - 2, bytes('abcd'));
  assert.deepEqual(w.fault, { signal: 'SIGSEGV', offset: 2n });
  const r = mm.read(a + 2 * P - 2, 3 * P);
  assert.deepEqual([...r.data.slice(0, 2)], [0x61, 0x62]);
  assert.equal(r.data.length, P + 2);
  assert.deepEqual(r.fault, { signal: 'SIGSEGV', offset: BigInt(P + 2) });
  assert.equal(mm.read(a, 0).data.length, 0);
  assert.deepEqual(mm.read(0xffffffffffffffffn, 1n).fault, { signal: 'SIGSEGV', offset: 0n });
  assert.deepEqual(mm.fill(a + P, 5 * P, 0x41).fault, { signal: 'SIGSEGV', offset: BigInt(P) });
});

test('x86 permissions: PROT_NONE faults, write-only and exec-only are readable', () => {
  const mm = newMm();
  const n = mmap(mm, 0, P, PROT_NONE, PRIV);
  const w = mmap(mm, 0, P, PROT_WRITE, PRIV);
  const x = mmap(mm, 0, P, PROT_EXEC, PRIV);
  assert.equal(mm.read(n, 1).fault?.signal, 'SIGSEGV');
  assert.equal(mm.write(n, bytes('a')).fault?.signal, 'SIGSEGV');
  assert.equal(mm.write(w, bytes('a')).fault, undefined);
  assert.deepEqual([...mm.read(w, 2).data], [0x61, 0]);
  assert.equal(mm.read(x, 1).fault, undefined);
  assert.equal(mm.write(x, bytes('a')).fault?.signal, 'SIGSEGV');
});

test('private anonymous reads use the zero page; writes allocate', () => {
  const mm = newMm();
  const a = mmap(mm, 0, 4 * P, RW, PRIV);
  assert.deepEqual([...mm.read(a, 4 * P).data].every((b) => b === 0), true);
  assert.equal(mm.allocator.allocatedPages, 0);
  mm.fill(a + 10, 2 * P, 7);
  assert.equal(mm.allocator.allocatedPages, 3);
  assert.equal(mm.rssAnon, 3);
});

test('SIGBUS beyond the file after an mremap grow; slack bytes are shared memory', () => {
  const mm = newMm();
  const f = hookedFile(mm, 5000);
  const a = mm.mmap(0n, 5000n, RW, MAP_SHARED, f, 0n, caller());
  assert.ok(a > 0);
  assert.equal(mm.write(a + 8191, bytes('z')).fault, undefined);
  const b = mm.mremap(BigInt(a), 8192n, 16384n, MREMAP_MAYMOVE, 0n, caller());
  assert.ok(b > 0);
  const r = mm.read(b + 8190, 4);
  assert.deepEqual([...r.data], [0, 0x7a]);
  assert.deepEqual(r.fault, { signal: 'SIGBUS', offset: 2n });
  assert.deepEqual(mm.write(b + 3 * P, bytes('q')).fault, { signal: 'SIGBUS', offset: 0n });
  // A second mapping of the same file sees the bytes.
  const c = mm.mmap(0n, 8192n, PROT_READ, MAP_SHARED, f, 0n, caller());
  assert.deepEqual([...mm.read(c + 8191, 1).data], [0x7a]);
  assert.equal(f.cache.residentPages, 1);
});

test('fork: private memory is copy-on-write, shared memory stays shared', () => {
  const mm = newMm();
  const priv = mmap(mm, 0, P, RW, PRIV);
  const shared = mmap(mm, 0, P, RW, MAP_SHARED | 0x20);
  mm.write(priv, bytes('parent'));
  mm.write(shared, bytes('one'));
  const child = mm.fork(caller());
  assert.equal(mm.allocator.allocatedPages, 2, 'the private page is shared until written');
  child.write(priv, bytes('child!'));
  assert.equal(mm.allocator.allocatedPages, 3);
  assert.equal(new TextDecoder().decode(mm.read(priv, 6).data), 'parent');
  assert.equal(new TextDecoder().decode(child.read(priv, 6).data), 'child!');
  child.write(shared, bytes('two'));
  assert.equal(new TextDecoder().decode(mm.read(shared, 3).data), 'two');
  child.teardown(caller());
  mm.teardown(caller());
  assert.equal(mm.allocator.allocatedPages, 0);
});

test('a big read is bulk-copied (64 MiB in well under a second)', () => {
  const mm = newMm();
  const a = mmap(mm, 0, 64 << 20, RW, MAP_SHARED | 0x20);
  const t0 = Date.now();
  mm.fill(a, 64 << 20, 0x5a);
  const r = mm.read(a, 64 << 20);
  assert.equal(r.data.length, 64 << 20);
  assert.equal(r.data[12345678], 0x5a);
  assert.ok(Date.now() - t0 < 3000);
  mm.teardown(caller());
  assert.equal(mm.allocator.allocatedPages, 0);
});

test('guard regions: SIGSEGV on access, kept by MADV_DONTNEED, inherited by fork (observed on 6.18)', () => {
  const mm = newMm();
  const c = caller();
  const a = mmap(mm, 0x30000000, 4 * P, RW, PRIV | MAP_FIXED);
  mm.fill(a, 4 * P, 0x61);
  assert.equal(mm.madvise(BigInt(a + P), 8192n, 102 /* MADV_GUARD_INSTALL */, c), 0);
  assert.deepEqual(mm.read(a + P - 2, 4).fault, { signal: 'SIGSEGV', offset: 2n });
  assert.equal(mm.madvise(BigInt(a), 16384n, 4 /* MADV_DONTNEED */, c), 0);
  assert.equal(mm.read(a + P, 1).fault?.signal, 'SIGSEGV');
  assert.equal(mm.madvise(BigInt(a), 16384n, 22 /* MADV_POPULATE_READ */, c), -14);
  const child = mm.fork(c);
  assert.equal(child.read(a + 2 * P, 1).fault?.signal, 'SIGSEGV');
  assert.equal(mm.madvise(BigInt(a + 2 * P), 4096n, 103 /* MADV_GUARD_REMOVE */, c), 0);
  assert.deepEqual([...mm.read(a + 2 * P, 1).data], [0], 'installing the guard zapped the page');
  assert.equal(mm.read(a + P, 1).fault?.signal, 'SIGSEGV');
  child.teardown(c);
  mm.teardown(c);
  assert.equal(mm.allocator.allocatedPages, 0);
});

test('MREMAP_DONTUNMAP keeps the old VMA accounted (observed VmFlags "ac" on 6.18)', () => {
  const mm = newMm();
  const c = caller();
  const a = mmap(mm, 0x30000000, 2 * P, RW, PRIV | MAP_FIXED);
  mm.write(a, new Uint8Array([1]));
  const b = mm.mremap(BigInt(a), 8192n, 8192n, 1 | 4 /* MAYMOVE|DONTUNMAP */, 0n, c);
  assert.ok(b > 0);
  assert.equal(mm.allocator.committedPages, 4);
  assert.ok(mm.lookupVma(a)!.flags & 0x100000);
  assert.deepEqual([...mm.read(a, 1).data], [0]);
  assert.deepEqual([...mm.read(b, 1).data], [1]);
  mm.teardown(c);
  assert.equal(mm.allocator.committedPages, 0);
});
