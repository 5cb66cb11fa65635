/**
 * The scenario interpreter: executes a parsed script on a Backend and prints
 * one result line per command (scenario spec sections 3 to 5). It is the only
 * place that converts arguments to C types and renders results, so the oracle
 * and the model are compared through exactly the same lens.
 */
import type { Backend, ProcHandle, SysResult, AccessResult } from './backend.js';
import type { Script, Line, Command, IpcSetArgs } from './parser.js';
import { ScriptError } from './errors.js';
import { type ValueExpr, wrap64 } from './values.js';
import {
  encodeBytes, renderRelative, renderChosen, renderTime, renderMode, decodeShmidDs,
  renderShminfo, renderShmInfo, parseMaps, type AddressVar, type MapsRow,
} from './render.js';
import { errnoName } from '../abi/errno.js';
import { SHMID64_DS_SIZE, encodeIpcSet } from '../abi/structs.js';
import {
  IPC_STAT, IPC_SET, IPC_INFO, SHM_STAT, SHM_STAT_ANY, SHM_INFO, MREMAP_FIXED,
} from '../abi/constants.js';

/** Where result lines go. */
export type Sink = (line: string) => void;


/** C `int`/`key_t`: truncate to 32 bits, two's complement. */
export function toInt(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** C `uid_t`/`gid_t`/`mode_t`: truncate to 32 bits, unsigned. */
export function toU32(v: bigint): number {
  return Number(BigInt.asUintN(32, v));
}

interface Variable {
  value: bigint;
  order: number;
  isAddress: boolean;
}

interface ProcState {
  handle: ProcHandle;
  pid: number;
  alive: boolean;
}

export class Interpreter {
  private vars = new Map<string, Variable>();
  private bindCount = 0;
  private procs = new Map<string, ProcState>();
  private pidNames = new Map<number, string>();
  private nextHandle = 0;

  constructor(private backend: Backend, private out: Sink) {}

  /** Runs the whole script. Throws ScriptError for a script error. */
  async run(script: Script): Promise<void> {
    const pid = await this.backend.start();
    this.addProc('p0', pid);
    for (const parsed of script.lines) {
      if (!parsed.ok) throw parsed.error;
      try {
        await this.execLine(parsed.value);
      } catch (e) {
        if (e instanceof ScriptError) e.file = script.file;
        throw e;
      }
    }
  }

  private addProc(name: string, pid: number): ProcState {
    const st: ProcState = { handle: this.nextHandle++, pid, alive: true };
    this.procs.set(name, st);
    this.pidNames.set(pid, name);
    return st;
  }

  private addressVars(): AddressVar[] {
    const list: AddressVar[] = [];
    for (const [name, v] of this.vars) if (v.isAddress) list.push({ name, value: v.value, order: v.order });
    return list;
  }

  private eval(e: ValueExpr, line: number): bigint {
    if (e.kind === 'const') return e.value;
    const v = this.vars.get(e.name);
    if (!v) throw new ScriptError(line, `unbound variable '$${e.name}'`);
    return wrap64(v.value + e.offset);
  }

  private pidName(pid: number): string {
    if (pid === 0) return '0';
    return this.pidNames.get(pid) ?? '?';
  }

  private bind(name: string, value: bigint, isAddress: boolean): void {
    this.vars.set(name, { value, order: ++this.bindCount, isAddress });
  }

  private static errno(r: { ok: false; errno: number }): string {
    return `-1 ${errnoName(r.errno)}`;
  }

  private static access(r: AccessResult, dataResult: boolean): string {
    if (r.fault) return `${r.fault.signal} @${r.fault.offset}`;
    return dataResult ? encodeBytes(r.data) : '0';
  }

  private async execLine(l: Line): Promise<void> {
    const st = this.procs.get(l.proc);
    if (!st) throw new ScriptError(l.line, `unknown process '${l.proc}'`);
    if (!st.alive) throw new ScriptError(l.line, `process '${l.proc}' has exited`);
    const rows: string[] = [];
    const result = await this.exec(l, st.handle, l.command, rows);
    this.out(`${l.line}: ${result}`);
    for (const r of rows) this.out(`${l.line}| ${r}`);
  }

  private async exec(l: Line, p: ProcHandle, c: Command, rows: string[]): Promise<string> {
    const b = this.backend;
    const v = (e: ValueExpr) => this.eval(e, l.line);
    const simple = (r: SysResult<unknown>) => (r.ok ? String(r.value) : Interpreter.errno(r));
    switch (c.verb) {
      case 'fork': {
        if (this.procs.has(c.child)) throw new ScriptError(l.line, `process name '${c.child}' is already used`);
        const handle = this.nextHandle;
        const r = await b.fork(p, handle);
        if (!r.ok) return Interpreter.errno(r);
        this.addProc(c.child, r.value);
        return '0';
      }
      case 'exit': {
        await b.exit(p);
        this.procs.get(l.proc)!.alive = false;
        return '0';
      }
      case 'creds': {
        const groups = c.groups.map((g) => toU32(v(g)));
        const caps = c.caps.reduce((m, bit) => m | (1n << bit), 0n);
        return simple(await b.creds(p, toU32(v(c.uid)), toU32(v(c.gid)), groups, caps));
      }
      case 'unshare':
        return simple(await b.unshareIpc(p));
      case 'setrlimit':
        return simple(await b.setrlimitMemlock(p, v(c.cur), v(c.max)));
      case 'sysctl': {
        const path = '/proc/sys/' + c.name.replace(/\./g, '/');
        if (c.value === null) {
          const r = await b.readFile(p, path);
          return r.ok ? r.value.trim() : Interpreter.errno(r);
        }
        // unsigned long for shmmax and shmall, int for the others.
        const raw = v(c.value);
        const text = c.name === 'kernel.shmmax' || c.name === 'kernel.shmall' ? raw.toString() : String(toInt(raw));
        return simple(await b.writeFile(p, path, text));
      }
      case 'shmget': {
        const r = await b.shmget(p, toInt(v(c.key)), v(c.size), toInt(v(c.flags)));
        if (!r.ok) return Interpreter.errno(r);
        if (l.bind) this.bind(l.bind, r.value, false);
        return String(r.value);
      }
      case 'shmat': {
        const addr = v(c.addr);
        const r = await b.shmat(p, toInt(v(c.id)), addr, toInt(v(c.flags)));
        return this.addressResult(l, r, addr !== 0n);
      }
      case 'shmdt':
        return simple(await b.shmdt(p, v(c.addr)));
      case 'shmctl':
        return this.shmctl(l, p, toInt(v(c.id)), toInt(v(c.cmd)), c.set);
      case 'mmap': {
        const addr = v(c.addr);
        const r = await b.mmap(p, addr, v(c.len), toInt(v(c.prot)), toInt(v(c.flags)));
        return this.addressResult(l, r, addr !== 0n);
      }
      case 'munmap':
        return simple(await b.munmap(p, v(c.addr), v(c.len)));
      case 'mprotect':
        return simple(await b.mprotect(p, v(c.addr), v(c.len), toInt(v(c.prot))));
      case 'mremap': {
        const old = v(c.old);
        const flags = toInt(v(c.flags));
        const r = await b.mremap(p, old, v(c.oldLen), v(c.newLen), flags, c.newAddr ? v(c.newAddr) : 0n);
        const relative = r.ok && ((flags & MREMAP_FIXED) !== 0 || r.value === old);
        return this.addressResult(l, r, relative);
      }
      case 'madvise':
        return simple(await b.madvise(p, v(c.addr), v(c.len), toInt(v(c.advice))));
      case 'write':
        return Interpreter.access(await b.write(p, v(c.addr), c.bytes), false);
      case 'fill':
        return Interpreter.access(await b.fill(p, v(c.addr), v(c.len), Number(v(c.byte) & 0xffn)), false);
      case 'read':
        return Interpreter.access(await b.read(p, v(c.addr), v(c.len)), true);
      case 'maps': {
        const found = await this.mapsRows(l, p);
        for (const r of found) if (r.path.startsWith('/SYSV')) rows.push(this.renderMapsRow(r));
        return String(rows.length);
      }
      case 'vmas': {
        const start = v(c.addr);
        const end = start + v(c.len);
        const found = await this.mapsRows(l, p);
        for (const r of found) if (r.start < end && r.end > start) rows.push(this.renderMapsRow(r));
        return String(rows.length);
      }
      case 'sysvipc': {
        const r = await b.readFile(p, '/proc/sysvipc/shm');
        if (!r.ok) return Interpreter.errno(r);
        const lines = r.value.split('\n').slice(1).filter((x) => x.trim() !== '');
        for (const line of lines) rows.push(this.renderSysvipcRow(line));
        return String(rows.length);
      }
    }
  }

  /** Renders an address result and makes the line's binding (after rendering). */
  private addressResult(l: Line, r: SysResult, relative: boolean): string {
    if (!r.ok) return Interpreter.errno(r);
    const vars = this.addressVars();
    const text = relative ? renderRelative(r.value, vars) : renderChosen(r.value, vars);
    if (l.bind) this.bind(l.bind, r.value, true);
    return text;
  }

  private async shmctl(l: Line, p: ProcHandle, id: number, cmd: number, set: IpcSetArgs | null): Promise<string> {
    if (cmd === IPC_SET && !set) throw new ScriptError(l.line, `'shmctl ... IPC_SET' needs uid=, gid= and mode=`);
    if (cmd !== IPC_SET && set) throw new ScriptError(l.line, `key=value arguments are only allowed with IPC_SET`);
    const buf = set
      ? encodeIpcSet(toU32(this.eval(set.uid, l.line)), toU32(this.eval(set.gid, l.line)), toU32(this.eval(set.mode, l.line)))
      : new Uint8Array(SHMID64_DS_SIZE);
    const { ret, buf: after } = await this.backend.shmctl(p, id, cmd, buf);
    if (!ret.ok) return Interpreter.errno(ret);
    const r = String(ret.value);
    switch (cmd) {
      case IPC_STAT:
      case SHM_STAT:
      case SHM_STAT_ANY: {
        const s = decodeShmidDs(after);
        return `${r} {key=${s.key} uid=${s.uid} gid=${s.gid} cuid=${s.cuid} cgid=${s.cgid} ` +
          `mode=${renderMode(s.mode)} seq=${s.seq} segsz=${s.segsz} atime=${renderTime(s.atime)} ` +
          `dtime=${renderTime(s.dtime)} ctime=${renderTime(s.ctime)} cpid=${this.pidName(s.cpid)} ` +
          `lpid=${this.pidName(s.lpid)} nattch=${s.nattch}}`;
      }
      case IPC_INFO:
        return `${r} ${renderShminfo(after)}`;
      case SHM_INFO:
        return `${r} ${renderShmInfo(after)}`;
      default:
        return r;
    }
  }

  private async mapsRows(l: Line, p: ProcHandle): Promise<MapsRow[]> {
    const r = await this.backend.readFile(p, '/proc/self/maps');
    if (!r.ok) throw new ScriptError(l.line, `cannot read /proc/self/maps: ${errnoName(r.errno)}`);
    return parseMaps(r.value);
  }

  private renderMapsRow(r: MapsRow): string {
    const vars = this.addressVars();
    // The inode of shared anonymous memory differs from run to run on Linux.
    const inode = r.path === '/dev/zero (deleted)' ? '?' : r.inode;
    const head = `${renderRelative(r.start, vars)}-${renderRelative(r.end, vars)} ${r.perms} ${r.offset} ${r.dev} ${inode}`;
    return r.path ? `${head} ${r.path}` : head;
  }

  /** A /proc/sysvipc/shm row: single spaces, pids as names, times as 0/T. */
  private renderSysvipcRow(line: string): string {
    const f = line.trim().split(/\s+/);
    // key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap
    if (f.length >= 14) {
      f[4] = this.pidName(Number(f[4]));
      f[5] = this.pidName(Number(f[5]));
      for (const i of [11, 12, 13]) f[i] = renderTime(BigInt(f[i]!));
    }
    return f.join(' ');
  }
}

/** Runs a script on a backend, always closing the backend. */
export async function runScript(script: Script, backend: Backend, out: Sink): Promise<void> {
  const interp = new Interpreter(backend, out);
  try {
    await interp.run(script);
  } finally {
    await backend.close();
  }
}
