/**
 * fault_dirty_shared_page(): a write fault through a shared mapping marks the
 * page cache folio dirty, so every other mapping of the page (another attach,
 * a read-only attach, a forked child) reports it dirty in smaps. Values
 * observed on Linux 6.18 (see hugetlb-smaps-oracle.test.ts for the
 * differential version).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/index.js';
import {
  IPC_CREAT, MADV_POPULATE_WRITE, MAP_ANONYMOUS, MAP_FIXED, MAP_SHARED, PROT_READ, PROT_WRITE, SHM_RDONLY,
} from '../../src/abi/constants.js';
import { smapsEntry } from '../../src/proc/task-mmu.js';
import type { AddressSpace } from '../../src/mm/address-space.js';

const P = 4096;

/** The numeric smaps fields of the VMA at addr, in kB. */
function smaps(mm: AddressSpace, addr: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of smapsEntry(mm, mm.lookupVma(addr)!).split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

function pick(s: Record<string, number>) {
  return {
    Rss: s.Rss, Pss: s.Pss, Pss_Dirty: s.Pss_Dirty, Shared_Clean: s.Shared_Clean, Shared_Dirty: s.Shared_Dirty,
    Private_Clean: s.Private_Clean, Private_Dirty: s.Private_Dirty,
  };
}

test('a page written through a RW attach is dirty in a RDONLY attach of the same segment (observed 6.18)', () => {
  const kernel = new Kernel({ totalRamPages: 6_000_000 });
  const p = kernel.spawn({ name: 'p0' });
  const id = p.sys.shmget(0x40, 2 * P, IPC_CREAT | 0o600);
  const a = p.sys.shmat(id, 0x50000000, 0);
  const r = p.sys.shmat(id, 0x51000000, SHM_RDONLY);
  assert.equal(p.sys.write(a, new TextEncoder().encode('hi')).fault, undefined);
  assert.equal(p.sys.read(r, 1).fault, undefined);
  assert.equal(p.sys.read(a + P, 1).fault, undefined);
  // Page 0: mapped twice, dirty; page 1: mapped once by the RW attach, clean.
  assert.deepEqual(pick(smaps(p.mm, a)), {
    Rss: 8, Pss: 6, Pss_Dirty: 2, Shared_Clean: 0, Shared_Dirty: 4, Private_Clean: 4, Private_Dirty: 0,
  });
  assert.deepEqual(pick(smaps(p.mm, r)), {
    Rss: 4, Pss: 2, Pss_Dirty: 2, Shared_Clean: 0, Shared_Dirty: 4, Private_Clean: 0, Private_Dirty: 0,
  });
});

test('a forked child reading SysV and /dev/zero pages the parent wrote sees them dirty (observed 6.18)', () => {
  const kernel = new Kernel({ totalRamPages: 6_000_000 });
  const p = kernel.spawn({ name: 'p0' });
  const id = p.sys.shmget(0x41, 2 * P, IPC_CREAT | 0o600);
  const a = p.sys.shmat(id, 0x50000000, 0);
  assert.equal(p.sys.write(a, new Uint8Array([0x68])).fault, undefined);
  const z = p.sys.mmap(0x52000000, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
  assert.equal(p.sys.write(z, new Uint8Array([0x78])).fault, undefined);
  assert.equal(p.sys.read(z + P, 1).fault, undefined);
  const child = kernel.fork(p);
  assert.equal(child.sys.read(a, 1).fault, undefined);
  assert.equal(child.sys.read(z, 2 * P).fault, undefined);
  // Page 0 of the segment: mapped by parent and child, dirty.
  assert.deepEqual(pick(smaps(child.mm, a)), {
    Rss: 4, Pss: 2, Pss_Dirty: 2, Shared_Clean: 0, Shared_Dirty: 4, Private_Clean: 0, Private_Dirty: 0,
  });
  // Page 0 dirty (written by the parent), page 1 clean (only read).
  const expected = { Rss: 8, Pss: 4, Pss_Dirty: 2, Shared_Clean: 4, Shared_Dirty: 4, Private_Clean: 0, Private_Dirty: 0 };
  assert.deepEqual(pick(smaps(child.mm, z)), expected);
  assert.deepEqual(pick(smaps(p.mm, z)), expected);
});

test('a page dirtied by one mapping and then mapped by only one other shows up as Private_Dirty there', () => {
  const kernel = new Kernel({ totalRamPages: 6_000_000 });
  const p = kernel.spawn({ name: 'p0' });
  const id = p.sys.shmget(0x42, P, IPC_CREAT | 0o600);
  const a = p.sys.shmat(id, 0x50000000, 0);
  const r = p.sys.shmat(id, 0x51000000, SHM_RDONLY);
  // MADV_POPULATE_WRITE is a write fault too.
  assert.equal(p.sys.madvise(a, P, MADV_POPULATE_WRITE), 0);
  assert.equal(p.sys.shmdt(a), 0);
  assert.equal(p.sys.read(r, 1).fault, undefined);
  assert.deepEqual(pick(smaps(p.mm, r)), {
    Rss: 4, Pss: 4, Pss_Dirty: 4, Shared_Clean: 0, Shared_Dirty: 0, Private_Clean: 0, Private_Dirty: 4,
  });
});
