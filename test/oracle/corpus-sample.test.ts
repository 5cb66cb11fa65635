import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { listCorpus, readGolden, outputText } from '../../src/scenario/corpus.js';
import { runFile } from '../../src/cli/runner.js';

const root = fileURLToPath(new URL('../../../conformance/', import.meta.url));

/** Every area's first, middle and last script: a sample that changes when the corpus grows. */
function sample() {
  const byArea = new Map<string, ReturnType<typeof listCorpus>>();
  for (const e of listCorpus(root)) {
    const list = byArea.get(e.area) ?? [];
    list.push(e);
    byArea.set(e.area, list);
  }
  const picked = [];
  for (const list of byArea.values()) {
    for (const i of new Set([0, Math.floor(list.length / 2), list.length - 1])) picked.push(list[i]!);
  }
  return picked;
}

test('the oracle reproduces the golden output of a corpus sample, byte for byte (determinism)', async () => {
  const entries = sample();
  assert.ok(entries.length >= 30, `sample too small: ${entries.length}`);
  for (const e of entries) {
    const golden = readGolden(e);
    assert.notEqual(golden, null, `${e.file} has no golden output`);
    const { lines, error } = await runFile(e.file, 'oracle');
    assert.equal(error, null, `${e.file}: ${error?.report()}`);
    assert.equal(outputText(lines), golden, `${e.file} differs from its golden output`);
  }
});
