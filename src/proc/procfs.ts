/**
 * The model's procfs: the files of fs/proc that concern SysV shared memory
 * and the memory of processes, byte-compatible with Linux. Paths are
 * resolved for a reading process ("/proc/self" is the reader), as open(2)
 * would resolve them; failures are negative errnos.
 */
import { Errno } from '../abi/errno.js';
import { Capability } from '../abi/constants.js';
import { SysError } from '../abi/sys-error.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { isIpcSysctl, sysctlAccess, sysctlRead, sysctlWrite } from '../kernel/sysctl.js';
import { sysvipcShm } from './sysvipc.js';
import { showIdMap, showSetgroups, writeIdMapFile, writeSetgroupsFile } from './userns-files.js';
import { procPidStatus } from './status.js';
import { formatMaps, formatSmaps, formatStatm, formatStatusMemory } from './task-mmu.js';
import { procPidStat } from './stat.js';

const MAY_READ = 4;
const MAY_WRITE = 2;

export type ProcResult<T> = { ok: true; value: T } | { ok: false; errno: number };

const ok = <T>(value: T): ProcResult<T> => ({ ok: true, value });
const fail = (errno: number): ProcResult<never> => ({ ok: false, errno });

/** Per-process files: name -> reader. */
const PID_FILES: Record<string, (p: Process, reader: Process) => string> = {
  maps: (p) => formatMaps(p.mm),
  smaps: (p) => formatSmaps(p.mm),
  statm: (p) => formatStatm(p.mm),
  stat: (p) => procPidStat(p),
  status: (p, reader) => procPidStatus(p, reader, (q) => formatStatusMemory(q.mm)),
  comm: (p) => `${p.comm}\n`,
  cmdline: (p) => p.argv.map((a) => a + '\0').join(''),
  environ: (p) => p.env.map((a) => a + '\0').join(''),
  oom_score_adj: (p) => `${p.oomScoreAdj}\n`,
  uid_map: (p, reader) => showIdMap(p, reader, 'uid'),
  gid_map: (p, reader) => showIdMap(p, reader, 'gid'),
  setgroups: (p) => showSetgroups(p),
};

/**
 * Who reads: a process, or (when none is given) a root reader in the
 * initial namespaces, as a shell of the host would see the files.
 */
export type Reader = Process | undefined;

export class ProcFs {
  constructor(readonly kernel: Kernel) {}

  /** The process a read or write is done as: the given one, or an init-namespace root reader. */
  private as(reader: Reader): Process {
    return reader ?? this.kernel.rootReader();
  }

  /** Splits "/proc/..." into its components; null when not under /proc. */
  private parts(path: string): string[] | null {
    const m = /^\/proc(\/.*)?$/.exec(path.replace(/\/+/g, '/').replace(/\/$/, ''));
    if (!m) return null;
    return (m[1] ?? '').split('/').filter(Boolean);
  }

  private task(name: string, reader: Process): Process | null {
    if (name === 'self') return reader.alive && this.kernel.processes.get(reader.pid) === reader ? reader : null;
    if (!/^[1-9][0-9]*$/.test(name)) return null;
    const p = this.kernel.processes.get(Number(name));
    return p && p.alive ? p : null;
  }

  /** Reads a whole file as `reader` would. */
  read(path: string, readerArg?: Reader): ProcResult<string> {
    const reader = this.as(readerArg);
    const parts = this.parts(path);
    if (!parts) return fail(Errno.ENOENT);
    if (parts.length === 2 && parts[0] === 'sysvipc' && parts[1] === 'shm') {
      return ok(sysvipcShm(reader.shmNs, reader.cred.userNs));
    }
    if (parts.length === 3 && parts[0] === 'sys' && parts[1] === 'kernel' && isIpcSysctl(parts[2]!)) {
      const name = parts[2]!;
      if (!(sysctlAccess(reader.shmNs, name, reader.cred) & MAY_READ)) return fail(Errno.EACCES);
      return ok(sysctlRead(reader.shmNs, name));
    }
    const p = parts.length >= 2 ? this.task(parts[0]!, reader) : null;
    if (p) {
      if (parts.length === 3 && parts[1] === 'ns' && parts[2] === 'ipc') return ok(`ipc:[${p.ipcNs.inum}]`);
      const f = parts.length === 2 ? PID_FILES[parts[1]!] : undefined;
      if (f) return ok(f(p, reader));
    }
    return fail(this.readdir(path, reader).ok ? Errno.EISDIR : Errno.ENOENT);
  }

  /** Reads a whole file, throwing SysError on failure (the typed counterpart of read()). */
  readText(path: string, reader?: Reader): string {
    const r = this.read(path, reader);
    if (!r.ok) throw new SysError('open', r.errno);
    return r.value;
  }

  /** Writes a file as `writer` would (sysctls and oom_score_adj). */
  write(path: string, text: string, writerArg?: Reader): ProcResult<0> {
    const writer = this.as(writerArg);
    const parts = this.parts(path);
    if (!parts) return fail(Errno.ENOENT);
    if (parts.length === 3 && parts[0] === 'sys' && parts[1] === 'kernel' && isIpcSysctl(parts[2]!)) {
      const name = parts[2]!;
      if (!(sysctlAccess(writer.shmNs, name, writer.cred) & MAY_WRITE)) return fail(Errno.EACCES);
      const r = sysctlWrite(writer.shmNs, name, text);
      return r < 0 ? fail(-r) : ok(0);
    }
    if (parts.length === 2 && ['uid_map', 'gid_map', 'setgroups'].includes(parts[1]!)) {
      const p = this.task(parts[0]!, writer);
      if (!p) return fail(Errno.ENOENT);
      const r = parts[1] === 'setgroups' ? writeSetgroupsFile(p, writer, text)
        : writeIdMapFile(p, writer, parts[1] === 'uid_map' ? 'uid' : 'gid', text);
      return r < 0 ? fail(-r) : ok(0);
    }
    if (parts.length === 2 && parts[1] === 'oom_score_adj') {
      const p = this.task(parts[0]!, writer);
      if (!p) return fail(Errno.ENOENT);
      const m = /^\s*(-?\d+)\s*$/.exec(text);
      if (!m) return fail(Errno.EINVAL);
      const v = Number(m[1]);
      if (v < -1000 || v > 1000) return fail(Errno.EINVAL);
      // __set_oom_adj(): going below oom_score_adj_min needs CAP_SYS_RESOURCE;
      // a privileged write also lowers the minimum.
      if (v < p.oomScoreAdjMin && !writer.capable(Capability.CAP_SYS_RESOURCE)) return fail(Errno.EACCES);
      p.oomScoreAdj = v;
      if (writer.capable(Capability.CAP_SYS_RESOURCE)) p.oomScoreAdjMin = v;
      return ok(0);
    }
    const r = this.read(path, writer);
    return fail(r.ok ? Errno.EACCES : r.errno);
  }

  /** Lists a directory. */
  readdir(path: string, readerArg?: Reader): ProcResult<string[]> {
    const reader = this.as(readerArg);
    const parts = this.parts(path);
    if (!parts) return fail(Errno.ENOENT);
    if (parts.length === 0) {
      return ok(['self', 'sys', 'sysvipc', ...this.kernel.live.map((p) => String(p.pid))]);
    }
    if (parts.length === 1 && parts[0] === 'sysvipc') return ok(['shm']);
    if (parts.length === 1 && parts[0] === 'sys') return ok(['kernel']);
    if (parts.length === 2 && parts[0] === 'sys' && parts[1] === 'kernel') {
      return ok(['shm_next_id', 'shm_rmid_forced', 'shmall', 'shmmax', 'shmmni']);
    }
    if (parts.length === 1 && this.task(parts[0]!, reader)) return ok([...Object.keys(PID_FILES), 'ns'].sort());
    if (parts.length === 2 && parts[1] === 'ns' && this.task(parts[0]!, reader)) return ok(['ipc']);
    return fail(Errno.ENOENT);
  }
}
