/**
 * Lexical analysis of one scenario line (scenario spec section 2): tokens are
 * separated by spaces or tabs, `#` starts a comment outside strings, strings
 * are double-quoted with the escapes \\ \" \n \t \xNN.
 */

export type Token =
  | { kind: 'word'; text: string }
  | { kind: 'string'; bytes: Uint8Array; text: string };

/** Thrown for a malformed line; the parser attaches the line number. */
export class LexError extends Error {}

const encoder = new TextEncoder();

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t';
}

/** Splits one line (without its newline) into tokens. */
export function tokenize(line: string): Token[] {
  if (line.endsWith('\r')) line = line.slice(0, -1);
  const tokens: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (isSpace(c)) { i++; continue; }
    if (c === '#') break;
    if (c === '"') {
      const start = i;
      i++;
      const bytes: number[] = [];
      let closed = false;
      while (i < n) {
        const ch = line[i]!;
        if (ch === '"') { closed = true; i++; break; }
        if (ch === '\\') {
          const e = line[i + 1];
          if (e === undefined) throw new LexError('unterminated string');
          if (e === '\\') bytes.push(0x5c);
          else if (e === '"') bytes.push(0x22);
          else if (e === 'n') bytes.push(0x0a);
          else if (e === 't') bytes.push(0x09);
          else if (e === 'x') {
            const hex = line.slice(i + 2, i + 4);
            if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new LexError(`bad escape '\\x${hex}': \\x takes exactly two hex digits`);
            bytes.push(parseInt(hex, 16));
            i += 4;
            continue;
          } else throw new LexError(`unknown escape '\\${e}' in string`);
          i += 2;
          continue;
        }
        // Anything else stands for itself, in UTF-8.
        const cp = line.codePointAt(i)!;
        const ch2 = String.fromCodePoint(cp);
        for (const b of encoder.encode(ch2)) bytes.push(b);
        i += ch2.length;
      }
      if (!closed) throw new LexError('unterminated string');
      if (i < n && !isSpace(line[i]!) && line[i] !== '#') {
        throw new LexError('a string must be followed by white space, a comment or the end of the line');
      }
      tokens.push({ kind: 'string', bytes: Uint8Array.from(bytes), text: line.slice(start, i) });
      continue;
    }
    const start = i;
    while (i < n && !isSpace(line[i]!) && line[i] !== '#') i++;
    tokens.push({ kind: 'word', text: line.slice(start, i) });
  }
  return tokens;
}
