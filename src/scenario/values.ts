/**
 * Values of the scenario language (scenario spec section 2): literals,
 * constants, flag expressions and variables with one `+`/`-` term. All
 * arithmetic is on unsigned 64-bit integers and wraps.
 */
import { constantValue } from './constants.js';

export const U64 = 1n << 64n;
export const U64_MASK = U64 - 1n;

/** An argument value before variables are resolved. */
export type ValueExpr =
  | { kind: 'const'; value: bigint }
  | { kind: 'var'; name: string; offset: bigint };

/** Thrown for a malformed value; the parser attaches the line number. */
export class ValueError extends Error {}

export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Wraps any bigint into [0, 2^64). */
export function wrap64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/**
 * Parses an integer literal: decimal (optional K/M/G/T suffix), hexadecimal
 * `0x..`, or octal with a leading zero; a leading `-` negates (wrapping).
 * Returns undefined when the text is not shaped like a literal at all.
 */
export function parseLiteral(text: string): bigint | undefined {
  let s = text;
  let negative = false;
  if (s.startsWith('-')) { negative = true; s = s.slice(1); }
  let value: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) {
    value = BigInt(s);
  } else if (/^0[0-9]*$/.test(s)) {
    if (!/^0[0-7]*$/.test(s)) throw new ValueError(`bad octal literal '${text}'`);
    value = s.length > 1 ? BigInt('0o' + s.slice(1)) : 0n;
  } else if (/^[1-9][0-9]*[KMGT]?$/.test(s)) {
    const suffix = s[s.length - 1]!;
    const mult = { K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n }[suffix];
    value = mult === undefined ? BigInt(s) : BigInt(s.slice(0, -1)) * mult;
  } else if (/^[0-9]/.test(s)) {
    throw new ValueError(`bad literal '${text}'`);
  } else {
    return undefined;
  }
  if (value >= U64) throw new ValueError(`literal '${text}' does not fit in 64 bits`);
  return negative ? wrap64(-value) : value;
}

/** A literal or a named constant. */
function parseTerm(text: string): bigint {
  if (text === '') throw new ValueError('empty term in expression');
  const lit = parseLiteral(text);
  if (lit !== undefined) return lit;
  const c = constantValue(text);
  if (c === undefined) throw new ValueError(`unknown constant '${text}'`);
  return c;
}

/** Parses one value argument: a flag expression or a variable with an optional offset. */
export function parseValue(text: string): ValueExpr {
  if (text.startsWith('$')) {
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*)(?:([+-])(.*))?$/.exec(text);
    if (!m) throw new ValueError(`bad variable reference '${text}'`);
    const [, name, sign, term] = m;
    if (sign === undefined) return { kind: 'var', name: name!, offset: 0n };
    if (/[+|]/.test(term!) || /.-/.test(term!)) {
      throw new ValueError(`'${text}': only one literal or constant may be added to a variable`);
    }
    const v = parseTerm(term!);
    return { kind: 'var', name: name!, offset: sign === '+' ? v : wrap64(-v) };
  }
  if (text.includes('$')) throw new ValueError(`'${text}': flag expressions never contain variables`);
  let value = 0n;
  for (const part of text.split('|')) value |= parseTerm(part);
  return { kind: 'const', value };
}
