/**
 * The scenario parser (scenario spec sections 2 to 4): one line, one command.
 * Every line is parsed up front, but a line's error is only raised when the
 * interpreter reaches it, so the results of the lines before a script error
 * are printed first, as the spec requires.
 */
import { tokenize, LexError, type Token } from './lexer.js';
import { parseValue, parseLiteral, ValueError, VAR_NAME, type ValueExpr } from './values.js';
import { constantValue, isCapabilityName } from './constants.js';
import { ScriptError } from './errors.js';

export const PROC_NAME = /^[a-z][a-z0-9_]*$/;

export const SYSCTL_NAMES = [
  'kernel.shmmax', 'kernel.shmall', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'kernel.shm_next_id',
] as const;
export type SysctlName = (typeof SYSCTL_NAMES)[number];

/** Key/value arguments of `shmctl ... IPC_SET`. */
export interface IpcSetArgs { uid: ValueExpr; gid: ValueExpr; mode: ValueExpr }

export type Command =
  | { verb: 'fork'; child: string }
  | { verb: 'exit' }
  | { verb: 'creds'; uid: ValueExpr; gid: ValueExpr; groups: ValueExpr[]; caps: bigint[] }
  | { verb: 'unshare' }
  | { verb: 'setrlimit'; cur: ValueExpr; max: ValueExpr }
  | { verb: 'sysctl'; name: SysctlName; value: ValueExpr | null }
  | { verb: 'shmget'; key: ValueExpr; size: ValueExpr; flags: ValueExpr }
  | { verb: 'shmat'; id: ValueExpr; addr: ValueExpr; flags: ValueExpr }
  | { verb: 'shmdt'; addr: ValueExpr }
  | { verb: 'shmctl'; id: ValueExpr; cmd: ValueExpr; set: IpcSetArgs | null }
  | { verb: 'mmap'; addr: ValueExpr; len: ValueExpr; prot: ValueExpr; flags: ValueExpr }
  | { verb: 'munmap'; addr: ValueExpr; len: ValueExpr }
  | { verb: 'mprotect'; addr: ValueExpr; len: ValueExpr; prot: ValueExpr }
  | { verb: 'mremap'; old: ValueExpr; oldLen: ValueExpr; newLen: ValueExpr; flags: ValueExpr; newAddr: ValueExpr | null }
  | { verb: 'madvise'; addr: ValueExpr; len: ValueExpr; advice: ValueExpr }
  | { verb: 'write'; addr: ValueExpr; bytes: Uint8Array }
  | { verb: 'fill'; addr: ValueExpr; len: ValueExpr; byte: ValueExpr }
  | { verb: 'read'; addr: ValueExpr; len: ValueExpr }
  | { verb: 'maps' }
  | { verb: 'vmas'; addr: ValueExpr; len: ValueExpr }
  | { verb: 'sysvipc' };

export type Verb = Command['verb'];

/** One parsed line: the process that runs it, the command, and the optional binding. */
export interface Line {
  line: number;
  proc: string;
  command: Command;
  bind: string | null;
}

/** A line that is a command, or the error it raises when reached. */
export type ParsedLine = { ok: true; value: Line } | { ok: false; error: ScriptError };

export interface Script {
  file: string;
  lines: ParsedLine[];
}

/** Verbs whose numeric result may be bound with `-> $VAR`. */
const BINDABLE = new Set<Verb>(['shmget', 'shmat', 'mmap', 'mremap']);

class LineParser {
  private kv = new Map<string, string>();
  private positional: Token[] = [];

  constructor(private verb: string, args: Token[]) {
    for (const t of args) {
      const eq = t.kind === 'word' ? t.text.indexOf('=') : -1;
      if (t.kind === 'word' && eq > 0 && /^[a-z]+$/.test(t.text.slice(0, eq))) {
        const key = t.text.slice(0, eq);
        if (this.kv.has(key)) throw new ValueError(`duplicate argument '${key}='`);
        this.kv.set(key, t.text.slice(eq + 1));
      } else {
        this.positional.push(t);
      }
    }
  }

  count(min: number, max = min): void {
    const n = this.positional.length;
    if (n < min || n > max) {
      const want = min === max ? `${min}` : `${min} to ${max}`;
      throw new ValueError(`'${this.verb}' takes ${want} argument${max === 1 ? '' : 's'}, got ${n}`);
    }
  }

  noKeyValues(): void {
    const first = this.kv.keys().next();
    if (!first.done) throw new ValueError(`'${first.value}=' is not an argument of '${this.verb}'`);
  }

  onlyKeys(allowed: string[]): void {
    for (const k of this.kv.keys()) {
      if (!allowed.includes(k)) throw new ValueError(`'${k}=' is not an argument of '${this.verb}'`);
    }
  }

  hasKeyValues(): boolean {
    return this.kv.size > 0;
  }

  key(name: string): string | undefined {
    return this.kv.get(name);
  }

  word(i: number): string {
    const t = this.positional[i]!;
    if (t.kind !== 'word') throw new ValueError(`argument ${i + 1} of '${this.verb}' must not be a string`);
    return t.text;
  }

  value(i: number): ValueExpr {
    return parseValue(this.word(i));
  }

  string(i: number): Uint8Array {
    const t = this.positional[i]!;
    if (t.kind !== 'string') throw new ValueError(`argument ${i + 1} of '${this.verb}' must be a string`);
    return t.bytes;
  }
}

function parseCommand(verb: string, args: Token[]): Command {
  const p = new LineParser(verb, args);
  if (verb !== 'creds' && verb !== 'shmctl') p.noKeyValues();
  switch (verb) {
    case 'fork': {
      p.count(1);
      const child = p.word(0);
      if (!PROC_NAME.test(child)) throw new ValueError(`bad process name '${child}'`);
      return { verb, child };
    }
    case 'exit':
      p.count(0);
      return { verb };
    case 'creds': {
      p.count(0);
      p.onlyKeys(['uid', 'gid', 'groups', 'caps']);
      const uid = p.key('uid');
      const gid = p.key('gid');
      if (uid === undefined || gid === undefined) throw new ValueError(`'creds' needs uid= and gid=`);
      const groupsText = p.key('groups');
      const groups = groupsText === undefined || groupsText === '' ? [] : groupsText.split(',').map(parseValue);
      const capsText = p.key('caps');
      const caps: bigint[] = [];
      if (capsText !== undefined && capsText !== '') {
        for (const name of capsText.split(',')) {
          if (!isCapabilityName(name)) throw new ValueError(`unknown capability '${name}'`);
          caps.push(constantValue(name)!);
        }
      }
      return { verb, uid: parseValue(uid), gid: parseValue(gid), groups, caps };
    }
    case 'unshare':
      p.count(1);
      if (p.word(0) !== 'ipc') throw new ValueError(`'unshare' takes 'ipc', got '${p.word(0)}'`);
      return { verb };
    case 'setrlimit':
      p.count(3);
      if (p.word(0) !== 'MEMLOCK') throw new ValueError(`'setrlimit' knows only MEMLOCK, got '${p.word(0)}'`);
      return { verb, cur: p.value(1), max: p.value(2) };
    case 'sysctl': {
      p.count(1, 2);
      const name = p.word(0);
      if (!(SYSCTL_NAMES as readonly string[]).includes(name)) {
        throw new ValueError(`unknown sysctl '${name}' (known: ${SYSCTL_NAMES.join(', ')})`);
      }
      return { verb, name: name as SysctlName, value: args.length === 2 ? p.value(1) : null };
    }
    case 'shmget':
      p.count(3);
      return { verb, key: p.value(0), size: p.value(1), flags: p.value(2) };
    case 'shmat':
      p.count(3);
      return { verb, id: p.value(0), addr: p.value(1), flags: p.value(2) };
    case 'shmdt':
      p.count(1);
      return { verb, addr: p.value(0) };
    case 'shmctl': {
      p.count(2);
      let set: IpcSetArgs | null = null;
      if (p.hasKeyValues()) {
        p.onlyKeys(['uid', 'gid', 'mode']);
        const uid = p.key('uid');
        const gid = p.key('gid');
        const mode = p.key('mode');
        if (uid === undefined || gid === undefined || mode === undefined) {
          throw new ValueError(`'shmctl ... IPC_SET' needs all of uid=, gid= and mode=`);
        }
        set = { uid: parseValue(uid), gid: parseValue(gid), mode: parseValue(mode) };
      }
      return { verb, id: p.value(0), cmd: p.value(1), set };
    }
    case 'mmap':
      p.count(4);
      return { verb, addr: p.value(0), len: p.value(1), prot: p.value(2), flags: p.value(3) };
    case 'munmap':
      p.count(2);
      return { verb, addr: p.value(0), len: p.value(1) };
    case 'mprotect':
      p.count(3);
      return { verb, addr: p.value(0), len: p.value(1), prot: p.value(2) };
    case 'mremap':
      p.count(4, 5);
      return {
        verb, old: p.value(0), oldLen: p.value(1), newLen: p.value(2), flags: p.value(3),
        newAddr: args.length === 5 ? p.value(4) : null,
      };
    case 'madvise':
      p.count(3);
      return { verb, addr: p.value(0), len: p.value(1), advice: p.value(2) };
    case 'write':
      p.count(2);
      return { verb, addr: p.value(0), bytes: p.string(1) };
    case 'fill':
      p.count(3);
      return { verb, addr: p.value(0), len: p.value(1), byte: p.value(2) };
    case 'read':
      p.count(2);
      return { verb, addr: p.value(0), len: p.value(1) };
    case 'maps':
      p.count(0);
      return { verb };
    case 'vmas':
      p.count(2);
      return { verb, addr: p.value(0), len: p.value(1) };
    case 'sysvipc':
      p.count(0);
      return { verb };
    default:
      throw new ValueError(`unknown verb '${verb}'`);
  }
}

/** Parses one line; returns null for blank and comment-only lines. */
export function parseLine(text: string, lineNo: number): Line | null {
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (e) {
    if (e instanceof LexError) throw new ScriptError(lineNo, e.message);
    throw e;
  }
  if (tokens.length === 0) return null;
  try {
    let proc = 'p0';
    const first = tokens[0]!;
    if (first.kind === 'word' && first.text.endsWith(':')) {
      proc = first.text.slice(0, -1);
      if (!PROC_NAME.test(proc)) throw new ValueError(`bad process name '${proc}'`);
      tokens = tokens.slice(1);
      if (tokens.length === 0) throw new ValueError('missing verb after the process name');
    }
    let bind: string | null = null;
    const arrow = tokens.findIndex((t) => t.kind === 'word' && t.text === '->');
    if (arrow >= 0) {
      if (arrow !== tokens.length - 2) throw new ValueError("'-> $VAR' must be the last two tokens of the line");
      const target = tokens[arrow + 1]!;
      if (target.kind !== 'word' || !target.text.startsWith('$') || !VAR_NAME.test(target.text.slice(1))) {
        throw new ValueError(`bad binding target '${target.text}'`);
      }
      bind = target.text.slice(1);
      tokens = tokens.slice(0, arrow);
    }
    const verbTok = tokens[0]!;
    if (verbTok.kind !== 'word') throw new ValueError('a line must start with a verb');
    const command = parseCommand(verbTok.text, tokens.slice(1));
    if (bind !== null && !BINDABLE.has(command.verb)) {
      throw new ValueError(`'-> $${bind}' is only allowed on shmget, shmat, mmap and mremap`);
    }
    return { line: lineNo, proc, command, bind };
  } catch (e) {
    if (e instanceof ValueError) throw new ScriptError(lineNo, e.message);
    throw e;
  }
}

/** Parses a whole script; errors are kept per line and raised when reached. */
export function parseScript(text: string, file = '<script>'): Script {
  const lines: ParsedLine[] = [];
  const raw = text.split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  raw.forEach((l, i) => {
    try {
      const parsed = parseLine(l, i + 1);
      if (parsed) lines.push({ ok: true, value: parsed });
    } catch (e) {
      if (e instanceof ScriptError) {
        e.file = file;
        lines.push({ ok: false, error: e });
      } else throw e;
    }
  });
  return { file, lines };
}

export { parseLiteral };
