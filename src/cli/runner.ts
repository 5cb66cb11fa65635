/**
 * Running one scenario file on a backend: shared by `run`, `oracle`,
 * `conformance` and `--record`.
 */
import { readFileSync } from 'node:fs';
import { parseScript } from '../scenario/parser.js';
import { runScript, type Sink } from '../scenario/interpreter.js';
import { ScriptError } from '../scenario/errors.js';
import type { Backend } from '../scenario/backend.js';

/** Exit statuses of the CLI. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_SCRIPT = 2;
export const EXIT_ENV = 3;

export type BackendKind = 'model' | 'oracle';

/** Creates a backend of the given kind (the oracle is loaded only when asked for). */
export async function makeBackend(kind: BackendKind): Promise<Backend> {
  if (kind === 'model') {
    const { createModelBackend } = await import('../scenario/model-backend.js');
    return createModelBackend();
  }
  const { OracleBackend } = await import('../oracle/oracle-backend.js');
  return new OracleBackend({ quiet: process.env.ORACLE_QUIET === '1' });
}

/** True for errors that mean "the oracle cannot run on this machine". */
export async function isEnvironmentError(e: unknown): Promise<boolean> {
  try {
    const { OracleUnavailableError } = await import('../oracle/build.js');
    return e instanceof OracleUnavailableError;
  } catch {
    return false;
  }
}

/**
 * Runs one scenario file and returns its output lines. A script error is
 * returned with the lines printed before it.
 */
export async function runFile(
  file: string, kind: BackendKind, sink?: Sink,
): Promise<{ lines: string[]; error: ScriptError | null }> {
  const lines: string[] = [];
  const out: Sink = (l) => { lines.push(l); sink?.(l); };
  const script = parseScript(readFileSync(file, 'utf8'), file);
  try {
    await runScript(script, await makeBackend(kind), out);
    return { lines, error: null };
  } catch (e) {
    if (e instanceof ScriptError) return { lines, error: e };
    throw e;
  }
}

