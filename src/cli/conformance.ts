/**
 * `sysvshm conformance [DIR]`: runs every scenario of the corpus on the model
 * and compares it with its golden output, per area; `--oracle` also checks
 * that the goldens still match the live kernel of this machine.
 */
import { listCorpus, readGolden, outputText, firstDifference, type CorpusEntry } from '../scenario/corpus.js';
import { runFile, isEnvironmentError, EXIT_OK, EXIT_FAIL, EXIT_ENV, type BackendKind } from './runner.js';

export interface ConformanceOptions { oracle: boolean; verbose: boolean }

export interface ScriptOutcome {
  entry: CorpusEntry;
  passed: boolean;
  /** Why it failed: the first differing line, a script error, or a crash. */
  reason?: string;
}

/** Runs one corpus entry on a backend and compares it with its golden output. */
export async function checkEntry(entry: CorpusEntry, kind: BackendKind): Promise<ScriptOutcome> {
  const golden = readGolden(entry);
  if (golden === null) return { entry, passed: false, reason: 'no golden output (.out) recorded' };
  let text: string;
  try {
    const { lines, error } = await runFile(entry.file, kind);
    if (error) return { entry, passed: false, reason: `script error: ${error.report()}` };
    text = outputText(lines);
  } catch (e) {
    if (kind === 'oracle' && (await isEnvironmentError(e))) throw e;
    return { entry, passed: false, reason: `crashed: ${(e as Error).stack ?? e}` };
  }
  const d = firstDifference(golden, text);
  if (!d) return { entry, passed: true };
  return { entry, passed: false, reason: `output line ${d.line}: expected '${d.expected}', got '${d.actual}'` };
}

export async function conformanceCommand(dir: string, opts: ConformanceOptions): Promise<number> {
  let entries: CorpusEntry[];
  try {
    entries = listCorpus(dir);
  } catch {
    process.stderr.write(`sysvshm conformance: cannot read '${dir}'\n`);
    return EXIT_FAIL;
  }
  const areas = new Map<string, { passed: number; total: number }>();
  const failures: ScriptOutcome[] = [];
  for (const entry of entries) {
    const o = await checkEntry(entry, 'model');
    const a = areas.get(entry.area) ?? { passed: 0, total: 0 };
    a.total++;
    if (o.passed) a.passed++;
    else failures.push(o);
    areas.set(entry.area, a);
  }
  const width = Math.max(8, ...[...areas.keys()].map((k) => k.length));
  process.stdout.write(`${'area'.padEnd(width)}  passed/total\n`);
  let passed = 0;
  for (const [area, a] of [...areas].sort(([x], [y]) => x.localeCompare(y))) {
    process.stdout.write(`${area.padEnd(width)}  ${a.passed}/${a.total}\n`);
    passed += a.passed;
  }
  process.stdout.write(`${'all'.padEnd(width)}  ${passed}/${entries.length}\n`);
  for (const f of failures) {
    const reason = opts.verbose ? f.reason : f.reason?.split('\n')[0];
    process.stdout.write(`FAIL ${f.entry.file}: ${reason}\n`);
  }
  let stale = 0;
  if (opts.oracle) {
    process.stdout.write(`\nre-running ${entries.length} scenarios on the live kernel...\n`);
    for (const entry of entries) {
      let o: ScriptOutcome;
      try {
        o = await checkEntry(entry, 'oracle');
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        return EXIT_ENV;
      }
      if (!o.passed) {
        stale++;
        process.stdout.write(`STALE ${entry.file}: ${o.reason}\n`);
      }
    }
    process.stdout.write(`${stale === 0 ? 'every golden output matches this kernel' : `${stale} golden outputs differ from this kernel`}\n`);
  }
  return failures.length === 0 && stale === 0 ? EXIT_OK : EXIT_FAIL;
}
