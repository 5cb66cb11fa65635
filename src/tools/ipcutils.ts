/**
 * util-linux sys-utils/ipcutils.c (2.38) for shared memory: reading the
 * segments from /proc/sysvipc/shm (ipc_shm_get_info), the limits from
 * /proc/sys/kernel/shm{all,max,mni} (ipc_shm_get_limits), and the shared
 * printers ipc_print_perms() and ipc_print_size(). The model has no message
 * queues and no semaphores: their namespaces are always empty, with the
 * limits a fresh IPC namespace shows (below).
 */
import { IPC_INFO, SHM_INFO, SHM_STAT, SHMMIN } from '../abi/constants.js';
import { SHMID64_DS_SIZE, decodeShmInfo64, decodeShmidDs } from '../abi/structs.js';
import { padLeft, padRight, u32, u64, type ToolIo } from './libc.js';
import type { NameService } from './passwd.js';
import type { ToolContext } from './process.js';
import { sizeToHumanString } from './strutils.js';

/**
 * The message-queue and semaphore limits of a fresh IPC namespace on the
 * reference machine (Linux 6.18, read with `ipcs -l` after `unshare --ipc`):
 * include/uapi/linux/msg.h MSGMNI, MSGMAX, MSGMNB and include/uapi/linux/sem.h
 * SEMMSL, SEMMNS, SEMOPM, SEMMNI; SEMVMX is util-linux's own define.
 */
export const MSG_DEFAULTS = { msgmni: 32000, msgmax: 8192n, msgmnb: 16384 } as const;
export const SEM_DEFAULTS = { semmsl: 32000, semmns: 1024000000, semopm: 500, semmni: 32000, semvmx: 32767 } as const;

/** ipcutils.h IPC_UNIT_*. */
export const enum Unit { DEFAULT = 0, BYTES = 1, KB = 2, HUMAN = 3 }

/** ipcutils.h struct shm_data (the /proc/sysvipc/shm columns). */
export interface ShmData {
  key: number;
  id: number;
  mode: number;
  segsz: bigint;
  cprid: number;
  lprid: number;
  nattch: bigint;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  atim: bigint;
  dtim: bigint;
  ctim: bigint;
  rss: bigint;
  swp: bigint;
}

/** sscanf "%d %d  %o %lu %u %u  %lu %u %u %u %u %li %li %li %lu %lu": the fields read before the first mismatch. */
function scanRow(line: string): ShmData | null {
  const t = line.trim().split(/\s+/);
  const dec = /^[+-]?[0-9]+$/;
  const oct = /^[+-]?[0-7]+$/;
  const n = (i: number, re = dec) => (t[i] !== undefined && re.test(t[i]!) ? BigInt(re === oct ? parseInt(t[i]!, 8) : t[i]!) : null);
  const v: (bigint | null)[] = [];
  for (let i = 0; i < 16; i++) {
    const x = n(i, i === 2 ? oct : dec);
    if (x === null) break;
    v.push(x);
  }
  if (v.length < 14) return null;  // "invalid line, skipped"
  const g = (i: number) => v[i] ?? 0xdeadn;
  return {
    key: Number(BigInt.asIntN(32, g(0))), id: Number(BigInt.asIntN(32, g(1))), mode: Number(BigInt.asUintN(32, g(2))),
    segsz: BigInt.asUintN(64, g(3)), cprid: Number(BigInt.asUintN(32, g(4))), lprid: Number(BigInt.asUintN(32, g(5))),
    nattch: BigInt.asUintN(64, g(6)),
    uid: Number(BigInt.asUintN(32, g(7))), gid: Number(BigInt.asUintN(32, g(8))),
    cuid: Number(BigInt.asUintN(32, g(9))), cgid: Number(BigInt.asUintN(32, g(10))),
    atim: g(11), dtim: g(12), ctim: g(13), rss: g(14), swp: g(15),
  };
}

/**
 * ipc_shm_get_info(): with id > -1, the segment with that id (at most one
 * element); otherwise every segment, in /proc/sysvipc/shm order. Reads the
 * file as the tool process; only if it cannot be opened, SHM_INFO then
 * SHM_STAT on every index (the fallback copies cuid into cgid, as util-linux
 * does).
 */
export function ipcShmGetInfo(ctx: ToolContext, id: number): ShmData[] {
  const f = ctx.procfs.read('/proc/sysvipc/shm', ctx.proc);
  const out: ShmData[] = [];
  if (f.ok) {
    const lines = f.value.split('\n');
    for (const line of lines.slice(1)) {
      if (line === '') continue;
      const p = scanRow(line);
      if (!p) continue;
      if (id > -1) {
        if (id === p.id) return [p];
        continue;
      }
      out.push(p);
    }
    return out;
  }
  // shm_fallback:
  const buf = new Uint8Array(SHMID64_DS_SIZE);
  const maxid = ctx.proc.sys.shmctl(0, SHM_INFO, buf);
  for (let j = 0; j <= maxid; j++) {
    const b = new Uint8Array(SHMID64_DS_SIZE);
    const shmid = ctx.proc.sys.shmctl(j, SHM_STAT, b);
    if (shmid < 0 || (id > -1 && shmid !== id)) continue;
    const d = decodeShmidDs(b);
    out.push({
      key: d.key, id: shmid, mode: d.mode, segsz: d.segsz, cprid: d.cpid >>> 0, lprid: d.lpid >>> 0,
      nattch: d.nattch, uid: d.uid, gid: d.gid, cuid: d.cuid, cgid: d.cuid,
      atim: d.atime, dtim: d.dtime, ctim: d.ctime, rss: 0xdeadn, swp: 0xdeadn,
    });
    if (id > -1) break;
  }
  return out;
}

/** struct ipc_limits (the shm part). */
export interface ShmLimits {
  shmmni: bigint;
  shmmax: bigint;
  shmall: bigint;
  shmmin: bigint;
}

/** lib/path.c ul_path_read_u64(): the file's first number, or null. */
function readU64(ctx: ToolContext, path: string): bigint | null {
  const r = ctx.procfs.read(path, ctx.proc);
  if (!r.ok) return null;
  const m = /^\s*([0-9]+)/.exec(r.value);
  return m ? BigInt.asUintN(64, BigInt(m[1]!)) : null;
}

/**
 * ipc_shm_get_limits(): /proc/sys/kernel/shmall, shmmax and shmmni when the
 * three exist (access(F_OK)), else shmctl(IPC_INFO). null where it fails.
 */
export function ipcShmGetLimits(ctx: ToolContext): ShmLimits | null {
  const paths = ['/proc/sys/kernel/shmall', '/proc/sys/kernel/shmmax', '/proc/sys/kernel/shmmni'];
  const dir = ctx.procfs.readdir('/proc/sys/kernel', ctx.proc);
  if (dir.ok && ['shmall', 'shmmax', 'shmmni'].every((n) => dir.value.includes(n))) {
    // The read errors are ignored, as in util-linux: the field keeps 0.
    return {
      shmmin: BigInt(SHMMIN),
      shmall: readU64(ctx, paths[0]!) ?? 0n,
      shmmax: readU64(ctx, paths[1]!) ?? 0n,
      shmmni: readU64(ctx, paths[2]!) ?? 0n,
    };
  }
  const b = new Uint8Array(SHMID64_DS_SIZE);
  if (ctx.proc.sys.shmctl(0, IPC_INFO, b) < 0) return null;
  const i = decodeShmInfo64(b);
  return { shmmin: BigInt(SHMMIN), shmmni: i.shmmni, shmall: i.shmall, shmmax: i.shmmax };
}

/** ipc_print_perms(): "%-10d %-10o" then cuid, cgid, uid, gid as names (" %-10s") or numbers (" %-10u"). */
export function ipcPrintPerms(io: ToolIo, names: NameService, p: { id: number; mode: number; cuid: number; cgid: number; uid: number; gid: number }): void {
  const user = (uid: number) => ` ${padLeft(names.userName(uid) ?? u32(uid), 10)}`;
  const group = (gid: number) => ` ${padLeft(names.groupName(gid) ?? u32(gid), 10)}`;
  io.print(`${padLeft(p.id, 10)} ${padLeft((p.mode & 0o777).toString(8), 10)}`);
  io.print(user(p.cuid) + group(p.cgid) + user(p.uid) + group(p.gid) + '\n');
}

/**
 * ipc_print_size(): an optional "MSG = " / "MSG (bytes) = " / "MSG (kbytes) = "
 * label (a label ending in '=' is printed as is), the size in the unit
 * ("%<width>ju", or size_to_human_string in "%<width>s"), then `end`.
 * A negative width left-justifies, 0 means none.
 */
export function ipcPrintSize(io: ToolIo, unit: Unit, msg: string | null, size: bigint, end: string | null, width: number): void {
  let s = '';
  if (msg === null) {
    // no label
  } else if (msg.endsWith('=')) s += msg;
  else if (unit === Unit.BYTES) s += `${msg} (bytes) = `;
  else if (unit === Unit.KB) s += `${msg} (kbytes) = `;
  else s += `${msg} = `;
  const fmt = (v: string) => (width < 0 ? padLeft(v, -width) : padRight(v, width));
  switch (unit) {
    case Unit.DEFAULT:
    case Unit.BYTES:
      s += fmt(u64(size));
      break;
    case Unit.KB:
      s += fmt(u64(BigInt.asUintN(64, size) / 1024n));
      break;
    case Unit.HUMAN:
      s += fmt(sizeToHumanString(size));
      break;
  }
  if (end !== null) s += end;
  io.print(s);
}
