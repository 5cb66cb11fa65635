import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, P,
  PRIV, PROT_NONE, PROT_READ, RW, caller, hookedFile, layout, mmap, newMm,
} from './helpers.js';

const EINVAL = -22, ENOMEM = -12, EPERM = -1, EEXIST = -17, EBADF = -9;
const M2 = 2 << 20;

test('first mapping of L lands at mmap_base - L, then top-down without holes', () => {
  const mm = newMm();
  assert.equal(mmap(mm, 0, P, PROT_READ, PRIV), BASE - P);
  assert.equal(mmap(mm, 0, 2 * P, RW, PRIV), BASE - 3 * P);
  assert.equal(mmap(mm, 0, 3 * P, PROT_NONE, PRIV), BASE - 6 * P);
  assert.deepEqual(layout(mm), [
    '7ffff7ff9000-7ffff7ffc000 ---p', '7ffff7ffc000-7ffff7ffe000 rw-p', '7ffff7ffe000-7ffff7fff000 r--p',
  ]);
  // The highest hole is filled first.
  assert.equal(mm.munmap(BigInt(BASE - 3 * P), 2n * 4096n, caller()), 0);
  assert.equal(mmap(mm, 0, P, RW, PRIV), BASE - 2 * P);
  assert.equal(mmap(mm, 0, 2 * P, RW, PRIV), BASE - 8 * P);
});

test('anonymous private mappings of a multiple of 2 MiB are THP aligned (observed on 6.18)', () => {
  // lay.c on the host: 4K -> 7ffff7ffe000, 2M -> 7ffff7c00000, 4K -> 7ffff7ffd000,
  // 3M -> 7ffff7900000, 4M -> 7ffff7400000.
  const mm = newMm();
  assert.equal(mmap(mm, 0, P, RW, PRIV), 0x7ffff7ffe000);
  assert.equal(mmap(mm, 0, M2, RW, PRIV), 0x7ffff7c00000);
  assert.equal(mmap(mm, 0, P, RW, PRIV), 0x7ffff7ffd000);
  assert.equal(mmap(mm, 0, 3 << 20, RW, PRIV), 0x7ffff7900000);
  assert.equal(mmap(mm, 0, 4 << 20, RW, PRIV), 0x7ffff7400000);
  // Shared anonymous memory is not aligned (shmem THP "never"), nor are other sizes.
  const mm2 = newMm();
  mmap(mm2, 0, P, PROT_READ, PRIV);
  assert.equal(mmap(mm2, 0, M2, RW, MAP_SHARED | MAP_ANONYMOUS), 0x7ffff7dfe000);
  assert.equal(mmap(mm2, 0, M2 + P, RW, PRIV), 0x7ffff7dfe000 - M2 - P);
  const mm3 = newMm();
  mmap(mm3, 0, P, PROT_READ, PRIV);
  assert.equal(mmap(mm3, 0, 6 << 20, RW, PRIV), 0x7ffff7800000);
  assert.equal(mmap(mm3, 0, M2, PROT_NONE, PRIV | MAP_NORESERVE), 0x7ffff7600000);
  // A SysV-like file mapping is not aligned either.
  const mm4 = newMm();
  mmap(mm4, 0, P, PROT_READ, PRIV);
  const f = hookedFile(mm4, M2);
  assert.equal(mm4.mmap(0n, BigInt(M2), RW, MAP_SHARED, f, 0n, caller()), 0x7ffff7dfe000);
  // A hint, even an occupied one, disables the alignment.
  assert.equal(mmap(mm4, 0x7ffff7ffe000, M2, RW, PRIV), 0x7ffff7dfe000 - M2);
});

test('hints: free hint honoured, occupied hint ignored, rounding, mmap_min_addr', () => {
  const mm = newMm();
  assert.equal(mmap(mm, 0x10000000, 2 * P, PROT_READ, PRIV), 0x10000000);
  assert.equal(mmap(mm, 0x10001000, 2 * P, PROT_READ, PRIV), BASE - 2 * P);
  assert.equal(mmap(mm, 0x20000123, P, PROT_READ, PRIV), 0x20000000);
  // Below CONFIG_LSM_MMAP_MIN_ADDR a hint is raised to 65536; below a page it is no hint.
  assert.equal(mmap(mm, 0x1000, P, PROT_READ, PRIV), 0x10000);
  assert.equal(mmap(mm, 0x800, P, PROT_READ, PRIV), BASE - 3 * P);
  // Above the mmap base and below TASK_SIZE a free hint is taken.
  assert.equal(mmap(mm, 0x7ffff8000000, P, PROT_READ, PRIV), 0x7ffff8000000);
  // A hint at or beyond TASK_SIZE is ignored.
  assert.equal(mmap(mm, 0x7ffffffff000, P, PROT_READ, PRIV), BASE - 4 * P);
  assert.equal(mm.mmap(0xfff000000000n, 4096n, PROT_READ, PRIV, null, 0n, caller()), BASE - 5 * P);
});

test('MAP_FIXED, MAP_FIXED_NOREPLACE and the address checks', () => {
  const mm = newMm();
  const c = caller();
  assert.equal(mmap(mm, 0x30000000, 4 * P, RW, PRIV | MAP_FIXED), 0x30000000);
  assert.equal(mmap(mm, 0x30001000, P, PROT_READ, PRIV | MAP_FIXED), 0x30001000);
  assert.deepEqual(layout(mm), ['30000000-30001000 rw-p', '30001000-30002000 r--p', '30002000-30004000 rw-p']);
  assert.equal(mmap(mm, 0x30001000, P, PROT_READ, PRIV | MAP_FIXED_NOREPLACE), EEXIST);
  assert.equal(mmap(mm, 0x2ffff000, 2 * P, PROT_READ, PRIV | MAP_FIXED_NOREPLACE), EEXIST);
  assert.equal(mmap(mm, 0x30010001, P, PROT_READ, PRIV | MAP_FIXED_NOREPLACE), EINVAL);
  assert.equal(mmap(mm, 0x30010000, P, PROT_READ, PRIV | MAP_FIXED_NOREPLACE), 0x30010000);
  assert.equal(mmap(mm, 0x30020001, P, PROT_READ, PRIV | MAP_FIXED), EINVAL);
  assert.equal(mmap(mm, 0x7ffffffff000, P, PROT_READ, PRIV | MAP_FIXED), ENOMEM);
  assert.equal(mmap(mm, 0x7fffffffe000, 2 * P, PROT_READ, PRIV | MAP_FIXED), ENOMEM);
  assert.equal(mm.mmap(0xfffffffffffff001n, 4096n, PROT_READ, PRIV | MAP_FIXED, null, 0n, c), ENOMEM);
  // vm.mmap_min_addr (4096): EPERM without CAP_SYS_RAWIO, allowed with it (even at 0).
  const user = caller(200, []);
  assert.equal(mmap(mm, 0, P, PROT_READ, PRIV | MAP_FIXED, user), EPERM);
  assert.equal(mmap(mm, 0x1000, P, PROT_READ, PRIV | MAP_FIXED, user), 0x1000);
  assert.equal(mmap(mm, 0, P, PROT_READ, PRIV | MAP_FIXED, c), 0);
  // Argument errors, in do_mmap's order.
  assert.equal(mmap(mm, 0, 0, PROT_READ, PRIV), EINVAL);
  assert.equal(mm.mmap(0n, (1n << 64n) - 1n, PROT_READ, PRIV, null, 0n, c), ENOMEM);
  assert.equal(mm.mmap(0n, (1n << 64n) - 4096n, PROT_READ, PRIV, null, 0n, c), ENOMEM);
  assert.equal(mmap(mm, 0, P, PROT_READ, MAP_ANONYMOUS), EINVAL);
  assert.equal(mmap(mm, 0, P, PROT_READ, MAP_ANONYMOUS | 3), EINVAL);
  assert.equal(mmap(mm, 0, P, PROT_READ, MAP_PRIVATE), EBADF);
  assert.equal(mmap(mm, 0, P, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | 0x100 /* GROWSDOWN */), EINVAL);
  assert.equal(mm.mmapAnon(0n, 4096n, PROT_READ, PRIV, 1n, c), EINVAL);
  // Unknown prot bits are ignored by mmap.
  assert.ok(mmap(mm, 0, P, 0x10 | PROT_READ, PRIV) > 0);
});

test('overcommit heuristic: one request above RAM + swap fails unless MAP_NORESERVE', () => {
  const mm = newMm(); // 6 000 000 pages of RAM
  const big = 8_000_000 * P;
  assert.equal(mmap(mm, 0, big, RW, PRIV), ENOMEM);
  assert.equal(mmap(mm, 0, big, RW, MAP_SHARED | MAP_ANONYMOUS), ENOMEM);
  assert.ok(mmap(mm, 0, big, PROT_READ, PRIV) > 0);
  assert.ok(mmap(mm, 0, big, RW, PRIV | MAP_NORESERVE) > 0);
  assert.ok(mmap(mm, 0, big, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE) > 0);
  assert.equal(mm.allocator.committedPages, 0);
  mm.teardown(caller());
});
