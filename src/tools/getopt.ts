/**
 * glibc's getopt_long(3) (posix/getopt.c _getopt_internal_r,
 * process_long_option), as the util-linux tools call it: PERMUTE ordering
 * (non-options are moved after the options; "--" ends the options), short
 * options clustered ("-mi3"), "-i 3" / "-i3", long options abbreviated to any
 * unambiguous prefix ("--hu" is --human), "--id=3" / "--id 3", optional
 * arguments only attached ("-ashm", "--all=shm"), and glibc's messages on
 * stderr in the C locale.
 */
import type { ToolIo } from './libc.js';

/** struct option: has_arg 0 no_argument, 1 required_argument, 2 optional_argument. */
export interface LongOption {
  name: string;
  hasArg: 0 | 1 | 2;
  /** What getopt_long returns: the short option letter, or a number above CHAR_MAX. */
  val: string | number;
}

/** One option as getopt_long returns it: '?' (after printing an error) or the option. */
export interface Opt {
  opt: string | number;
  optarg: string | null;
}

export class Getopt {
  private readonly args: string[];
  private optind = 0;
  /** The rest of the current cluster of short options ("" when none). */
  private nextchar = '';
  private readonly nonopts: string[] = [];
  private done = false;

  /**
   * `argv` without argv[0]; `prog` is what glibc prints as argv[0] (the
   * tools are run as "ipcs", "ipcrm", "ipcmk").
   */
  constructor(
    private readonly io: ToolIo,
    private readonly prog: string,
    argv: readonly string[],
    private readonly optstring: string,
    private readonly longopts: readonly LongOption[],
  ) {
    this.args = [...argv];
  }

  /** The next option, or null at the end (then `remaining()` lists the operands). */
  next(): Opt | null {
    if (this.done) return null;
    if (this.nextchar === '') {
      // PERMUTE: skip (and remember) non-options.
      for (;;) {
        if (this.optind >= this.args.length) {
          this.done = true;
          return null;
        }
        const a = this.args[this.optind]!;
        if (a === '--') {
          this.optind++;
          this.done = true;
          return null;
        }
        if (a[0] !== '-' || a.length === 1) {
          this.nonopts.push(a);
          this.optind++;
          continue;
        }
        break;
      }
      const a = this.args[this.optind]!;
      if (a[1] === '-') return this.longOption(a.slice(2));
      this.nextchar = a.slice(1);
    }
    return this.shortOption();
  }

  /** The operands: non-options in their original order (argv[optind...] after permutation). */
  remaining(): string[] {
    return [...this.nonopts, ...this.args.slice(this.optind)];
  }

  private shortOption(): Opt {
    const c = this.nextchar[0]!;
    this.nextchar = this.nextchar.slice(1);
    if (this.nextchar === '') this.optind++;
    const at = c === ':' || c === ';' ? -1 : this.optstring.indexOf(c);
    if (at < 0) {
      this.io.eprint(`${this.prog}: invalid option -- '${c}'\n`);
      return { opt: '?', optarg: null };
    }
    if (this.optstring[at + 1] !== ':') return { opt: c, optarg: null };
    if (this.optstring[at + 2] === ':') {
      // optional argument: only when attached
      const arg = this.nextchar !== '' ? this.nextchar : null;
      if (arg !== null) this.optind++;
      this.nextchar = '';
      return { opt: c, optarg: arg };
    }
    if (this.nextchar !== '') {
      const arg = this.nextchar;
      this.nextchar = '';
      this.optind++;
      return { opt: c, optarg: arg };
    }
    if (this.optind >= this.args.length) {
      this.io.eprint(`${this.prog}: option requires an argument -- '${c}'\n`);
      return { opt: '?', optarg: null };
    }
    return { opt: c, optarg: this.args[this.optind++]! };
  }

  /** process_long_option(): `text` is the argument without its leading "--". */
  private longOption(text: string): Opt {
    const eq = text.indexOf('=');
    const name = eq < 0 ? text : text.slice(0, eq);
    this.optind++;
    let found = this.longopts.find((o) => o.name === name);
    if (!found) {
      const ambig: LongOption[] = [];
      for (const o of this.longopts) {
        if (!o.name.startsWith(name)) continue;
        if (!found) found = o;
        else if (found.hasArg !== o.hasArg || found.val !== o.val) {
          if (ambig.length === 0) ambig.push(found);
          ambig.push(o);
        }
      }
      if (ambig.length > 0) {
        const list = this.longopts.filter((o) => ambig.includes(o)).map((o) => ` '--${o.name}'`).join('');
        this.io.eprint(`${this.prog}: option '--${text}' is ambiguous; possibilities:${list}\n`);
        return { opt: '?', optarg: null };
      }
    }
    if (!found) {
      this.io.eprint(`${this.prog}: unrecognized option '--${text}'\n`);
      return { opt: '?', optarg: null };
    }
    if (eq >= 0) {
      if (found.hasArg) return { opt: found.val, optarg: text.slice(eq + 1) };
      this.io.eprint(`${this.prog}: option '--${found.name}' doesn't allow an argument\n`);
      return { opt: '?', optarg: null };
    }
    if (found.hasArg === 1) {
      if (this.optind < this.args.length) return { opt: found.val, optarg: this.args[this.optind++]! };
      this.io.eprint(`${this.prog}: option '--${found.name}' requires an argument\n`);
      return { opt: '?', optarg: null };
    }
    return { opt: found.val, optarg: null };
  }
}
