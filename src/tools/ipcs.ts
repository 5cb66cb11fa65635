/**
 * ipcs(1) of util-linux 2.38.1 (sys-utils/ipcs.c) over the model: the same
 * options, output, messages and exit statuses. It runs as a process of its
 * own (see process.ts) and reads what the real one reads: /proc/sysvipc/shm,
 * /proc/sys/kernel/shm{all,max,mni} and shmctl(SHM_INFO). The message-queue
 * and semaphore sections are those of an IPC namespace without queues or
 * semaphore sets (the model has neither), with a fresh namespace's limits.
 */
import { PAGE_SIZE, SHM_DEST, SHM_INFO, SHM_LOCKED } from '../abi/constants.js';
import { SHMID64_DS_SIZE, decodeShmInfoDs } from '../abi/structs.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { Getopt, type LongOption } from './getopt.js';
import { MSG_DEFAULTS, SEM_DEFAULTS, Unit, ipcPrintPerms, ipcPrintSize, ipcShmGetInfo, ipcShmGetLimits } from './ipcutils.js';
import { altOctal, field, hex8, octal, padLeft, s32, s64, u32, u64, type ToolIo } from './libc.js';
import { runTool, type ToolContext, type ToolOptions, type ToolResult } from './process.js';
import { strtos32OrErr } from './strutils.js';

/** ipcs.c enum output_formats. */
const enum Format { NOTSPECIFIED, LIMITS, STATUS, CREATOR, TIME, PID }

const OPT_HUMAN = 128;  // CHAR_MAX + 1

const LONGOPTS: LongOption[] = [
  { name: 'id', hasArg: 1, val: 'i' },
  { name: 'queues', hasArg: 0, val: 'q' },
  { name: 'shmems', hasArg: 0, val: 'm' },
  { name: 'semaphores', hasArg: 0, val: 's' },
  { name: 'all', hasArg: 0, val: 'a' },
  { name: 'time', hasArg: 0, val: 't' },
  { name: 'pid', hasArg: 0, val: 'p' },
  { name: 'creator', hasArg: 0, val: 'c' },
  { name: 'limits', hasArg: 0, val: 'l' },
  { name: 'summary', hasArg: 0, val: 'u' },
  { name: 'human', hasArg: 0, val: OPT_HUMAN },
  { name: 'bytes', hasArg: 0, val: 'b' },
  { name: 'version', hasArg: 0, val: 'V' },
  { name: 'help', hasArg: 0, val: 'h' },
];

/** usage() (stdout, exit 0). */
export const IPCS_USAGE = `
Usage:
 ipcs [resource-option...] [output-option]
 ipcs -m|-q|-s -i <id>

Show information on IPC facilities.

Options:
 -i, --id <id>  print details on resource identified by <id>
 -h, --help     display this help
 -V, --version  display version

Resource options:
 -m, --shmems      shared memory segments
 -q, --queues      message queues
 -s, --semaphores  semaphores
 -a, --all         all (default)

Output options:
 -t, --time        show attach, detach and change times
 -p, --pid         show PIDs of creator and last operator
 -c, --creator     show creator and owner
 -l, --limits      show resource limits
 -u, --summary     show status summary
     --human       show sizes in human-readable format
 -b, --bytes       show sizes in bytes

For more details see ipcs(1).
`;

/**
 * Runs `ipcs ARGS` as a program started by `reader` (default: root of the
 * initial namespaces). Nothing of the kernel's state changes but the pid
 * counter (the tool is a process of its own).
 */
export function ipcs(kernel: Kernel, args: readonly string[], reader?: Process, options: ToolOptions = {}): ToolResult {
  return runTool(kernel, reader, ['ipcs', ...args], options, (ctx) => ipcsMain(ctx, args));
}

/** ipcs.c main(). */
function ipcsMain(ctx: ToolContext, args: readonly string[]): number {
  const io = ctx.io;
  let msg = 0, shm = 0, sem = 0, id = 0, specific = 0;
  let format = Format.NOTSPECIFIED;
  let unit = Unit.DEFAULT;
  const g = new Getopt(io, 'ipcs', args, 'i:qmsatpclubVh', LONGOPTS);
  for (let o = g.next(); o; o = g.next()) {
    switch (o.opt) {
      case 'i': id = strtos32OrErr(io, o.optarg!, 'failed to parse id argument'); specific = 1; break;
      case 'a': msg = shm = sem = 1; break;
      case 'q': msg = 1; break;
      case 'm': shm = 1; break;
      case 's': sem = 1; break;
      case 't': format = Format.TIME; break;
      case 'c': format = Format.CREATOR; break;
      case 'p': format = Format.PID; break;
      case 'l': format = Format.LIMITS; break;
      case 'u': format = Format.STATUS; break;
      case OPT_HUMAN: unit = Unit.HUMAN; break;
      case 'b': unit = Unit.BYTES; break;
      case 'h': io.print(IPCS_USAGE); return 0;
      case 'V': return io.printVersion();
      default: io.errtryhelp(1);
    }
  }
  if (specific && msg + shm + sem !== 1) io.errx(1, 'when using an ID, a single resource must be specified');
  if (specific) {
    if (msg) io.warnx(`id ${id} not found`);  // print_msg(): the model has no message queues
    if (shm) printShm(ctx, id, unit);
    if (sem) io.warnx(`id ${id} not found`);  // print_sem(): nor semaphore sets
  } else {
    if (!msg && !shm && !sem) msg = shm = sem = 1;
    io.print('\n');
    if (msg) { doMsg(io, format, unit); io.print('\n'); }
    if (shm) { doShm(ctx, format, unit); io.print('\n'); }
    if (sem) { doSem(io, format); io.print('\n'); }
  }
  return 0;
}

/** The owner column: "%-10d %-10.10s" with the user name, or "%-10d %-10u". */
function idOwner(ctx: ToolContext, id: number, uid: number, idWidth = 10): string {
  const pw = ctx.names.userName(uid);
  return `${padLeft(s32(id), idWidth)} ${pw !== undefined ? field(pw, 10, 10) : padLeft(u32(uid), 10)}`;
}

/** ctime(&t) + 4 for "%-20.16s", or "Not set" for 0. */
function shortTime(ctx: ToolContext, t: bigint): string {
  return field(t ? (ctx.ctime(t) ?? '(null)').slice(4) : 'Not set', 20, 16);
}

/** ipcs.c do_shm(). */
function doShm(ctx: ToolContext, format: Format, unit: Unit): void {
  const io = ctx.io;
  switch (format) {
    case Format.LIMITS: {
      const lim = ipcShmGetLimits(ctx);
      if (!lim) { io.print('unable to fetch shared memory limits\n'); return; }
      const pgsz = BigInt(PAGE_SIZE);
      const MAX = (1n << 64n) - 1n;
      io.print('------ Shared Memory Limits --------\n');
      io.print(`max number of segments = ${u64(lim.shmmni)}\n`);
      ipcPrintSize(io, unit === Unit.DEFAULT ? Unit.KB : unit, 'max seg size', lim.shmmax, '\n', 0);
      if (unit === Unit.KB || unit === Unit.DEFAULT) {
        let tmp = BigInt.asUintN(64, lim.shmall * (pgsz / 1024n));
        if (lim.shmall !== 0n && tmp / lim.shmall !== pgsz / 1024n) tmp = MAX - (MAX % (pgsz / 1024n));
        ipcPrintSize(io, Unit.DEFAULT, 'max total shared memory (kbytes)', tmp, '\n', 0);
      } else {
        let tmp = BigInt.asUintN(64, lim.shmall * pgsz);
        // overflow handling, at least we don't print ridiculous small values
        if (lim.shmall !== 0n && tmp / lim.shmall !== pgsz) tmp = MAX - (MAX % pgsz);
        ipcPrintSize(io, unit, 'max total shared memory', tmp, '\n', 0);
      }
      ipcPrintSize(io, unit === Unit.DEFAULT ? Unit.BYTES : unit, 'min seg size', lim.shmmin, '\n', 0);
      return;
    }
    case Format.STATUS: {
      const buf = new Uint8Array(SHMID64_DS_SIZE);
      const maxid = ctx.proc.sys.shmctl(0, SHM_INFO, buf);
      if (maxid < 0) { io.print('kernel not configured for shared memory\n'); return; }
      const i = decodeShmInfoDs(buf);
      io.print('------ Shared Memory Status --------\n');
      io.print(`segments allocated ${s32(i.usedIds)}\n` +
        `pages allocated ${s64(i.shmTot)}\n` +
        `pages resident  ${s64(i.shmRss)}\n` +
        `pages swapped   ${s64(i.shmSwp)}\n` +
        `Swap performance: ${s64(i.swapAttempts)} attempts\t ${s64(i.swapSuccesses)} successes\n`);
      return;
    }
    // Headers only
    case Format.CREATOR:
      io.print('------ Shared Memory Segment Creators/Owners --------\n');
      io.print(['shmid', 'perms', 'cuid', 'cgid', 'uid', 'gid'].map((h) => padLeft(h, 10)).join(' ') + '\n');
      break;
    case Format.TIME:
      io.print('------ Shared Memory Attach/Detach/Change Times --------\n');
      io.print(`${padLeft('shmid', 10)} ${padLeft('owner', 10)} ${padLeft('attached', 20)} ${padLeft('detached', 20)} ${padLeft('changed', 20)}\n`);
      break;
    case Format.PID:
      io.print('------ Shared Memory Creator/Last-op PIDs --------\n');
      io.print(['shmid', 'owner', 'cpid', 'lpid'].map((h) => padLeft(h, 10)).join(' ') + '\n');
      break;
    default:
      io.print('------ Shared Memory Segments --------\n');
      io.print(['key', 'shmid', 'owner', 'perms', unit === Unit.HUMAN ? 'size' : 'bytes', 'nattch']
        .map((h) => padLeft(h, 10)).join(' ') + ` ${padLeft('status', 12)}\n`);
      break;
  }

  // Print data
  for (const d of ipcShmGetInfo(ctx, -1)) {
    if (format === Format.CREATOR) {
      ipcPrintPerms(io, ctx.names, d);
      continue;
    }
    switch (format) {
      case Format.TIME:
        io.print(idOwner(ctx, d.id, d.uid) + ' ' + shortTime(ctx, d.atim) + ' ' + shortTime(ctx, d.dtim) + ' ' + shortTime(ctx, d.ctim) + '\n');
        break;
      case Format.PID:
        io.print(`${idOwner(ctx, d.id, d.uid)} ${padLeft(u32(d.cprid), 10)} ${padLeft(u32(d.lprid), 10)}\n`);
        break;
      default:
        io.print(`${hex8(d.key)} ${idOwner(ctx, d.id, d.uid)} ${padLeft(octal(d.mode & 0o777), 10)} `);
        if (unit === Unit.HUMAN) ipcPrintSize(io, unit, null, d.segsz, '    ', 6);
        else ipcPrintSize(io, unit, null, d.segsz, null, -10);
        io.print(` ${padLeft(u64(d.nattch), 10)} ${padLeft(d.mode & SHM_DEST ? 'dest' : ' ', 6)} ${padLeft(d.mode & SHM_LOCKED ? 'locked' : ' ', 6)}\n`);
        break;
    }
  }
}

/** ipcs.c do_sem(): headers and limits only (no semaphore sets in the model). */
function doSem(io: ToolIo, format: Format): void {
  switch (format) {
    case Format.LIMITS:
      io.print('------ Semaphore Limits --------\n');
      io.print(`max number of arrays = ${SEM_DEFAULTS.semmni}\n`);
      io.print(`max semaphores per array = ${SEM_DEFAULTS.semmsl}\n`);
      io.print(`max semaphores system wide = ${SEM_DEFAULTS.semmns}\n`);
      io.print(`max ops per semop call = ${SEM_DEFAULTS.semopm}\n`);
      io.print(`semaphore max value = ${SEM_DEFAULTS.semvmx}\n`);
      return;
    case Format.STATUS:
      io.print('------ Semaphore Status --------\n');
      io.print('used arrays = 0\n');
      io.print('allocated semaphores = 0\n');
      return;
    case Format.CREATOR:
      io.print('------ Semaphore Arrays Creators/Owners --------\n');
      io.print(['semid', 'perms', 'cuid', 'cgid', 'uid', 'gid'].map((h) => padLeft(h, 10)).join(' ') + '\n');
      break;
    case Format.TIME:
      io.print('------ Semaphore Operation/Change Times --------\n');
      io.print(`${padLeft('semid', 8)} ${padLeft('owner', 10)} ${field('last-op', 26, 24)} ${field('last-changed', 26, 24)}\n`);
      break;
    case Format.PID:
      break;
    default:
      io.print('------ Semaphore Arrays --------\n');
      io.print(['key', 'semid', 'owner', 'perms', 'nsems'].map((h) => padLeft(h, 10)).join(' ') + '\n');
      break;
  }
}

/** ipcs.c do_msg(): headers, limits and an empty status (no message queues in the model). */
function doMsg(io: ToolIo, format: Format, unit: Unit): void {
  switch (format) {
    case Format.LIMITS:
      io.print('------ Messages Limits --------\n');
      io.print(`max queues system wide = ${MSG_DEFAULTS.msgmni}\n`);
      ipcPrintSize(io, unit === Unit.DEFAULT ? Unit.BYTES : unit, 'max size of message', MSG_DEFAULTS.msgmax, '\n', 0);
      ipcPrintSize(io, unit === Unit.DEFAULT ? Unit.BYTES : unit, 'default max size of queue', BigInt(MSG_DEFAULTS.msgmnb), '\n', 0);
      return;
    case Format.STATUS:
      io.print('------ Messages Status --------\n');
      io.print('allocated queues = 0\n');
      io.print('used headers = 0\n');
      ipcPrintSize(io, unit, 'used space', 0n, unit === Unit.DEFAULT ? ' bytes\n' : '\n', 0);
      return;
    case Format.CREATOR:
      io.print('------ Message Queues Creators/Owners --------\n');
      io.print(['msqid', 'perms', 'cuid', 'cgid', 'uid', 'gid'].map((h) => padLeft(h, 10)).join(' ') + '\n');
      break;
    case Format.TIME:
      io.print('------ Message Queues Send/Recv/Change Times --------\n');
      io.print(`${padLeft('msqid', 8)} ${padLeft('owner', 10)} ${padLeft('send', 20)} ${padLeft('recv', 20)} ${padLeft('change', 20)}\n`);
      break;
    case Format.PID:
      io.print('------ Message Queues PIDs --------\n');
      io.print(['msqid', 'owner', 'lspid', 'lrpid'].map((h) => padLeft(h, 10)).join(' ') + '\n');
      break;
    default:
      io.print('------ Message Queues --------\n');
      io.print(['key', 'msqid', 'owner', 'perms'].map((h) => padLeft(h, 10)).join(' ') +
        ` ${padLeft(unit === Unit.HUMAN ? 'size' : 'used-bytes', 12)} ${padLeft('messages', 12)}\n`);
      break;
  }
}

/** ipcs.c print_shm(): one segment in detail, looked up in /proc/sysvipc/shm. */
function printShm(ctx: ToolContext, shmid: number, unit: Unit): void {
  const io = ctx.io;
  // A negative id selects every segment, and the first one is printed (as util-linux does).
  const d = ipcShmGetInfo(ctx, shmid)[0];
  if (!d) {
    io.warnx(`id ${shmid} not found`);
    return;
  }
  const long = (t: bigint) => field(t ? (ctx.ctime(t) ?? '(null)') : 'Not set', 26, 24);
  io.print(`\nShared memory Segment shmid=${shmid}\n`);
  io.print(`uid=${u32(d.uid)}\tgid=${u32(d.gid)}\tcuid=${u32(d.cuid)}\tcgid=${u32(d.cgid)}\n`);
  io.print(`mode=${altOctal(d.mode)}\taccess_perms=${altOctal(d.mode & 0o777)}\n`);
  ipcPrintSize(io, unit, unit === Unit.HUMAN ? 'size=' : 'bytes=', d.segsz, '\t', 0);
  io.print(`lpid=${u32(d.lprid)}\tcpid=${u32(d.cprid)}\tnattch=${s64(d.nattch)}\n`);
  io.print(`att_time=${long(d.atim)}\n`);
  io.print(`det_time=${long(d.dtim)}\n`);
  io.print(`change_time=${field(ctx.ctime(d.ctim) ?? '(null)', 26, 24)}\n`);
  io.print('\n');
}
