/** Test helpers for differential tests that need the Linux oracle. */
import assert from 'node:assert/strict';
import { ensureOracle, OracleUnavailableError } from '../../src/oracle/build.js';
import type { SysResult } from '../../src/scenario/backend.js';

/**
 * Builds the oracle once; resolves to false when it can run here, or to the
 * one-line reason it cannot (no cc, not root). Differential tests fail with
 * that reason rather than skip: on this project's machines the oracle always
 * runs, and a skip would hide a broken build behind a green run.
 */
export async function oracleUnavailable(): Promise<string | false> {
  try {
    await ensureOracle();
    return false;
  } catch (e) {
    if (e instanceof OracleUnavailableError) return e.message;
    throw e;
  }
}

/** The value of a successful backend call; fails the test with the errno otherwise. */
export function ok<T>(r: SysResult<T>, what: string): T {
  if (!r.ok) assert.fail(`${what}: errno ${r.errno}`);
  return r.value;
}
