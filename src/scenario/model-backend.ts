/**
 * The model backend: runs scenarios on this project's kernel.
 * (Being built: until the kernel core lands, every scenario stops with one
 * clear line.)
 */
import type { Backend } from './backend.js';

/** A command the model cannot perform yet: one clear line, exit status 2. */
export class UnsupportedError extends Error {
  constructor(message: string, public line?: number) {
    super(message);
    this.name = 'UnsupportedError';
  }
}

export function createModelBackend(): Backend {
  throw new UnsupportedError('the model kernel cannot run scenarios yet');
}
