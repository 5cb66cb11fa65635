import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lowBits, modPow2, word, wordBig } from '../../src/abi/word.js';
import { Errno } from '../../src/abi/errno.js';
import { Kernel, constants as C } from '../../src/index.js';

test('word(): numbers below 2^53, bigints above, reduced modulo 2^64', () => {
  assert.equal(word(0), 0);
  assert.equal(word(0n), 0);
  assert.equal(word(4096), 4096);
  assert.equal(word(2 ** 53 - 1), 2 ** 53 - 1);
  assert.equal(word(BigInt(2 ** 53 - 1)), 2 ** 53 - 1);
  assert.equal(word(2n ** 53n), 2n ** 53n);
  assert.equal(word(2 ** 53), 2n ** 53n);
  assert.equal(word(-1), 2n ** 64n - 1n);
  assert.equal(word(-1n), 2n ** 64n - 1n);
  assert.equal(word(2n ** 64n + 5n), 5);
  assert.equal(word(4096.7), 4096);
  assert.equal(word(NaN), 0);
  assert.equal(word(-Infinity), 0);
  assert.equal(wordBig(7), 7n);
  assert.equal(lowBits(0x1234, 0xfff), 0x234);
  assert.equal(lowBits(2n ** 60n + 0x10n, 0xfff), 0x10);
});

test('modPow2() is the remainder by a power of two for every integer below 2^53', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 40 }), (x, k) => {
    const m = 2 ** k;
    assert.equal(modPow2(x, m), Number(BigInt(x) % BigInt(m)));
  }), { numRuns: 2000 });
  assert.equal(modPow2(0x7ffffffff000, 4096), 0);
  assert.equal(modPow2(0x7ffffffff001, 4096), 1);
});

/** The same call with the argument as a number and as a bigint must give the same result. */
function both(f: (v: number | bigint) => number, v: bigint): number {
  const big = f(v);
  if (v < 2n ** 53n) assert.equal(f(Number(v)), big, `number and bigint disagree at ${v}`);
  return big;
}

test('shmat/shmdt/mmap/munmap: the errno does not depend on the representation of a huge address', () => {
  const k = new Kernel();
  const p = k.spawn();
  const id = p.sys.shmget(C.IPC_PRIVATE, 8192, C.IPC_CREAT | 0o600);
  const E = (e: number) => -e;
  const { ENOMEM, EINVAL } = Errno;
  const cases: [bigint, number, number][] = [
    // address, shmflg, expected (do_shmat: alignment, then addr + size overflow, then do_mmap's ENOMEM)
    [2n ** 53n, 0, E(ENOMEM)],
    [2n ** 53n - 4096n, 0, E(ENOMEM)],
    [2n ** 53n + 1n, 0, E(EINVAL)],
    [2n ** 53n + 1n, C.SHM_RND, E(ENOMEM)],
    [2n ** 64n - 4096n, 0, E(EINVAL)], // addr + size wraps
    [2n ** 64n - 4096n, C.SHM_REMAP, E(ENOMEM)], // no overflow check with SHM_REMAP
  ];
  for (const [addr, flg, want] of cases) {
    assert.equal(both((v) => p.sys.shmat(id, v, flg), addr), want, `shmat(${addr}, ${flg})`);
  }
  // addr + size == 2^64: `addr + size < addr` is false only below 2^64; on Linux the sum wraps to 0 < addr: EINVAL.
  assert.equal(p.sys.shmat(id, 2n ** 64n - 8192n, 0), E(EINVAL));
  for (const a of [2n ** 53n, 2n ** 53n - 4096n, 2n ** 64n - 4096n]) {
    assert.equal(both((v) => p.sys.shmdt(v), a), E(EINVAL));
    assert.equal(both((v) => p.sys.munmap(v, 4096), a), E(EINVAL));
    assert.equal(both((v) => p.sys.mmap(v, 4096, C.PROT_READ, C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_FIXED), a), E(ENOMEM));
    assert.equal(both((v) => p.sys.mmap(0, v, C.PROT_READ, C.MAP_PRIVATE | C.MAP_ANONYMOUS), a), E(ENOMEM));
  }
  // A length that pages up to 0 is ENOMEM, a zero length EINVAL.
  assert.equal(p.sys.mmap(0, 2n ** 64n - 1n, C.PROT_READ, C.MAP_PRIVATE | C.MAP_ANONYMOUS), E(ENOMEM));
  assert.equal(p.sys.mmap(0, 0, C.PROT_READ, C.MAP_PRIVATE | C.MAP_ANONYMOUS), E(EINVAL));
  // A hint above TASK_SIZE is ignored; the mapping lands below.
  const a = both((v) => {
    const r = p.sys.mmap(v, 4096, C.PROT_READ, C.MAP_PRIVATE | C.MAP_ANONYMOUS);
    if (r >= 0) p.sys.munmap(r, 4096);
    return r;
  }, 2n ** 53n - 4096n);
  assert.ok(a > 0 && a < 2 ** 47);
  k.shutdown();
});
