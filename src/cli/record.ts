/**
 * `sysvshm oracle --record DIR`: runs every scenario under DIR on the real
 * kernel twice, checks that both runs print the same bytes, and writes the
 * output as the golden `.out` beside the script.
 */
import { writeFileSync } from 'node:fs';
import { listCorpus, outputText } from '../scenario/corpus.js';
import { runFile, isEnvironmentError, EXIT_OK, EXIT_FAIL, EXIT_ENV, EXIT_SCRIPT } from './runner.js';

export async function recordCommand(dir: string): Promise<number> {
  const entries = listCorpus(dir);
  let nondeterministic = 0;
  let scriptErrors = 0;
  for (const entry of entries) {
    try {
      const first = await runFile(entry.file, 'oracle');
      if (first.error) {
        scriptErrors++;
        process.stderr.write(first.error.report() + '\n');
        continue;
      }
      const second = await runFile(entry.file, 'oracle');
      const a = outputText(first.lines);
      const b = outputText(second.lines);
      if (a !== b) {
        nondeterministic++;
        process.stdout.write(`NONDETERMINISTIC ${entry.file} (not recorded)\n`);
        continue;
      }
      writeFileSync(entry.golden, a);
      process.stdout.write(`recorded ${entry.golden}\n`);
    } catch (e) {
      if (await isEnvironmentError(e)) {
        process.stderr.write(`${(e as Error).message}\n`);
        return EXIT_ENV;
      }
      throw e;
    }
  }
  process.stdout.write(`${entries.length - nondeterministic - scriptErrors}/${entries.length} recorded\n`);
  if (scriptErrors > 0) return EXIT_SCRIPT;
  return nondeterministic > 0 ? EXIT_FAIL : EXIT_OK;
}
