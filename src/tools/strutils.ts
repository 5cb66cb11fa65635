/**
 * util-linux lib/strutils.c (2.38): the number parsers with their error
 * messages (str2num_or_err, strtosize_or_err), parse_size() and
 * size_to_human_string().
 */
import { Errno } from '../abi/errno.js';
import { isdigit, isspace, strtoimax, strtoumax, type ToolIo } from './libc.js';

const UINTMAX_MAX = (1n << 64n) - 1n;
const INT32_MIN = -(1n << 31n);
const INT32_MAX = (1n << 31n) - 1n;

/** lib/strutils.c ul_strtos64(): 0, or a negative errno (EINVAL: empty or trailing garbage). */
function ulStrtos64(str: string, base: number): { rc: number; num: bigint } {
  if (str === '') return { rc: -Errno.EINVAL, num: 0n };
  const r = strtoimax(str, base);
  if (r.errno) return { rc: -r.errno, num: r.value };
  if (r.end === 0 || r.end !== str.length) return { rc: -Errno.EINVAL, num: r.value };
  return { rc: 0, num: r.value };
}

/**
 * lib/strutils.c str2num_or_err() as strtos32_or_err() calls it: base 10,
 * INT32 range; "MSG: 'STR'" and exit 1 on failure, with ": Numerical result
 * out of range" (err(3)) for ERANGE.
 */
export function strtos32OrErr(io: ToolIo, str: string, errmesg: string): number {
  let { rc, num } = ulStrtos64(str, 10);
  if (rc === 0 && (num < INT32_MIN || num > INT32_MAX)) rc = -Errno.ERANGE;
  if (rc) {
    if (rc === -Errno.ERANGE) io.err(1, `${errmesg}: '${str}'`, Errno.ERANGE);
    io.errx(1, `${errmesg}: '${str}'`);
  }
  return Number(num);
}

/** do_scale_by_power(): x * base^power, or null on overflow (-ERANGE). */
function scaleByPower(x: bigint, base: bigint, power: number): bigint | null {
  while (power--) {
    if (UINTMAX_MAX / base < x) return null;
    x *= base;
  }
  return x;
}

const SUF = 'KMGTPEZY';
const SUF2 = 'kmgtpezy';

/**
 * lib/strutils.c parse_size(): "10K" = 10240, "10KiB" = 10240, "10KB" = 10000,
 * "0.5M" = 524288, hexadecimal and octal prefixes as strtoumax(base 0), no
 * negative numbers. Returns the value or a negative errno. The decimal point
 * is the C locale's ".".
 */
export function parseSize(str: string): { rc: number; value: bigint } {
  const at = (i: number) => (i < str.length ? str[i]! : '\0');
  if (str === '') return { rc: -Errno.EINVAL, value: 0n };
  let i = 0;
  while (isspace(str[i])) i++;
  if (str[i] === '-') return { rc: -Errno.EINVAL, value: 0n };

  const r = strtoumax(str, 0);
  let x = r.value;
  if (r.end === 0 || (r.errno !== 0 && (x === UINTMAX_MAX || x === 0n))) {
    return { rc: r.errno ? -r.errno : -Errno.EINVAL, value: 0n };
  }
  if (r.end >= str.length) return { rc: 0, value: x };  // without suffix
  let p = r.end;
  let base = 1024n;
  let frac = 0n;
  let fracZeros = 0;

  for (;;) {  // check_suffix:
    if (at(p + 1) === 'i' && (at(p + 2) === 'B' || at(p + 2) === 'b') && at(p + 3) === '\0') {
      base = 1024n;  // XiB, 2^N
    } else if ((at(p + 1) === 'B' || at(p + 1) === 'b') && at(p + 2) === '\0') {
      base = 1000n;  // XB, 10^N
    } else if (at(p + 1) !== '\0') {
      if (frac === 0n && at(p) === '.') {
        let q = p + 1;
        while (at(q) === '0') { fracZeros++; q++; }
        let end: number;
        if (isdigit(at(q))) {
          const f = strtoumax(str.slice(q), 0);
          if (f.end === 0 || (f.errno !== 0 && (f.value === UINTMAX_MAX || f.value === 0n))) {
            return { rc: f.errno ? -f.errno : -Errno.EINVAL, value: 0n };
          }
          frac = f.value;
          end = q + f.end;
        } else {
          end = q;
        }
        if (frac !== 0n && end >= str.length) return { rc: -Errno.EINVAL, value: 0n };  // frac without suffix
        p = end;
        continue;
      }
      return { rc: -Errno.EINVAL, value: 0n };  // unexpected suffix
    }
    break;
  }

  let pwr = SUF.indexOf(at(p)) + 1;
  if (pwr === 0) pwr = SUF2.indexOf(at(p)) + 1;
  if (pwr === 0 || at(p) === '\0') return { rc: -Errno.EINVAL, value: 0n };

  const scaled = scaleByPower(x, base, pwr);
  let rc = 0;
  if (scaled === null) rc = -Errno.ERANGE;
  else x = scaled;
  if (frac !== 0n && pwr) {
    let fracDiv = 10n;
    let fracPoz = 1n;
    const fracBase = scaleByPower(1n, base, pwr) ?? 1n;
    while (fracDiv < frac) {
      if (fracDiv <= UINTMAX_MAX / 10n) fracDiv *= 10n;
      else frac /= 10n;
    }
    for (let k = 0; k < fracZeros; k++) {
      if (fracDiv <= UINTMAX_MAX / 10n) fracDiv *= 10n;
      else frac /= 10n;
    }
    do {
      const seg = frac % 10n;
      const segDiv = fracDiv / fracPoz;
      frac /= 10n;
      fracPoz *= 10n;
      if (seg && segDiv / seg) x = BigInt.asUintN(64, x + fracBase / (segDiv / seg));
    } while (frac);
  }
  return { rc, value: rc < 0 ? 0n : x };
}

/** lib/strutils.c strtosize_or_err(): "MSG: 'STR': strerror" and exit 1 on failure. */
export function strtosizeOrErr(io: ToolIo, str: string, errmesg: string): bigint {
  const r = parseSize(str);
  if (r.rc === 0) return r.value;
  io.err(1, `${errmesg}: '${str}'`, -r.rc);
}

/** get_exp(): the exponent of 2 (0, 10, ..., 60) of the largest unit not above n. */
function getExp(n: bigint): number {
  let shft = 10;
  for (; shft <= 60; shft += 10) if (n < 1n << BigInt(shft)) break;
  return shft - 10;
}

/** lib/strutils.c size_to_human_string(SIZE_SUFFIX_1LETTER): "9.8K", "1M", "100B", "16E". */
export function sizeToHumanString(bytes: bigint): string {
  bytes = BigInt.asUintN(64, bytes);
  const exp = getExp(bytes);
  const letter = 'BKMGTPE'[exp ? exp / 10 : 0]!;
  let dec = exp ? bytes / (1n << BigInt(exp)) : bytes;
  let frac = exp ? bytes % (1n << BigInt(exp)) : 0n;
  if (frac) {
    // three digits after the decimal point, then round to one
    if (frac >= UINTMAX_MAX / 1000n) frac = ((frac / 1024n) * 1000n) / (1n << BigInt(exp - 10));
    else frac = (frac * 1000n) / (1n << BigInt(exp));
    frac = ((frac + 50n) / 100n) * 10n;
    if (frac === 100n) {
      dec++;
      frac = 0n;
    }
  }
  if (frac) {
    let s = `${dec}.${String(frac).padStart(2, '0')}`;
    if (s.endsWith('0')) s = s.slice(0, -1);  // remove the extraneous zero
    return s + letter;
  }
  return `${dec}${letter}`;
}
