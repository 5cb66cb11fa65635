/**
 * ipcmk(1) of util-linux 2.38.1 (sys-utils/ipcmk.c) over the model:
 * `ipcmk -M SIZE [-p MODE]` is shmget(random key, SIZE, MODE | IPC_CREAT)
 * and prints "Shared memory id: N". SIZE takes parse_size()'s suffixes
 * (K, KiB, KB, M, ..., decimal fractions "1.5M", 0x and 0 prefixes); MODE is
 * octal. -Q and -S parse their arguments as ipcmk does, but the model has no
 * message queues or semaphores: creating one fails with ENOSYS ("Function not
 * implemented"), as on a kernel built without them.
 */
import { randomBytes } from 'node:crypto';
import { Errno } from '../abi/errno.js';
import { IPC_CREAT } from '../abi/constants.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { Getopt, type LongOption } from './getopt.js';
import { strtoumax, toInt } from './libc.js';
import { runTool, type ToolContext, type ToolOptions, type ToolResult } from './process.js';
import { strtos32OrErr, strtosizeOrErr } from './strutils.js';

export interface IpcmkOptions extends ToolOptions {
  /** The key of a new resource (create_key(): ul_random_get_bytes); default 4 random bytes. */
  key?: () => number;
}

const LONGOPTS: LongOption[] = [
  { name: 'shmem', hasArg: 1, val: 'M' },
  { name: 'semaphore', hasArg: 1, val: 'S' },
  { name: 'queue', hasArg: 0, val: 'Q' },
  { name: 'mode', hasArg: 1, val: 'p' },
  { name: 'version', hasArg: 0, val: 'V' },
  { name: 'help', hasArg: 0, val: 'h' },
];

/** usage() (stdout, exit 0). */
export const IPCMK_USAGE = `
Usage:
 ipcmk [options]

Create various IPC resources.

Options:
 -M, --shmem <size>       create shared memory segment of size <size>
 -S, --semaphore <number> create semaphore array with <number> elements
 -Q, --queue              create message queue
 -p, --mode <mode>        permission for the resource (default is 0644)

 -h, --help               display this help
 -V, --version            display version

Arguments:
 <size> arguments may be followed by the suffixes for
   GiB, TiB, PiB, EiB, ZiB, and YiB (the "iB" is optional)

For more details see ipcmk(1).
`;

function randomKey(): number {
  return randomBytes(4).readInt32LE(0);
}

/** Runs `ipcmk ARGS` as a program started by `reader` (default: root of the initial namespaces). */
export function ipcmk(kernel: Kernel, args: readonly string[], reader?: Process, options: IpcmkOptions = {}): ToolResult {
  const key = options.key ?? randomKey;
  return runTool(kernel, reader, ['ipcmk', ...args], options, (ctx) => ipcmkMain(ctx, args, key));
}

/** ipcmk.c main(). */
function ipcmkMain(ctx: ToolContext, args: readonly string[], createKey: () => number): number {
  const io = ctx.io;
  let permission = 0o644;
  let size = 0n;
  let askShm = false, askMsg = false, askSem = false;
  const g = new Getopt(io, 'ipcmk', args, 'hM:QS:p:Vh', LONGOPTS);
  for (let o = g.next(); o; o = g.next()) {
    switch (o.opt) {
      case 'M':
        size = strtosizeOrErr(io, o.optarg!, 'failed to parse size');
        askShm = true;
        break;
      case 'Q':
        askMsg = true;
        break;
      case 'S':
        strtos32OrErr(io, o.optarg!, 'failed to parse elements');
        askSem = true;
        break;
      case 'p': {
        const a = o.optarg!;
        const r = strtoumax(a, 8);
        if (r.errno || r.end === 0 || r.end !== a.length) io.err(1, 'failed to parse mode', r.errno);
        permission = toInt(r.value);
        break;
      }
      case 'h':
        io.print(IPCMK_USAGE);
        return 0;
      case 'V':
        return io.printVersion();
      default:
        io.errtryhelp(1);
    }
  }
  if (!askShm && !askMsg && !askSem) {
    io.warnx('bad usage');
    io.errtryhelp(1);
  }
  if (askShm) {
    // create_shm(): shmget(create_key(), size, permission | IPC_CREAT)
    const shmid = ctx.proc.sys.shmget(toInt(BigInt(createKey())), size, permission | IPC_CREAT);
    if (shmid < 0) io.err(1, 'create share memory failed', -shmid);
    io.print(`Shared memory id: ${shmid}\n`);
  }
  if (askMsg) io.err(1, 'create message queue failed', Errno.ENOSYS);
  if (askSem) io.err(1, 'create semaphore failed', Errno.ENOSYS);
  return 0;
}
