/**
 * shmdt(2): ipc/shm.c ksys_shmdt(), the unbounded find phase and the sweep
 * over fragments of the same attach (spec §5.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno } from '../../src/index.js';
import {
  IPC_PRIVATE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ,
} from '../../src/abi/constants.js';
import { ShmAttachFile } from '../../src/shm/attach.js';
import type { Process } from '../../src/index.js';
import { userVmas } from '../helpers/vmas.js';
import { clockedKernel } from '../helpers/kernel.js';

const PAGE = 4096;
const X = 0x100000000000;
const Y = 0x200000000000;

function setup() {
  const { kernel, tick } = clockedKernel(1000);
  return { kernel, p: kernel.spawn(), tick };
}

/** [start offset from X in pages, pages, segment id, pgoff] of every VMA. */
function layout(p: Process, base = X) {
  return userVmas(p).map((v) => {
    const f = v.file instanceof ShmAttachFile ? v.file.id : null;
    return [(v.start - base) / PAGE, (v.end - v.start) / PAGE, f, v.pgoff];
  });
}

function seg(p: Process, pages: number, at: number): number {
  const id = p.shmget(IPC_PRIVATE, pages * PAGE, 0o600);
  assert.equal(p.shmat(id, at), at);
  return id;
}

test('ksys_shmdt: an address that is not page aligned is EINVAL', () => {
  const { p } = setup();
  seg(p, 1, X);
  assert.equal(p.sys.shmdt(X + 1), -Errno.EINVAL);
  assert.equal(p.sys.shmdt(X + 2048), -Errno.EINVAL);
  assert.equal(userVmas(p).length, 1);
});

test('ksys_shmdt: the middle of an attach is EINVAL (pgoff must equal the distance)', () => {
  const { p } = setup();
  const id = seg(p, 2, X);
  assert.equal(p.sys.shmdt(X + PAGE), -Errno.EINVAL);
  assert.equal(p.shmStat(id).nattch, 1);
  assert.equal(p.sys.shmdt(X), 0);
  assert.equal(p.sys.shmdt(X), -Errno.EINVAL);
});

test('ksys_shmdt: anonymous memory is never detached', () => {
  const { p } = setup();
  assert.equal(p.sys.mmap(X, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), X);
  assert.equal(p.sys.shmdt(X), -Errno.EINVAL);
  assert.equal(userVmas(p).length, 1);
});

test('ksys_shmdt: after munmap of the first pages the remaining fragments are found and swept', () => {
  const { p } = setup();
  const id = seg(p, 4, X);
  p.munmap(X, 2 * PAGE);
  assert.equal(p.shmStat(id).nattch, 1);
  assert.equal(p.sys.shmdt(X), 0);
  assert.equal(userVmas(p).length, 0);
  assert.equal(p.ipcNs.shm.ids.inUse, 1);
  assert.equal(p.shmStat(id).nattch, 0);
});

test('ksys_shmdt: only page 3 of a 4-page attach left: shmdt(X) still unmaps it', () => {
  const { p } = setup();
  seg(p, 4, X);
  p.munmap(X, 3 * PAGE);
  assert.equal(p.sys.shmdt(X), 0);
  assert.equal(userVmas(p).length, 0);
});

test('ksys_shmdt: anonymous memory in the hole is skipped by the sweep and survives', () => {
  const { p } = setup();
  seg(p, 3, X);
  p.munmap(X, PAGE);
  assert.equal(p.sys.mmap(X, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), X);
  assert.equal(p.sys.shmdt(X), 0);
  assert.deepEqual(layout(p), [[0, 1, null, X / PAGE]]);
});

test('ksys_shmdt: three VMAs after mprotect of the middle page all go (nattch 3 -> 0, dtime, lpid)', () => {
  const { kernel, p, tick } = setup();
  const id = seg(p, 3, X);
  p.mprotect(X + PAGE, PAGE, PROT_READ);
  assert.equal(p.shmStat(id).nattch, 3);
  const q = kernel.spawn();
  q.shmat(id); // keeps the segment from going away, and lpid becomes q for a moment
  tick(4242);
  assert.equal(p.sys.shmdt(X), 0);
  const st = p.shmStat(id);
  assert.equal(st.nattch, 1);
  assert.equal(st.dtime, 4242);
  assert.equal(st.lpid, p.pid);
  assert.equal(userVmas(p).length, 0);
});

test('ksys_shmdt: a page of another segment moved into the hole survives the sweep, not a second shmdt', () => {
  const { p } = setup();
  const a = seg(p, 4, X);
  const b = seg(p, 4, Y);
  p.munmap(X + 2 * PAGE, PAGE);
  // B's page 2 (pgoff 2) lands exactly where A's page 2 was.
  assert.equal(p.sys.mremap(Y + 2 * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, X + 2 * PAGE), X + 2 * PAGE);
  assert.equal(p.shmStat(b).nattch, 3);
  assert.equal(p.sys.shmdt(X), 0);
  assert.deepEqual(layout(p).filter((l) => l[0]! < (Y - X) / PAGE), [[2, 1, b, 2]]);
  assert.equal(p.shmStat(a).nattch, 0);
  // The find phase takes any SysV VMA with the right pgoff.
  assert.equal(p.sys.shmdt(X), 0);
  assert.equal(p.shmStat(b).nattch, 2);
  assert.equal(p.sys.shmdt(X), -Errno.EINVAL);
});

test('ksys_shmdt: a page of a second attach of the same segment in the hole survives (same segment, other attach)', () => {
  const { p } = setup();
  const a = seg(p, 4, X);
  assert.equal(p.shmat(a, Y), Y);
  p.munmap(X + 2 * PAGE, PAGE);
  assert.equal(p.sys.mremap(Y + 2 * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, X + 2 * PAGE), X + 2 * PAGE);
  assert.equal(p.sys.shmdt(X), 0);
  assert.deepEqual(layout(p).filter((l) => l[0]! < (Y - X) / PAGE), [[2, 1, a, 2]]);
});

test('ksys_shmdt: after an mremap move the old address is EINVAL and the new one works', () => {
  const { p } = setup();
  const id = seg(p, 2, X);
  assert.equal(p.sys.mremap(X, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, Y), Y);
  assert.equal(p.shmStat(id).nattch, 1);
  assert.equal(p.sys.shmdt(X), -Errno.EINVAL);
  assert.equal(p.sys.shmdt(Y), 0);
  assert.equal(p.shmStat(id).nattch, 0);
});

test('ksys_shmdt: a fragment grown past addr + size stops the sweep and stays mapped', () => {
  const { p } = setup();
  const id = seg(p, 4, X);
  p.munmap(X + PAGE, PAGE);
  // The fragment [X+2p, X+4p) is grown in place to end at X+6p.
  assert.equal(p.sys.mremap(X + 2 * PAGE, 2 * PAGE, 4 * PAGE, 0), X + 2 * PAGE);
  assert.equal(p.sys.shmdt(X), 0);
  assert.deepEqual(layout(p), [[2, 4, id, 2]]);
  assert.equal(p.shmStat(id).nattch, 1);
});

test('ksys_shmdt: a moved fragment matches only from the address its pgoff points back to', () => {
  const { p } = setup();
  const id = seg(p, 4, X);
  // Keep only page 3 and move it far away: its pgoff (3) no longer equals its distance from X.
  p.munmap(X, 3 * PAGE);
  assert.equal(p.sys.mremap(X + 3 * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, Y + 3 * PAGE), Y + 3 * PAGE);
  assert.equal(p.sys.shmdt(X), -Errno.EINVAL);
  // From Y the distance is 3 pages, which is the pgoff.
  assert.equal(p.sys.shmdt(Y), 0);
  assert.equal(p.shmStat(id).nattch, 0);
  // And from far below: the walk reaches the first SysV VMA whose pgoff matches its distance.
  const id2 = seg(p, 1, Y);
  assert.equal(p.sys.shmdt(PAGE * 16), -Errno.EINVAL);
  assert.equal(p.shmStat(id2).nattch, 1);
});
