/**
 * The whole conformance corpus on the model: every script's output must be
 * byte-identical to its golden output recorded on Linux.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { listCorpus } from '../../src/scenario/corpus.js';
import { checkEntry } from '../../src/cli/conformance.js';

const root = fileURLToPath(new URL('../../../conformance/', import.meta.url));
const entries = listCorpus(root);
const areas = [...new Set(entries.map((e) => e.area))].sort();

test('the corpus has at least 250 scripts and 10 per area', () => {
  assert.ok(entries.length >= 250, `${entries.length} scripts`);
  for (const a of areas) assert.ok(entries.filter((e) => e.area === a).length >= 10, a);
});

for (const area of areas) {
  test(`conformance: ${area}`, async (t) => {
    for (const e of entries.filter((x) => x.area === area)) {
      await t.test(e.file.slice(root.length), async () => {
        const o = await checkEntry(e, 'model');
        assert.ok(o.passed, o.reason);
      });
    }
  });
}
