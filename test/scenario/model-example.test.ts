import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('`sysvshm run` prints the scenario spec example exactly as Linux does', () => {
  const r = spawnSync(process.execPath, [root + 'bin/sysvshm.js', 'run', root + 'test/fixtures/spec-example.scn'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, readFileSync(root + 'test/fixtures/spec-example.out', 'utf8'));
});

test('`sysvshm run` reports a script error as FILE:LINE: message with exit status 2', () => {
  const f = root + 'test/fixtures/script-error.scn';
  const r = spawnSync(process.execPath, [root + 'bin/sysvshm.js', 'run', f], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '2: 0\n');
  assert.equal(r.stderr, `${f}:3: unbound variable '$nope'\n`);
});

test('`npm start` (the tour) runs and leaves nothing behind', () => {
  const r = spawnSync(process.execPath, [root + 'bin/sysvshm.js', 'tour'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /== \/proc\/sysvipc\/shm ==/);
  assert.match(r.stdout, /after every process exits: 0 pages allocated, 0 segment\(s\) left/);
});
