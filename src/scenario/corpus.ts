/**
 * The conformance corpus on disk: `.scn` scripts in area folders, each with
 * its golden output `.out` (recorded on the real kernel) beside it.
 */
import { readdirSync, statSync, existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface CorpusEntry {
  /** Path of the script. */
  file: string;
  /** Path of its golden output. */
  golden: string;
  /** The area: the first folder below the corpus root ('.' for scripts at the root). */
  area: string;
}

/** Every `.scn` below `root` (or `root` itself if it is a file), sorted by path. */
export function listCorpus(root: string): CorpusEntry[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.scn')) files.push(p);
    }
  };
  if (statSync(root).isDirectory()) walk(root);
  else files.push(root);
  return files.map((file) => {
    const rel = relative(root, file);
    const parts = rel.split(sep);
    return { file, golden: file.replace(/\.scn$/, '.out'), area: parts.length > 1 ? parts[0]! : '.' };
  });
}

/** The golden output of an entry, or null when none was recorded. */
export function readGolden(e: CorpusEntry): string | null {
  return existsSync(e.golden) ? readFileSync(e.golden, 'utf8') : null;
}

/** The output text of a run: result lines, each ending in a newline. */
export function outputText(lines: string[]): string {
  return lines.map((l) => l + '\n').join('');
}

/** The first line where two outputs differ, for failure reports. */
export function firstDifference(expected: string, actual: string): { line: number; expected: string; actual: string } | null {
  if (expected === actual) return null;
  const e = expected.split('\n');
  const a = actual.split('\n');
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i]) return { line: i + 1, expected: e[i] ?? '<end of output>', actual: a[i] ?? '<end of output>' };
  }
  return null;
}
