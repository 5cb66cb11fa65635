/**
 * Differential test of what the scenario language cannot show: smaps of
 * hugetlb VMAs (KernelPageSize, MMUPageSize, VmFlags "de ht", the device of
 * the hugetlbfs mount, placement), and the dirty state of shared pages
 * written through one mapping and read through another (fault_dirty_shared_page).
 * The same calls run on the model (ModelBackend) and on the machine's Linux
 * (OracleBackend); the smaps entries of the script's own VMAs are compared
 * whole, with addresses as they are (ASLR is off on both) and the inode of
 * "/anon_hugepage" and "/dev/zero" (get_next_ino(), different on every run)
 * replaced by INO.
 *
 * Skipped where the oracle cannot run (no cc, not root, not x86_64 Linux).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { OracleBackend } from '../../src/oracle/oracle-backend.js';
import { ModelBackend } from '../../src/scenario/model-backend.js';
import type { Backend } from '../../src/scenario/backend.js';
import {
  IPC_CREAT, MAP_ANONYMOUS, MAP_FIXED, MAP_HUGETLB, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PROT_READ,
  PROT_WRITE, SHM_HUGETLB, SHM_NORESERVE, SHM_RDONLY,
} from '../../src/abi/constants.js';
import { oracleUnavailable, ok } from '../helpers/oracle.js';

const PAGE = 4096n;
const RW = PROT_READ | PROT_WRITE;

let skip: string | false = false;

before(async () => {
  skip = await oracleUnavailable();
});

/** smaps entries of the VMAs meeting [lo, hi), with run-dependent inodes replaced. */
function entries(text: string, lo: bigint, hi: bigint): string[][] {
  const all: string[][] = [];
  for (const line of text.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) all.push([line]);
    else if (line !== '') all.at(-1)!.push(line);
  }
  return all.filter(([head]) => {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(head!)!;
    return BigInt('0x' + m[1]) < hi && BigInt('0x' + m[2]) > lo && !head!.endsWith(']');
  }).map(([head, ...rest]) => [
    head!.replace(/ (\d+)( +)(\/anon_hugepage|\/dev\/zero)/, (_s, ino: string, pad: string, name: string) => ` INO${' '.repeat(Math.max(1, ino.length + pad.length - 3))}${name}`),
    ...rest,
  ]);
}

interface Observed {
  addrs: bigint[];
  faults: string[];
  smaps0: string[][];
  smaps1: string[][];
}

async function run(b: Backend): Promise<Observed> {
  try {
    await b.start();
    const addrs: bigint[] = [];
    const faults: string[] = [];
    const touch = async (r: Promise<{ fault?: { signal: string; offset: bigint } }>) => {
      const f = (await r).fault;
      faults.push(f ? `${f.signal}@${f.offset}` : 'ok');
    };
    // hugetlb: SysV 2 MiB (placed at 0), 1 GiB, anonymous shared and private.
    const h2 = Number(ok(await b.shmget(0, 0x7001, 5000n, IPC_CREAT | SHM_HUGETLB | SHM_NORESERVE | 0o600), 'shmget 2M'));
    const h1g = Number(ok(await b.shmget(0, 0x7002, PAGE, IPC_CREAT | SHM_HUGETLB | SHM_NORESERVE | (30 << 26) | 0o600), 'shmget 1G'));
    addrs.push(ok(await b.shmat(0, h2, 0n, 0), 'shmat 2M'));
    addrs.push(ok(await b.shmat(0, h2, 0n, SHM_RDONLY), 'shmat 2M ro'));
    addrs.push(ok(await b.shmat(0, h1g, 0x40000000n, 0), 'shmat 1G'));
    addrs.push(ok(await b.mmap(0, 0n, 5000n, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE), 'mmap shared huge'));
    addrs.push(ok(await b.mmap(0, 0n, 5000n, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE), 'mmap private huge'));
    for (const a of addrs) await touch(b.read(0, a, 1n));
    await touch(b.write(0, addrs[4]!, new Uint8Array([1])));
    // Dirty sharing: written through a RW attach, read through a RDONLY one and by a child.
    const id = Number(ok(await b.shmget(0, 0x7003, 2n * PAGE, IPC_CREAT | 0o600), 'shmget'));
    const a = ok(await b.shmat(0, id, 0x20000000n, 0), 'shmat rw');
    const r = ok(await b.shmat(0, id, 0x21000000n, SHM_RDONLY), 'shmat ro');
    await touch(b.write(0, a, new Uint8Array([0x68, 0x69])));
    await touch(b.read(0, r, 1n));
    await touch(b.read(0, a + PAGE, 1n));
    const z = ok(await b.mmap(0, 0x22000000n, 2n * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), 'mmap devzero');
    await touch(b.write(0, z, new Uint8Array([0x78])));
    await touch(b.read(0, z + PAGE, 1n));
    ok(await b.fork(0, 1), 'fork');
    await touch(b.read(1, a, 1n));
    await touch(b.read(1, z, 2n * PAGE));
    const lo = 0x10000000n, hi = 0x7ffff8000000n;
    const smaps0 = entries(ok(await b.readFile(0, '/proc/self/smaps'), 'smaps p0'), lo, hi);
    const smaps1 = entries(ok(await b.readFile(1, '/proc/self/smaps'), 'smaps p1'), lo, hi);
    return { addrs, faults, smaps0, smaps1 };
  } finally {
    await b.close();
  }
}

test('smaps of hugetlb VMAs and of shared pages dirtied through another mapping: the model agrees with Linux', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);

  const linux = await run(new OracleBackend({ quiet: true }));
  const model = await run(new ModelBackend());

  // Sanity: what Linux 6.18 did on the reference host.
  assert.equal(linux.addrs[0], 0x7ffff7c00000n);
  assert.ok(linux.smaps0.some((e) => e.includes('VmFlags: rd wr sh mr mw me ms de ht ')));
  assert.ok(linux.smaps0.some((e) => e.includes('KernelPageSize:  1048576 kB')));

  assert.deepEqual(model.addrs, linux.addrs, 'placement');
  assert.deepEqual(model.faults, linux.faults, 'accesses');
  assert.deepEqual(model.smaps0, linux.smaps0, 'p0 /proc/self/smaps');
  assert.deepEqual(model.smaps1, linux.smaps1, 'p1 /proc/self/smaps');
});
