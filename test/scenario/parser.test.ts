import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLine, parseScript, type Line } from '../../src/scenario/parser.js';
import { parseLiteral, parseValue } from '../../src/scenario/values.js';
import { tokenize } from '../../src/scenario/lexer.js';
import { ScriptError } from '../../src/scenario/errors.js';

const U64 = 1n << 64n;

function line(text: string): Line {
  const l = parseLine(text, 1);
  assert.ok(l, `expected a command in ${JSON.stringify(text)}`);
  return l;
}

function scriptError(text: string, pattern: RegExp): void {
  assert.throws(() => parseLine(text, 7), (e: unknown) => {
    assert.ok(e instanceof ScriptError, `not a ScriptError: ${e}`);
    assert.equal(e.line, 7);
    assert.match(e.message, pattern);
    return true;
  });
}

test('literals: decimal, hex, octal, suffixes, negation wraps', () => {
  assert.equal(parseLiteral('123'), 123n);
  assert.equal(parseLiteral('0'), 0n);
  assert.equal(parseLiteral('0x1f'), 31n);
  assert.equal(parseLiteral('0644'), 0o644n);
  assert.equal(parseLiteral('4K'), 4096n);
  assert.equal(parseLiteral('3M'), 3n << 20n);
  assert.equal(parseLiteral('2G'), 2n << 30n);
  assert.equal(parseLiteral('1T'), 1n << 40n);
  assert.equal(parseLiteral('-1'), U64 - 1n);
  assert.equal(parseLiteral('-0x10'), U64 - 16n);
  assert.equal(parseLiteral('-010'), U64 - 8n);
  assert.equal(parseLiteral('18446744073709551615'), U64 - 1n);
  assert.equal(parseLiteral('0xffffffffffffffff'), U64 - 1n);
  assert.equal(parseLiteral('IPC_CREAT'), undefined);
});

test('literal errors: overflow, bad octal, suffix on non-decimal, lower-case suffix', () => {
  assert.throws(() => parseLiteral('18446744073709551616'), /does not fit in 64 bits/);
  assert.throws(() => parseLiteral('0x10000000000000000'), /does not fit/);
  assert.throws(() => parseLiteral('16777216T'), /does not fit/);
  assert.throws(() => parseLiteral('09'), /bad octal/);
  assert.throws(() => parseLiteral('0x10K'), /bad literal/);
  assert.throws(() => parseLiteral('010K'), /bad octal|bad literal/);
  assert.throws(() => parseLiteral('4k'), /bad literal/);
  assert.throws(() => parseLiteral('12abc'), /bad literal/);
});

test('flag expressions and constants', () => {
  assert.deepEqual(parseValue('IPC_CREAT|IPC_EXCL|0600'), { kind: 'const', value: 0o3600n });
  assert.deepEqual(parseValue('PAGE'), { kind: 'const', value: 4096n });
  assert.deepEqual(parseValue('INF'), { kind: 'const', value: U64 - 1n });
  assert.deepEqual(parseValue('CAP_IPC_LOCK'), { kind: 'const', value: 14n });
  assert.deepEqual(parseValue('MAP_SHARED|MAP_ANONYMOUS'), { kind: 'const', value: 0x21n });
  assert.deepEqual(parseValue('IPC_STAT|IPC_64'), { kind: 'const', value: 0x102n });
  assert.throws(() => parseValue('IPC_CREATE'), /unknown constant 'IPC_CREATE'/);
  assert.throws(() => parseValue('IPC_CREAT||0600'), /empty term/);
  assert.throws(() => parseValue('IPC_CREAT|$a'), /never contain variables/);
});

test('variables with one offset term', () => {
  assert.deepEqual(parseValue('$a'), { kind: 'var', name: 'a', offset: 0n });
  assert.deepEqual(parseValue('$a+0x1000'), { kind: 'var', name: 'a', offset: 0x1000n });
  assert.deepEqual(parseValue('$a+PAGE'), { kind: 'var', name: 'a', offset: 4096n });
  assert.deepEqual(parseValue('$m-1'), { kind: 'var', name: 'm', offset: U64 - 1n });
  assert.deepEqual(parseValue('$_x9+2M'), { kind: 'var', name: '_x9', offset: 2n << 20n });
  assert.throws(() => parseValue('$m+2M-1'), /only one literal or constant/);
  assert.throws(() => parseValue('$a+1+1'), /only one/);
  assert.throws(() => parseValue('$a+PAGE|1'), /only one/);
  assert.throws(() => parseValue('$9a'), /bad variable/);
  assert.throws(() => parseValue('$'), /bad variable/);
});

test('strings and escapes', () => {
  const t = tokenize('write $a "a b\\\\\\"\\n\\t\\x00\\xfF" # c');
  assert.equal(t.length, 3);
  const s = t[2]!;
  assert.equal(s.kind, 'string');
  assert.deepEqual([...(s as { bytes: Uint8Array }).bytes], [0x61, 0x20, 0x62, 0x5c, 0x22, 0x0a, 0x09, 0x00, 0xff]);
  assert.deepEqual([...(tokenize('write $a "é"')[2] as { bytes: Uint8Array }).bytes], [0xc3, 0xa9]);
  assert.deepEqual([...(tokenize('write $a ""')[2] as { bytes: Uint8Array }).bytes], []);
  assert.equal(tokenize('write $a "x"#c').length, 3);
  assert.equal(tokenize('write $a "#not a comment"')[2]!.kind, 'string');
  scriptError('write $a "abc', /unterminated string/);
  scriptError('write $a "\\q"', /unknown escape/);
  scriptError('write $a "\\x4"', /exactly two hex digits/);
  scriptError('write $a "\\xg0"', /exactly two hex digits/);
  scriptError('write $a "abc"def', /must be followed by white space/);
});

test('comments, blank lines, CR, tabs and line numbers', () => {
  const s = parseScript('# comment\n\n\tshmget\t1 4K IPC_CREAT|0600 -> $id # trailing\r\n  \nmaps\n', 'x.scn');
  assert.equal(s.lines.length, 2);
  const [a, b] = s.lines.map((l) => (l.ok ? l.value : assert.fail('error')));
  assert.equal(a!.line, 3);
  assert.equal(a!.bind, 'id');
  assert.equal(a!.command.verb, 'shmget');
  assert.equal(b!.line, 5);
  assert.equal(b!.command.verb, 'maps');
});

test('process prefix and binding', () => {
  const l = line('p1: shmat $id 0 SHM_RDONLY -> $b');
  assert.equal(l.proc, 'p1');
  assert.equal(l.bind, 'b');
  assert.equal(line('shmdt $a').proc, 'p0');
  scriptError('P1: exit', /bad process name/);
  scriptError('p1:', /missing verb/);
  scriptError('shmdt $a -> $x', /only allowed on shmget, shmat, mmap and mremap/);
  scriptError('shmget 1 1 0 -> x', /bad binding target/);
  scriptError('shmget 1 1 -> $x 0', /last two tokens/);
  scriptError('shmget 1 1 0 -> $x+1', /bad binding target/);
});

test('every verb parses with its arity', () => {
  const ok = [
    'fork p1', 'exit', 'creds uid=1000 gid=100', 'creds gid=5 uid=0 groups=1,2,3 caps=CAP_IPC_LOCK,CAP_IPC_OWNER',
    'creds uid=0 gid=0 groups= caps=', 'unshare ipc', 'setrlimit MEMLOCK 0 INF', 'sysctl kernel.shmmax',
    'sysctl kernel.shm_next_id 12345', 'shmget IPC_PRIVATE 4K 0600', 'shmat $id 0 0', 'shmdt $a',
    'shmctl $id IPC_STAT', 'shmctl $id IPC_SET uid=1 gid=2 mode=0600', 'shmctl 0 99',
    'mmap 0 PAGE PROT_READ MAP_PRIVATE|MAP_ANONYMOUS', 'munmap $a PAGE', 'mprotect $a PAGE PROT_NONE',
    'mremap $a PAGE 2*1 MREMAP_MAYMOVE'.replace('2*1', '8K'), 'mremap $a PAGE PAGE MREMAP_MAYMOVE|MREMAP_FIXED $b',
    'madvise $a PAGE MADV_DONTNEED', 'write $a "x"', 'fill $a 4K 0x41', 'read $a 5', 'maps', 'vmas $a 8K', 'sysvipc',
  ];
  for (const t of ok) assert.ok(line(t), t);
  const c = line('creds gid=5 uid=0 groups=1,2,3 caps=CAP_IPC_LOCK,CAP_IPC_OWNER').command;
  assert.equal(c.verb, 'creds');
  if (c.verb === 'creds') {
    assert.equal(c.groups.length, 3);
    assert.deepEqual(c.caps, [14n, 15n]);
  }
});

test('script errors for each verb', () => {
  scriptError('frobnicate 1', /unknown verb 'frobnicate'/);
  scriptError('fork', /takes 1 argument/);
  scriptError('fork P1', /bad process name/);
  scriptError('exit now', /takes 0 arguments/);
  scriptError('creds uid=0', /needs uid= and gid=/);
  scriptError('creds uid=0 gid=0 uid=1', /duplicate argument 'uid='/);
  scriptError('creds uid=0 gid=0 caps=CAP_NOPE', /unknown capability/);
  scriptError('creds uid=0 gid=0 mode=1', /'mode=' is not an argument of 'creds'/);
  scriptError('unshare net', /takes 'ipc'/);
  scriptError('setrlimit STACK 1 1', /only MEMLOCK/);
  scriptError('setrlimit MEMLOCK 1', /takes 3 arguments/);
  scriptError('sysctl kernel.msgmax', /unknown sysctl/);
  scriptError('sysctl', /takes 1 to 2 arguments/);
  scriptError('shmget 1 2', /takes 3 arguments/);
  scriptError('shmget 1 2 3 uid=1', /'uid=' is not an argument of 'shmget'/);
  scriptError('shmctl $id IPC_SET uid=1 gid=2', /needs all of uid=, gid= and mode=/);
  scriptError('shmctl $id IPC_SET uid=1 gid=2 mode=3 seq=4', /'seq=' is not an argument/);
  scriptError('mremap $a 1 2', /takes 4 to 5 arguments/);
  scriptError('write $a x', /must be a string/);
  scriptError('read "x" 1', /must not be a string/);
  scriptError('maps 1', /takes 0 arguments/);
  scriptError('vmas $a', /takes 2 arguments/);
  scriptError('shmget 1 99999999999999999999 0', /does not fit in 64 bits/);
});

test('a parse error is kept and raised only at its line', () => {
  const s = parseScript('shmget 1 1 IPC_CREAT\nbogus\nmaps\n', 'f.scn');
  assert.equal(s.lines.length, 3);
  assert.ok(s.lines[0]!.ok);
  const bad = s.lines[1]!;
  assert.ok(!bad.ok);
  if (!bad.ok) assert.equal(bad.error.report(), "f.scn:2: unknown verb 'bogus'");
});
