/**
 * Differential test of fs/proc/task_mmu.c show_smap() and ipc/shm.c
 * sysvipc_shm_proc_show(): the same calls on the model (ModelBackend) and on
 * the machine's Linux kernel (OracleBackend), then /proc/self/smaps and
 * /proc/sysvipc/shm compared.
 *
 * Only the VMAs of SysV attaches and of shared anonymous memory
 * (/dev/zero) are compared -- the oracle's own program, heap and stack
 * differ by nature. Each entry is compared whole, every line, with its
 * address range rendered relative to the attach (or mmap) address it
 * belongs to and, for /dev/zero, the inode ignored. In /proc/sysvipc/shm
 * times become T and pids the scenario process names.
 *
 * Skipped where the oracle cannot run (no cc, not root, not x86_64 Linux).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { OracleBackend } from '../../src/oracle/oracle-backend.js';
import { ModelBackend } from '../../src/scenario/model-backend.js';
import type { Backend } from '../../src/scenario/backend.js';
import {
  IPC_CREAT, IPC_PRIVATE, IPC_RMID, MAP_ANONYMOUS, MAP_SHARED, PROT_READ, PROT_WRITE, SHM_EXEC,
  SHM_LOCK, SHM_RDONLY,
} from '../../src/abi/constants.js';
import { oracleUnavailable, ok } from '../helpers/oracle.js';

const PAGE = 4096n;

let skip: string | false = false;

before(async () => {
  skip = await oracleUnavailable();
});

interface Observed {
  /** Normalised smaps entries of p0 and p1, SysV and /dev/zero VMAs only. */
  smaps0: string[][];
  smaps1: string[][];
  /** Column at which the path starts on each SysV maps line (seq_pad). */
  columns: number[];
  /** /proc/sysvipc/shm with the child alive, then after its exit. */
  sysvipc: string[][][];
  header: string;
}

/** The scenario: the same calls on either kernel. */
async function run(b: Backend): Promise<Observed> {
  const names = new Map<number, string>();
  try {
    names.set(await b.start(), 'p0');
    const id = Number(ok(await b.shmget(0, 0x5eed, 5n * PAGE, IPC_CREAT | 0o644), 'shmget'));
    const odd = Number(ok(await b.shmget(0, IPC_PRIVATE, 5000n, 0o600), 'shmget odd'));
    const gone = Number(ok(await b.shmget(0, -7, PAGE, IPC_CREAT | 0o640), 'shmget gone'));
    const a = ok(await b.shmat(0, id, 0n, 0), 'shmat rw');
    const r = ok(await b.shmat(0, id, 0n, SHM_RDONLY), 'shmat rdonly');
    const x = ok(await b.shmat(0, id, 0n, SHM_EXEC), 'shmat exec');
    const o = ok(await b.shmat(0, odd, 0n, 0), 'shmat odd');
    const g = ok(await b.shmat(0, gone, 0n, SHM_RDONLY), 'shmat gone');
    // Pages 0..2 written through the RW attach, then its middle page made read-only.
    assert.equal((await b.fill(0, a, 3n * PAGE, 0x41)).fault, undefined);
    ok(await b.mprotect(0, a + PAGE, PAGE, PROT_READ), 'mprotect');
    // Pages 3 and 4 (never written) read through the read-only and the exec attaches.
    assert.equal((await b.read(0, r + 3n * PAGE, 2n * PAGE)).fault, undefined);
    assert.equal((await b.read(0, x + 4n * PAGE, 1n)).fault, undefined);
    // The 5000-byte segment: the slack of its last page is real memory.
    assert.equal((await b.fill(0, o + 8000n, 100n, 0x42)).fault, undefined);
    assert.equal((await b.read(0, g, 1n)).fault, undefined);
    ok((await b.shmctl(0, odd, SHM_LOCK, new Uint8Array(112))).ret, 'SHM_LOCK');
    ok((await b.shmctl(0, gone, IPC_RMID, new Uint8Array(112))).ret, 'IPC_RMID');
    // Shared anonymous memory with one touched page.
    const m = ok(await b.mmap(0, 0n, 2n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS), 'mmap');
    assert.equal((await b.write(0, m + 10n, new Uint8Array([1, 2, 3]))).fault, undefined);
    // A child: it inherits every VMA (no PTEs for shared mappings) and reads page 4 once more.
    names.set(ok(await b.fork(0, 1), 'fork'), 'p1');
    assert.equal((await b.read(1, r + 4n * PAGE, 1n)).fault, undefined);

    const bases: [string, bigint][] = [['$a', a], ['$r', r], ['$x', x], ['$o', o], ['$g', g], ['$m', m]];
    const columns: number[] = [];
    const smaps = async (h: number) => normaliseSmaps(ok(await b.readFile(h, '/proc/self/smaps'), 'smaps'), bases, columns);
    const smaps0 = await smaps(0);
    const smaps1 = await smaps(1);
    const sysvipc: string[][][] = [];
    const raw = ok(await b.readFile(0, '/proc/sysvipc/shm'), 'sysvipc');
    sysvipc.push(normaliseSysvipc(raw, names));
    await b.exit(1);
    sysvipc.push(normaliseSysvipc(ok(await b.readFile(0, '/proc/sysvipc/shm'), 'sysvipc'), names));
    return { smaps0, smaps1, columns, sysvipc, header: raw.slice(0, raw.indexOf('\n') + 1) };
  } finally {
    await b.close();
  }
}

/** Splits smaps into entries, keeps SysV and /dev/zero ones, renders addresses relative to `bases`. */
function normaliseSmaps(text: string, bases: [string, bigint][], columns: number[]): string[][] {
  const entries: string[][] = [];
  for (const line of text.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) entries.push([line]);
    else if (line !== '') entries.at(-1)!.push(line);
  }
  const out: string[][] = [];
  for (const [head, ...rest] of entries) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]{8}) (\S+) (\d+) +(.*)$/.exec(head!);
    if (!m || !(m[7]!.startsWith('/SYSV') || m[7]!.startsWith('/dev/zero'))) continue;
    const start = BigInt('0x' + m[1]);
    const end = BigInt('0x' + m[2]);
    // The attach (or mmap) this VMA belongs to: start - pgoff*PAGE.
    const base = start - BigInt('0x' + m[4]);
    const named = bases.find(([, v]) => v === base);
    const rel = (v: bigint) => named ? `${named[0]}+0x${(v - base).toString(16)}` : `?0x${v.toString(16)}`;
    const sysv = m[7]!.startsWith('/SYSV');
    if (sysv) columns.push(head!.indexOf('/SYSV'));
    out.push([`${rel(start)}-${rel(end)} ${m[3]} ${m[4]} ${m[5]} ${sysv ? m[6] : 'INO'} ${m[7]}`, ...rest]);
  }
  return out;
}

const FIELDS = ['key', 'shmid', 'perms', 'size', 'cpid', 'lpid', 'nattch', 'uid', 'gid', 'cuid', 'cgid', 'atime', 'dtime', 'ctime', 'rss', 'swap'];

/** Rows as field lists: times nonzero -> T, pids -> process names. */
function normaliseSysvipc(text: string, names: Map<number, string>): string[][] {
  return text.split('\n').slice(1).filter(Boolean).map((row) => row.trim().split(/\s+/).map((v, i) => {
    const f = FIELDS[i];
    if (f === 'atime' || f === 'dtime' || f === 'ctime') return v === '0' ? '0' : 'T';
    if (f === 'cpid' || f === 'lpid') return v === '0' ? '0' : names.get(Number(v)) ?? `pid?${v}`;
    return v;
  }));
}

test('show_smap / sysvipc_shm_proc_show: the model agrees with Linux on SysV and shared anonymous VMAs', async (t) => {
  if (skip) assert.fail(`the oracle cannot run here: ${skip}`);

  const linux = await run(new OracleBackend({ quiet: true }));
  const model = await run(new ModelBackend());

  // Sanity: the scenario produced what it should on Linux.
  assert.equal(linux.smaps0.filter((e) => e[0]!.includes('/SYSV')).length, 3 + 1 + 1 + 1 + 1);
  assert.equal(linux.smaps0.filter((e) => e[0]!.includes('/dev/zero')).length, 1);
  assert.ok(linux.smaps0.every((e) => !e[0]!.startsWith('?')), 'every VMA found its attach');

  assert.equal(model.header, linux.header);
  assert.deepEqual(model.smaps0, linux.smaps0, 'p0 /proc/self/smaps');
  assert.deepEqual(model.smaps1, linux.smaps1, 'p1 /proc/self/smaps');
  assert.deepEqual(model.columns, linux.columns, 'maps line padding');
  assert.deepEqual(model.sysvipc[0], linux.sysvipc[0], '/proc/sysvipc/shm with the child');
  assert.deepEqual(model.sysvipc[1], linux.sysvipc[1], '/proc/sysvipc/shm after the child\'s exit');
});
