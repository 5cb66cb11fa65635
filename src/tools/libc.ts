/**
 * The pieces of the C library the util-linux IPC tools rely on, with glibc's
 * behaviour in the C locale: printf field formatting, strtol(3)-family
 * parsing, strerror(3) texts, ctime(3), and err(3)/warnx(3) output on a
 * captured stdout/stderr.
 */
import { Errno } from '../abi/errno.js';

/** exit(3) from inside a tool: unwinds to the tool's entry point. */
export class ToolExit extends Error {
  constructor(readonly status: number) {
    super(`exit(${status})`);
    this.name = 'ToolExit';
  }
}

/** glibc's strerror(3) texts (C locale) for the errnos the IPC tools can see. */
const ERRNO_TEXT: Record<number, string> = {
  0: 'Success',
  [Errno.EPERM]: 'Operation not permitted',
  [Errno.ENOENT]: 'No such file or directory',
  [Errno.ESRCH]: 'No such process',
  [Errno.EINTR]: 'Interrupted system call',
  [Errno.EIO]: 'Input/output error',
  [Errno.E2BIG]: 'Argument list too long',
  [Errno.EBADF]: 'Bad file descriptor',
  [Errno.EAGAIN]: 'Resource temporarily unavailable',
  [Errno.ENOMEM]: 'Cannot allocate memory',
  [Errno.EACCES]: 'Permission denied',
  [Errno.EFAULT]: 'Bad address',
  [Errno.EBUSY]: 'Device or resource busy',
  [Errno.EEXIST]: 'File exists',
  [Errno.ENOTDIR]: 'Not a directory',
  [Errno.EISDIR]: 'Is a directory',
  [Errno.EINVAL]: 'Invalid argument',
  [Errno.ENFILE]: 'Too many open files in system',
  [Errno.EMFILE]: 'Too many open files',
  [Errno.EFBIG]: 'File too large',
  [Errno.ENOSPC]: 'No space left on device',
  [Errno.ERANGE]: 'Numerical result out of range',
  [Errno.ENOSYS]: 'Function not implemented',
  [Errno.EIDRM]: 'Identifier removed',
  [Errno.EOVERFLOW]: 'Value too large for defined data type',
};

/** strerror(3). */
export function strerror(errno: number): string {
  return ERRNO_TEXT[errno] ?? `Unknown error ${errno}`;
}

// ---------------------------------------------------------------- printf

/** printf's widths and precisions count bytes: the UTF-8 length of a string. */
function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** "%-Ns": left-justified in N columns (never truncated). */
export function padLeft(v: string | number | bigint, width: number): string {
  const s = String(v);
  return s + ' '.repeat(Math.max(0, width - bytes(s)));
}

/** "%Ns": right-justified in N columns. */
export function padRight(v: string | number | bigint, width: number): string {
  const s = String(v);
  return ' '.repeat(Math.max(0, width - bytes(s))) + s;
}

/**
 * "%-W.Ps": at most P bytes, left-justified in W columns. A multibyte
 * character cut by the precision decodes as U+FFFD, as the real output does
 * when read as UTF-8.
 */
export function field(s: string, width: number, precision: number): string {
  const b = Buffer.from(s, 'utf8');
  const cut = b.length > precision ? b.subarray(0, precision) : b;
  return cut.toString('utf8') + ' '.repeat(Math.max(0, width - cut.length));
}

/** "%o" of an unsigned int. */
export function octal(n: number): string {
  return (n >>> 0).toString(8);
}

/** "%#o": a leading 0 unless the value is 0. */
export function altOctal(n: number): string {
  const s = octal(n);
  return s === '0' ? '0' : '0' + s;
}

/** "%u" of a value stored in an unsigned int. */
export function u32(n: number | bigint): string {
  return BigInt.asUintN(32, BigInt(n)).toString();
}

/** "%d" of a value stored in an int. */
export function s32(n: number | bigint): string {
  return BigInt.asIntN(32, BigInt(n)).toString();
}

/** "%ld" / "%jd" of a 64-bit value. */
export function s64(n: number | bigint): string {
  return BigInt.asIntN(64, BigInt(n)).toString();
}

/** "%lu" / "%ju" of a 64-bit value. */
export function u64(n: number | bigint): string {
  return BigInt.asUintN(64, BigInt(n)).toString();
}

/** "0x%08x" of an int. */
export function hex8(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------- strtol

const UINTMAX_MAX = (1n << 64n) - 1n;
const INTMAX_MAX = (1n << 63n) - 1n;
const INTMAX_MIN = -(1n << 63n);

/** isspace(3) in the C locale. */
export function isspace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

export function isdigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function digitValue(c: string | undefined): number {
  if (c === undefined) return 99;
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 87;
  if (c >= 'A' && c <= 'Z') return c.charCodeAt(0) - 55;
  return 99;
}

/** The result of a strto*(3) call: the value, where parsing stopped, and errno (0 or ERANGE). */
export interface StrtoResult {
  value: bigint;
  /** Index of the first unparsed character (0 when no number was found: endptr == nptr). */
  end: number;
  errno: number;
}

/**
 * The common scanner of glibc's ____strtoul_l_internal: white space, a sign,
 * the base prefix (base 0: 0x -> 16, 0 -> 8, else 10; base 16 accepts 0x),
 * digits. Returns the magnitude (saturated) and whether it overflowed 2^64.
 */
function scan(str: string, base: number): { neg: boolean; mag: bigint; end: number; overflow: boolean } {
  let i = 0;
  while (isspace(str[i])) i++;
  let neg = false;
  if (str[i] === '-') { neg = true; i++; } else if (str[i] === '+') i++;
  if ((base === 0 || base === 16) && str[i] === '0' && (str[i + 1] === 'x' || str[i + 1] === 'X')) {
    if (digitValue(str[i + 2]) < 16) {
      i += 2;
      base = 16;
    } else {
      // "0x" without a hex digit: the "0" is the number, end points at 'x'.
      return { neg, mag: 0n, end: i + 1, overflow: false };
    }
  } else if (base === 0) {
    base = str[i] === '0' ? 8 : 10;
  }
  const start = i;
  let mag = 0n;
  let overflow = false;
  const b = BigInt(base);
  while (digitValue(str[i]) < base) {
    if (!overflow) {
      mag = mag * b + BigInt(digitValue(str[i]));
      if (mag > UINTMAX_MAX) overflow = true;
    }
    i++;
  }
  if (i === start) return { neg: false, mag: 0n, end: 0, overflow: false };
  return { neg, mag, end: i, overflow };
}

/** strtoumax(3) / strtoul(3) on LP64: a '-' negates modulo 2^64; overflow gives UINTMAX_MAX and ERANGE. */
export function strtoumax(str: string, base: number): StrtoResult {
  const s = scan(str, base);
  if (s.overflow) return { value: UINTMAX_MAX, end: s.end, errno: Errno.ERANGE };
  return { value: s.neg ? BigInt.asUintN(64, -s.mag) : s.mag, end: s.end, errno: 0 };
}

/** strtoimax(3) / strtol(3) on LP64: saturates at INTMAX_MIN/INTMAX_MAX with ERANGE. */
export function strtoimax(str: string, base: number): StrtoResult {
  const s = scan(str, base);
  if (s.neg) {
    if (s.overflow || s.mag > -INTMAX_MIN) return { value: INTMAX_MIN, end: s.end, errno: Errno.ERANGE };
    return { value: -s.mag, end: s.end, errno: 0 };
  }
  if (s.overflow || s.mag > INTMAX_MAX) return { value: INTMAX_MAX, end: s.end, errno: Errno.ERANGE };
  return { value: s.mag, end: s.end, errno: 0 };
}

/** (int) of a C long: the low 32 bits, two's complement. */
export function toInt(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

// ---------------------------------------------------------------- time

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TIME_MAX_MS = 8.64e15;

/**
 * ctime(3) without its newline ("Sun Nov 22 12:32:51 2026", glibc asctime's
 * "%.3s %.3s%3d %.2d:%.2d:%.2d %d"), or null where ctime returns NULL.
 * A clock formatter for the tools: given seconds since the epoch.
 */
export type CtimeFunction = (seconds: bigint) => string | null;

function asctime(d: Date, utc: boolean): string {
  const g = utc
    ? [d.getUTCDay(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCFullYear()]
    : [d.getDay(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getFullYear()];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[g[0]!]} ${MONTHS[g[1]!]}${String(g[2]).padStart(3, ' ')} ${two(g[3]!)}:${two(g[4]!)}:${two(g[5]!)} ${g[6]}`;
}

function toDate(seconds: bigint): Date | null {
  const ms = Number(seconds) * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > TIME_MAX_MS) return null;
  return new Date(ms);
}

/** ctime(3) in this Node process's local time zone (TZ), like the real tools. */
export const ctimeLocal: CtimeFunction = (seconds) => {
  const d = toDate(seconds);
  return d ? asctime(d, false) : null;
};

/** ctime(3) with TZ=UTC: deterministic, and what the oracle's tools print. */
export const ctimeUtc: CtimeFunction = (seconds) => {
  const d = toDate(seconds);
  return d ? asctime(d, true) : null;
};

/** printf("%s", p) of a possibly NULL pointer: glibc prints "(null)". */
export function cstr(s: string | null): string {
  return s ?? '(null)';
}

// ---------------------------------------------------------------- stdio + err(3)

/**
 * A tool's standard output and error, and the err(3) family writing
 * "PROGRAM: message" to stderr (program_invocation_short_name).
 */
export class ToolIo {
  private readonly out: string[] = [];
  private readonly errs: string[] = [];

  constructor(readonly prog: string) {}

  /** printf(3) to stdout. */
  print(s: string): void {
    this.out.push(s);
  }

  /** fprintf(stderr, ...). */
  eprint(s: string): void {
    this.errs.push(s);
  }

  /** warnx(3). */
  warnx(msg: string): void {
    this.errs.push(`${this.prog}: ${msg}\n`);
  }

  /** warn(3): the message and strerror(errno). */
  warn(msg: string, errno: number): void {
    this.errs.push(`${this.prog}: ${msg}: ${strerror(errno)}\n`);
  }

  /** errx(3). */
  errx(status: number, msg: string): never {
    this.warnx(msg);
    throw new ToolExit(status);
  }

  /** err(3). */
  err(status: number, msg: string, errno: number): never {
    this.warn(msg, errno);
    throw new ToolExit(status);
  }

  /** include/c.h errtryhelp(). */
  errtryhelp(status: number): never {
    this.errs.push(`Try '${this.prog} --help' for more information.\n`);
    throw new ToolExit(status);
  }

  /** include/c.h print_version(): UTIL_LINUX_VERSION. */
  printVersion(): never {
    this.print(`${this.prog} from util-linux 2.38.1\n`);
    throw new ToolExit(0);
  }

  get stdout(): string {
    return this.out.join('');
  }

  get stderr(): string {
    return this.errs.join('');
  }
}
