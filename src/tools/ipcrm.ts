/**
 * ipcrm(1) of util-linux 2.38.1 (sys-utils/ipcrm.c) over the model: the same
 * options, system calls, messages and exit statuses. `-m ID` is
 * shmctl(ID, IPC_RMID); `-M KEY` is shmget(KEY, 0, 0) then IPC_RMID of the
 * id found; `-a`/`--all=shm` removes every segment SHM_STAT lets the caller
 * see (unreadable ones are skipped silently). Message queues and semaphores:
 * the model has none, so -q/-s find no id (EINVAL) and -Q/-S no key (ENOENT),
 * as on Linux in a namespace without queues or semaphore sets.
 */
import { Errno } from '../abi/errno.js';
import { IPC_PRIVATE, IPC_RMID, SHM_INFO, SHM_STAT } from '../abi/constants.js';
import { SHMID64_DS_SIZE } from '../abi/structs.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { Getopt, type LongOption } from './getopt.js';
import { strtoumax, toInt, ToolExit } from './libc.js';
import { runTool, type ToolContext, type ToolOptions, type ToolResult } from './process.js';
import { strtos32OrErr } from './strutils.js';

/** ipcrm.c type_id. */
const enum Type { SHM, SEM, MSG, ALL }

const LONGOPTS: LongOption[] = [
  { name: 'shmem-id', hasArg: 1, val: 'm' },
  { name: 'shmem-key', hasArg: 1, val: 'M' },
  { name: 'queue-id', hasArg: 1, val: 'q' },
  { name: 'queue-key', hasArg: 1, val: 'Q' },
  { name: 'semaphore-id', hasArg: 1, val: 's' },
  { name: 'semaphore-key', hasArg: 1, val: 'S' },
  { name: 'all', hasArg: 2, val: 'a' },
  { name: 'verbose', hasArg: 0, val: 'v' },
  { name: 'version', hasArg: 0, val: 'V' },
  { name: 'help', hasArg: 0, val: 'h' },
];

/** usage() (stdout, exit 0). */
export const IPCRM_USAGE = `
Usage:
 ipcrm [options]
 ipcrm shm|msg|sem <id>...

Remove certain IPC resources.

Options:
 -m, --shmem-id <id>        remove shared memory segment by id
 -M, --shmem-key <key>      remove shared memory segment by key
 -q, --queue-id <id>        remove message queue by id
 -Q, --queue-key <key>      remove message queue by key
 -s, --semaphore-id <id>    remove semaphore by id
 -S, --semaphore-key <key>  remove semaphore by key
 -a, --all[=shm|msg|sem]    remove all (in the specified category)
 -v, --verbose              explain what is being done

 -h, --help                 display this help
 -V, --version              display version

For more details see ipcrm(1).
`;

/** Runs `ipcrm ARGS` as a program started by `reader` (default: root of the initial namespaces). */
export function ipcrm(kernel: Kernel, args: readonly string[], reader?: Process, options: ToolOptions = {}): ToolResult {
  return runTool(kernel, reader, ['ipcrm', ...args], options, (ctx) => new Ipcrm(ctx).main(args));
}

class Ipcrm {
  private verbose = false;

  constructor(private readonly ctx: ToolContext) {}

  /** msgctl()/semctl()/shmctl(IPC_RMID): 0 or -errno. No queues or sets exist in the model. */
  private rmid(type: Type, id: number): number {
    if (type === Type.SHM) return this.ctx.proc.sys.shmctl(id, IPC_RMID, null);
    return -Errno.EINVAL;
  }

  /** ipcrm.c remove_id(): 0, or 1 after a message. */
  private removeId(type: Type, iskey: boolean, id: number): number {
    const io = this.ctx.io;
    if (this.verbose) {
      const what = type === Type.SHM ? 'shared memory segment' : type === Type.MSG ? 'message queue' : 'semaphore';
      io.print(`removing ${what} id \`${id}'\n`);
    }
    const ret = this.rmid(type, id);
    if (ret < 0) {
      let errmsg: string;
      switch (-ret) {
        case Errno.EACCES:
        case Errno.EPERM:
          errmsg = iskey ? 'permission denied for key' : 'permission denied for id';
          break;
        case Errno.EINVAL:
          errmsg = iskey ? 'invalid key' : 'invalid id';
          break;
        case Errno.EIDRM:
          errmsg = iskey ? 'already removed key' : 'already removed id';
          break;
        default:
          return io.err(1, iskey ? 'key failed' : 'id failed', -ret);
      }
      // The id, also for -M: "permission denied for key (ID)".
      io.warnx(`${errmsg} (${id})`);
      return 1;
    }
    return 0;
  }

  /** ipcrm.c remove_arg_list(): the ids of the old syntax, parsed with strtoul(base 10). */
  private removeArgList(type: Type, args: readonly string[]): number {
    let nbErrors = 0;
    for (const a of args) {
      const r = strtoumax(a, 10);
      if (r.errno || r.end !== a.length) {
        this.ctx.io.warnx(`invalid id: ${a}`);
        nbErrors++;
      } else if (this.removeId(type, false, toInt(r.value))) {
        nbErrors++;
      }
    }
    return nbErrors;
  }

  /** ipcrm.c deprecated_main(): "ipcrm shm|msg|sem ID...". True when it handled the command. */
  private deprecatedMain(args: readonly string[]): boolean {
    const types: Record<string, Type> = { shm: Type.SHM, msg: Type.MSG, sem: Type.SEM };
    const type = Object.hasOwn(types, args[0]!) ? types[args[0]!]! : undefined;
    if (type === undefined) return false;
    if (args.length < 2) {
      this.ctx.io.warnx('not enough arguments');
      this.ctx.io.errtryhelp(1);
    }
    if (this.removeArgList(type, args.slice(1))) throw new ToolExit(1);
    this.ctx.io.print('resource(s) deleted\n');
    return true;
  }

  /** ipcrm.c strtokey(): strtoul(base 0) of the whole string. */
  private strtokey(str: string, errmesg: string): bigint {
    const r = strtoumax(str, 0);
    if (str === '' || r.errno || r.end === 0 || r.end !== str.length) {
      if (r.errno && str !== '') this.ctx.io.err(1, `${errmesg}: '${str}'`, r.errno);
      this.ctx.io.errx(1, `${errmesg}: '${str}'`);
    }
    return r.value;
  }

  /** ipcrm.c key_to_id(): the id of a key (shmget(key, 0, 0)), or -1 after a message. */
  private keyToId(type: Type, s: string): number {
    const io = this.ctx.io;
    const key = toInt(this.strtokey(s, 'failed to parse argument'));  // key_t
    if (key === IPC_PRIVATE) {
      io.warnx(`illegal key (${s})`);
      return -1;
    }
    const id = type === Type.SHM ? this.ctx.proc.sys.shmget(key, 0, 0) : -Errno.ENOENT;
    if (id < 0) {
      let errmsg: string;
      switch (-id) {
        case Errno.EACCES: errmsg = 'permission denied for key'; break;
        case Errno.EIDRM: errmsg = 'already removed key'; break;
        case Errno.ENOENT: errmsg = 'invalid key'; break;
        default: return io.err(1, 'key failed', -id);
      }
      io.warnx(`${errmsg} (${s})`);
      return -1;
    }
    return id;
  }

  /** ipcrm.c remove_all(): SHM_STAT over every index up to SHM_INFO's maximum. */
  private removeAll(type: Type): number {
    let ret = 0;
    if (type === Type.SHM || type === Type.ALL) {
      const sys = this.ctx.proc.sys;
      const maxid = sys.shmctl(0, SHM_INFO, new Uint8Array(SHMID64_DS_SIZE));
      if (maxid < 0) this.ctx.io.errx(1, 'kernel not configured for shared memory');
      for (let id = 0; id <= maxid; id++) {
        const rmMe = sys.shmctl(id, SHM_STAT, new Uint8Array(SHMID64_DS_SIZE));
        if (rmMe < 0) continue;
        ret |= this.removeId(Type.SHM, false, rmMe);
      }
    }
    // Semaphores and message queues: SEM_INFO/MSG_INFO report index 0 and
    // SEM_STAT/MSG_STAT find nothing there.
    return ret;
  }

  /** ipcrm.c main(). */
  main(args: readonly string[]): number {
    const io = this.ctx.io;
    // if the command is executed without parameters, do nothing
    if (args.length === 0) return 0;
    if (this.deprecatedMain(args)) return 0;

    let ret = 0;
    let rmAll = false;
    let whatAll = Type.ALL;
    const g = new Getopt(io, 'ipcrm', args, 'q:m:s:Q:M:S:a::vhV', LONGOPTS);
    for (let o = g.next(); o; o = g.next()) {
      let iskey = false;
      let id: number;
      const type = o.opt === 'M' || o.opt === 'm' ? Type.SHM : o.opt === 'Q' || o.opt === 'q' ? Type.MSG : Type.SEM;
      switch (o.opt) {
        case 'M':
        case 'Q':
        case 'S':
          iskey = true;
          id = this.keyToId(type, o.optarg!);
          if (id < 0) {
            ret++;
            break;
          }
          if (this.removeId(type, iskey, id)) ret++;
          break;
        case 'm':
        case 'q':
        case 's':
          id = strtos32OrErr(io, o.optarg!, 'failed to parse argument');
          if (this.removeId(type, iskey, id)) ret++;
          break;
        case 'a':
          rmAll = true;
          if (o.optarg !== null) {
            if (o.optarg === 'shm') whatAll = Type.SHM;
            else if (o.optarg === 'msg') whatAll = Type.MSG;
            else if (o.optarg === 'sem') whatAll = Type.SEM;
            else io.errx(1, `unknown argument: ${o.optarg}`);
          } else {
            whatAll = Type.ALL;
          }
          break;
        case 'v':
          this.verbose = true;
          break;
        case 'h':
          io.print(IPCRM_USAGE);
          return 0;
        case 'V':
          return io.printVersion();
        default:
          io.errtryhelp(1);
      }
    }
    if (rmAll && this.removeAll(whatAll)) ret++;
    // print usage if we still have some arguments left over
    const rest = g.remaining();
    if (rest.length > 0) {
      io.warnx(`unknown argument: ${rest[0]}`);
      io.errtryhelp(1);
    }
    return ret === 0 ? 0 : 1;
  }
}
