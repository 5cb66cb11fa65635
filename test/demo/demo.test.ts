/**
 * `sysvshm demo`: the producer and consumer worker processes exchange every
 * message (matching checksums), the report shows ipcs -m and the SysV maps
 * lines while they are attached, and nothing is left once they exit; bad
 * usage is exit status 2; a consumer that dies makes the demo fail quickly
 * and still leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEMO_DEFAULTS, parseDemoArgs, runDemo, type DemoOptions } from '../../src/demo/demo.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/sysvshm.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function capture(): { io: { write(s: string): void; isTTY: boolean }; text(): string } {
  let buf = '';
  return { io: { write: (s: string) => { buf += s; }, isTTY: false }, text: () => buf };
}

test('sysvshm demo --seconds 1 --consumers 2: every message arrives, the report, and nothing left', async () => {
  const t0 = Date.now();
  const r = await cli(['demo', '--seconds', '1', '--consumers', '2']);
  const ms = Date.now() - t0;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  const out = r.stdout;
  const lines = out.split('\n');
  assert.ok(ms < 10_000, `took ${ms} ms`);

  // Progress: not a terminal, so whole lines (no \r), the last one the totals.
  assert.ok(!out.includes('\r'));
  assert.match(out, /^\[ {2}\d\.\ds\] done: [\d,]+ msgs {2}[\d.]+[kM]? msg\/s {2}[\d.]+ MB\/s {2}delivered [\d.]+ MB\/s$/m);

  // ipcs -m while all three are attached: the RMID'd segment (key 0, dest), nattch 3.
  assert.ok(lines.includes('------ Shared Memory Segments --------'));
  assert.ok(lines.includes('key        shmid      owner      perms      bytes      nattch     status      '));
  assert.match(out, /^0x00000000 0 +\S+ +600 +1052672 +3 +dest +$/m);

  // One SysV maps line per process, each at an address of its own.
  const maps = lines.filter((l) => l.includes('/SYSV'));
  assert.equal(maps.length, 3, maps.join('\n'));
  for (const l of maps) assert.match(l, /^[0-9a-f]{12}-[0-9a-f]{12} rw-s 00000000 00:01 0 +\/SYSV53595356 \(deleted\)$/);
  assert.equal(new Set(maps.map((l) => l.split('-')[0])).size, 3, 'three different attach addresses');
  for (const who of ['producer', 'consumer 1', 'consumer 2']) assert.match(out, new RegExp(`^pid \\d+ \\(${who}\\):$`, 'm'));

  // The results: the consumers' counts and checksums are the producer's.
  const producer = /^producer +\d+ +0x[0-9a-f]+ +([\d,]+) +[\d.]+ +[\d,]+ +(0x[0-9a-f]{8})$/m.exec(out);
  assert.ok(producer, out);
  assert.ok(Number(producer[1]!.replace(/,/g, '')) > 0);
  for (const c of [1, 2]) {
    const m = new RegExp(`^consumer ${c} +\\d+ +0x[0-9a-f]+ +([\\d,]+) +[\\d.]+ +[\\d,]+ +(0x[0-9a-f]{8}) ✔$`, 'm').exec(out);
    assert.ok(m, `consumer ${c}:\n${out}`);
    assert.equal(m[1], producer[1]);
    assert.equal(m[2], producer[2]);
  }
  assert.ok(!out.includes('✘'));

  // The proof.
  assert.match(out, /^segments in the IPC namespace: 0 ✔/m);
  assert.match(out, /^pages allocated by the kernel: 0 ✔$/m);
  assert.match(out, /^live processes: +0 ✔$/m);
  assert.match(out, /^demo: OK /m);
});

test('sysvshm demo: bad usage is exit status 2 with a clear message', async () => {
  const r = await cli(['demo', '--consumers', '0']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^sysvshm demo: --consumers: expected an integer from 1 to 32 \(got '0'\)\nusage: sysvshm demo /);

  const bad: Array<[string[], RegExp]> = [
    [['--seconds', '0'], /--seconds: expected a number of seconds above 0/],
    [['--seconds', 'abc'], /--seconds/],
    [['--consumers', '2.5'], /--consumers/],
    [['--consumers', '33'], /--consumers/],
    [['--size', '1K'], /--size: the ring must be from 4K to 256M/],
    [['--size', 'lots'], /--size: expected a size in bytes/],
    [['--message', '10'], /--message: expected a multiple of 4/],
    [['--message', '18'], /--message: expected a multiple of 4/],
    [['--size', '4K', '--message', '4K'], /must hold at least two messages/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /positional/],
  ];
  for (const [args, re] of bad) {
    const o = parseDemoArgs(args);
    assert.ok('error' in o, args.join(' '));
    assert.match(o.error, re, args.join(' '));
  }
  assert.deepEqual(parseDemoArgs([]), { ...DEMO_DEFAULTS });
  assert.deepEqual(parseDemoArgs(['--seconds', '0.5', '--consumers', '3', '--size', '64K', '--message', '1K']),
    { seconds: 0.5, consumers: 3, size: 65536, message: 1024 });
  assert.deepEqual(parseDemoArgs(['--size', '1MB']), { ...DEMO_DEFAULTS, size: 1_000_000 });
});

test('a tiny ring (it wraps and fills thousands of times) with three consumers: still every message, nothing left', async () => {
  const c = capture();
  const opts: DemoOptions = { seconds: 0.5, consumers: 3, size: 4096, message: 16 };
  const r = await runDemo(opts, c.io);
  assert.ok(r.ok, c.text());
  const [producer, ...consumers] = r.processes;
  assert.ok(producer!.count > 10 * 256, `only ${producer!.count} messages`);
  assert.ok(producer!.waits > 0, 'the producer slept on a full ring');
  for (const p of consumers) {
    assert.equal(p.count, producer!.count);
    assert.equal(p.checksum, producer!.checksum);
    assert.equal(p.errors, 0);
    assert.notEqual(p.addr, producer!.addr);
    assert.equal(p.exit?.code, 0);
  }
  assert.deepEqual([r.segmentsLeft, r.pagesLeft, r.processesLeft], [0, 0, 0]);
});

test('a consumer that dies: the demo fails at once, the others are killed, and still nothing is left', async () => {
  const c = capture();
  const t0 = Date.now();
  const r = await runDemo({ ...DEMO_DEFAULTS, seconds: 5, crash: { consumer: 2, after: 20_000 } }, c.io);
  assert.ok(Date.now() - t0 < 4_000, `took ${Date.now() - t0} ms`);
  assert.equal(r.ok, false);
  assert.match(r.failures[0]!, /^consumer 2 \(pid \d+\) ended before the report: injected crash after 20000 messages$/);
  assert.deepEqual([r.segmentsLeft, r.pagesLeft, r.processesLeft], [0, 0, 0]);
  assert.match(c.text(), /^demo: FAILED - consumer 2/m);
});
