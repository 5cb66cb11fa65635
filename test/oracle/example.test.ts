import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runFile } from '../../src/cli/runner.js';
import { outputText } from '../../src/scenario/corpus.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const example = root + 'test/fixtures/spec-example.scn';
const expected = readFileSync(root + 'test/fixtures/spec-example.out', 'utf8');

test('the scenario spec example prints exactly its listed output on the real kernel', async () => {
  const { lines, error } = await runFile(example, 'oracle');
  assert.equal(error, null);
  assert.equal(outputText(lines), expected);
});

test('the oracle CLI prints the same bytes and exits 0', () => {
  const r = spawnSync(process.execPath, [root + 'bin/sysvshm.js', 'oracle', example], {
    encoding: 'utf8', env: { ...process.env, ORACLE_QUIET: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, expected);
  assert.equal(r.stderr, '');
});

test('a script error prints FILE:LINE: message, exit 2, after the earlier results', () => {
  const dir = root + 'test/fixtures/';
  const r = spawnSync(process.execPath, [root + 'bin/sysvshm.js', 'oracle', dir + 'script-error.scn'], {
    encoding: 'utf8', env: { ...process.env, ORACLE_QUIET: '1' },
  });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '2: 0\n');
  assert.equal(r.stderr, `${dir}script-error.scn:3: unbound variable '$nope'\n`);
});
