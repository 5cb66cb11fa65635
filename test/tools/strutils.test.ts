/**
 * parse_size(), size_to_human_string(), the strto* family and getopt_long:
 * values checked against util-linux 2.38.1 and glibc on the reference
 * machine (ipcmk -M, ipcs --human, the tools' option errors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno } from '../../src/abi/errno.js';
import { SHMMAX_DEFAULT } from '../../src/abi/constants.js';
import { parseSize, sizeToHumanString } from '../../src/tools/strutils.js';
import { strtoimax, strtoumax, ctimeUtc, altOctal, ToolIo } from '../../src/tools/libc.js';
import { Getopt, type LongOption } from '../../src/tools/getopt.js';

test('parse_size: what ipcmk -M accepted on Linux, and the sizes it made', () => {
  const sizes: [string, bigint][] = [
    ['4096', 4096n], ['1K', 1024n], ['1KiB', 1024n], ['1KB', 1000n], ['0.5M', 524288n], ['1.5K', 1536n],
    ['0x10', 16n], ['010', 8n], ['1k', 1024n], ['1kb', 1000n], ['1kib', 1024n], ['2147483648', 2147483648n],
    [' 12', 12n], ['1.K', 1024n], ['1.05M', 1101004n], ['2.999K', 3174n], ['1.0K', 1024n], ['3KB', 3000n],
    ['0x1K', 1024n], ['1.5KiB', 1536n], ['1Kib', 1024n], ['1G', 1n << 30n], ['1E', 1n << 60n], ['0.0001K', 0n],
    ['18446744073709551615', (1n << 64n) - 1n], ['1.5MiB', 1572864n],
  ];
  for (const [s, v] of sizes) assert.deepEqual(parseSize(s), { rc: 0, value: v }, s);
  const errors: [string, number][] = [
    ['-5', Errno.EINVAL], ['abc', Errno.EINVAL], ['1X', Errno.EINVAL], ['', Errno.EINVAL], ['12 ', Errno.EINVAL],
    ['1.', Errno.EINVAL], ['0.', Errno.EINVAL], ['1.5', Errno.EINVAL], ['1KIB', Errno.EINVAL],
    ['1Z', Errno.ERANGE], ['99999999999999999999', Errno.ERANGE], ['18446744073709551616', Errno.ERANGE],
    ['1.123456789012345678901234K', Errno.ERANGE],
  ];
  for (const [s, e] of errors) assert.equal(parseSize(s).rc, -e, s);
});

test('size_to_human_string: what ipcs --human printed', () => {
  const cases: [bigint, string][] = [
    [10000n, '9.8K'], [1048576n, '1M'], [1n, '1B'], [4096n, '4K'], [5000n, '4.9K'], [100n, '100B'], [2000n, '2K'],
    [8192n, '8K'], [16384n, '16K'], [SHMMAX_DEFAULT, '16E'], [(1n << 64n) - 4096n, '16E'], [0n, '0B'], [1536n, '1.5K'],
    [3n << 20n, '3M'], [1023n, '1023B'], [1024n * 1023n + 900n, '1023.9K'], [1024n * 1023n + 1000n, '1024K'],
  ];
  for (const [n, s] of cases) assert.equal(sizeToHumanString(n), s, String(n));
});

test('strtol family: bases, signs, overflow and where parsing stops', () => {
  assert.deepEqual(strtoumax('0x', 0), { value: 0n, end: 1, errno: 0 });
  assert.deepEqual(strtoumax('-1', 0), { value: (1n << 64n) - 1n, end: 2, errno: 0 });
  assert.deepEqual(strtoumax('  +017', 0), { value: 15n, end: 6, errno: 0 });
  assert.deepEqual(strtoumax('99999999999999999999', 10), { value: (1n << 64n) - 1n, end: 20, errno: Errno.ERANGE });
  assert.deepEqual(strtoumax('abc', 10), { value: 0n, end: 0, errno: 0 });
  assert.deepEqual(strtoumax('7778', 8), { value: 511n, end: 3, errno: 0 });
  assert.deepEqual(strtoimax('-99999999999999999999', 10), { value: -(1n << 63n), end: 21, errno: Errno.ERANGE });
  assert.deepEqual(strtoimax(' -5x', 10), { value: -5n, end: 3, errno: 0 });
  assert.equal(altOctal(0), '0');
  assert.equal(altOctal(0o3600), '03600');
});

test('ctime: glibc asctime layout', () => {
  assert.equal(ctimeUtc(1795350771n), 'Sun Nov 22 12:32:51 2026');
  assert.equal(ctimeUtc(0n), 'Thu Jan  1 00:00:00 1970');
  assert.equal(ctimeUtc(1n << 62n), null);
});

const LONG: LongOption[] = [
  { name: 'id', hasArg: 1, val: 'i' },
  { name: 'human', hasArg: 0, val: 200 },
  { name: 'help', hasArg: 0, val: 'h' },
  { name: 'all', hasArg: 2, val: 'a' },
];

function run(args: string[], optstring = 'i:ha::m'): { opts: string[]; rest: string[]; err: string } {
  const io = new ToolIo('prog');
  const g = new Getopt(io, 'prog', args, optstring, LONG);
  const opts: string[] = [];
  for (let o = g.next(); o; o = g.next()) opts.push(`${String(o.opt)}=${o.optarg ?? ''}`);
  return { opts, rest: g.remaining(), err: io.stderr };
}

test('getopt_long: permutation, clusters, abbreviations and glibc messages', () => {
  assert.deepEqual(run(['a', '-mi3', 'b', '--', '-m', 'c']), { opts: ['m=', 'i=3'], rest: ['a', 'b', '-m', 'c'], err: '' });
  assert.deepEqual(run(['-i', '-5', '-', '--id=7', '--id', '8']).opts, ['i=-5', 'i=7', 'i=8']);
  assert.deepEqual(run(['-i', '-5', '-']).rest, ['-']);
  assert.deepEqual(run(['--hu', '--al', '--all=x', '-ax', '-a', 'y']), { opts: ['200=', 'a=', 'a=x', 'a=x', 'a='], rest: ['y'], err: '' });
  assert.equal(run(['--h']).err, "prog: option '--h' is ambiguous; possibilities: '--human' '--help'\n");
  assert.equal(run(['--h=1']).err, "prog: option '--h=1' is ambiguous; possibilities: '--human' '--help'\n");
  assert.equal(run(['--nope=1']).err, "prog: unrecognized option '--nope=1'\n");
  assert.equal(run(['--human=1']).err, "prog: option '--human' doesn't allow an argument\n");
  assert.equal(run(['--id']).err, "prog: option '--id' requires an argument\n");
  assert.equal(run(['-x']).err, "prog: invalid option -- 'x'\n");
  assert.equal(run(['-i']).err, "prog: option requires an argument -- 'i'\n");
  assert.deepEqual(run(['-xm']).opts, ['?=', 'm=']);
});
