/**
 * The error the high-level API throws for a failed system call, shaped like
 * Node's `fs` errors: `code` is the errno name, `errno` its negative number
 * (as Node does), `syscall` the call that failed.
 */
import { errnoName } from './errno.js';

export class SysError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;

  constructor(syscall: string, errno: number) {
    const code = errnoName(errno);
    super(`${code}: ${syscall} failed`);
    this.name = 'SysError';
    this.code = code;
    this.errno = -errno;
    this.syscall = syscall;
  }
}

/** Turns a raw kernel return value (negative errno on failure) into a value or a thrown SysError. */
export function check(syscall: string, ret: number): number {
  if (ret < 0) throw new SysError(syscall, -ret);
  return ret;
}
