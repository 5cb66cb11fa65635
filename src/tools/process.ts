/**
 * Running a tool as a program: a process of its own, created the way a
 * process of `reader` would start it with posix_spawn(3) (clone(2)
 * CLONE_VM|CLONE_VFORK, then execve(2)). The new process has the reader's
 * credentials as execve(2) transforms them, its RLIMIT_MEMLOCK and its IPC
 * namespace, an empty address space, and a pid of its own; it exits when the
 * tool returns. Nothing of the reader changes: no attach is copied or closed
 * (OracleBackend.exec() starts programs the same way).
 */
import { initialRootCredentials, type Credentials } from '../auth/cred.js';
import { SECURE_KEEP_CAPS, SECURE_NOROOT, issecureMask } from '../auth/capability.js';
import { makeKuid, uidValid } from '../auth/userns.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { ProcFs } from '../proc/procfs.js';
import { ctimeLocal, ToolExit, ToolIo, type CtimeFunction } from './libc.js';
import { systemNameService, type NameService } from './passwd.js';

/** What a tool run produced (like a finished child process). */
export interface ToolResult {
  stdout: string;
  stderr: string;
  /** The exit status. */
  status: number;
  /** The pid the tool ran as. */
  pid: number;
}

/** Options common to the tools. */
export interface ToolOptions {
  /** uid/gid -> name lookups (getpwuid/getgrgid); default this machine's /etc/passwd and /etc/group. */
  names?: NameService;
  /** ctime(3) for the time columns; default the local time zone of this Node process (TZ). */
  ctime?: CtimeFunction;
}

/** What a tool's body gets: its process, procfs, stdio and options. */
export interface ToolContext {
  kernel: Kernel;
  proc: Process;
  procfs: ProcFs;
  io: ToolIo;
  names: NameService;
  ctime: CtimeFunction;
}

/**
 * security/commoncap.c cap_bprm_creds_from_file() for a program without file
 * capabilities and without set-id bits, with kernel/cred.c
 * prepare_exec_creds(): root (real or effective, unless SECURE_NOROOT) gets
 * pP' = bounding | inheritable, effective too if the euid is root; anyone
 * else keeps only the ambient set; saved and filesystem ids follow the
 * effective ones; PR_SET_KEEPCAPS is cleared.
 */
export function execCredentials(old: Credentials): Credentials {
  const rootUid = makeKuid(old.userNs, 0);
  const isReal = uidValid(rootUid) && old.uid === rootUid;
  const isEff = uidValid(rootUid) && old.euid === rootUid;
  const noroot = (old.securebits & issecureMask(SECURE_NOROOT)) !== 0;
  let permitted = 0n;
  let effective = false;
  if (!noroot) {
    // handle_privileged_root()
    if (isEff || isReal) permitted = old.capBounding | old.capInheritable;
    if (isEff) effective = true;
  }
  permitted |= old.capAmbient;
  return old.with({
    suid: old.euid, fsuid: old.euid,
    sgid: old.egid, fsgid: old.egid,
    capPermitted: permitted,
    capEffective: effective ? permitted : old.capAmbient,
    securebits: old.securebits & ~issecureMask(SECURE_KEEP_CAPS),
  });
}

/**
 * Runs `body` as the program `argv[0]` started by `reader` (default: a root
 * process of the initial namespaces, like a shell of the host). The body's
 * return value, or the status of a ToolExit it throws, is the exit status.
 */
export function runTool(
  kernel: Kernel, reader: Process | undefined, argv: readonly string[], options: ToolOptions,
  body: (ctx: ToolContext) => number,
): ToolResult {
  if (reader && !reader.alive) throw new Error(`${argv[0]}: process ${reader.pid} has exited`);
  const proc = kernel.spawn({
    name: argv[0]!,
    argv: [...argv],
    env: reader ? [...reader.env] : [],
    cred: execCredentials(reader ? reader.cred : initialRootCredentials(kernel.initUserNs)),
    ...(reader ? { memlock: { ...reader.memlock }, ipcNs: reader.ipcNs } : {}),
  });
  const io = new ToolIo(argv[0]!);
  const ctx: ToolContext = {
    kernel, proc, procfs: new ProcFs(kernel), io,
    names: options.names ?? systemNameService(),
    ctime: options.ctime ?? ctimeLocal,
  };
  let status: number;
  try {
    status = body(ctx);
  } catch (e) {
    if (!(e instanceof ToolExit)) {
      kernel.exit(proc, 1);
      throw e;
    }
    status = e.status;
  }
  kernel.exit(proc, status);
  return { stdout: io.stdout, stderr: io.stderr, status, pid: proc.pid };
}
