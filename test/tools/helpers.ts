/**
 * Differential testing of the IPC tools: one scenario state built on the
 * model and on the Linux oracle with the same backend calls, the tool run on
 * both (the model's implementation; the real /usr/bin program as a child of
 * the oracle's agent), and the outputs compared after normalising only what
 * must differ between two runs: time values and pids.
 */
import assert from 'node:assert/strict';
import { IPC_STAT } from '../../src/abi/constants.js';
import { SHMID64_DS_SIZE, encodeIpcSet } from '../../src/abi/structs.js';
import { OracleBackend } from '../../src/oracle/oracle-backend.js';
import type { Backend, ProcHandle, SysResult } from '../../src/scenario/backend.js';
import { ModelBackend } from '../../src/scenario/model-backend.js';
import { ipcmk } from '../../src/tools/ipcmk.js';
import { ipcrm } from '../../src/tools/ipcrm.js';
import { ipcs } from '../../src/tools/ipcs.js';
import { ctimeUtc } from '../../src/tools/libc.js';
import type { ToolResult } from '../../src/tools/process.js';

/** Why the oracle cannot run here, or false (the differential tests then fail with it). */
export { oracleUnavailable as oracleSkip } from '../helpers/oracle.js';

export function ok<T>(r: SysResult<T>): T {
  if (!r.ok) assert.fail(`expected success, got errno ${r.errno}`);
  return r.value;
}

export type ToolName = 'ipcs' | 'ipcrm' | 'ipcmk';

const TOOLS = { ipcs, ipcrm, ipcmk };

/** What one side printed, with times and pids normalised. */
export interface Outcome {
  stdout: string;
  stderr: string;
  status: number;
}

const DAY = '(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat)';
const MON = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const LONG_TIME = new RegExp(`${DAY} ${MON} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}`, 'g');
const SHORT_TIME = new RegExp(`${MON} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d`, 'g');

/**
 * Replaces every ctime() string by a placeholder of the same width ("Not
 * set" stays), and every pid in the pid columns (ipcs -p, ipcs -i) by the
 * name of its process, padded to the column's width.
 */
export function normalise(text: string, pidName: (pid: number) => string): string {
  text = text.replace(LONG_TIME, 'T'.repeat(24)).replace(SHORT_TIME, 'T'.repeat(15));
  text = text.replace(/lpid=(\d+)\tcpid=(\d+)/g, (_m, l: string, c: string) => `lpid=${pidName(Number(l))}\tcpid=${pidName(Number(c))}`);
  const out: string[] = [];
  let inPids = false;
  for (const line of text.split('\n')) {
    if (/^------ .*PIDs --------$/.test(line)) inPids = true;
    else if (line === '') inPids = false;
    else if (inPids && /^\d+ /.test(line) && line.length === 43) {
      // "%-10d %-10.10s %-10u %-10u"
      const col = (a: number) => line.slice(a, a + 10);
      const pid = (a: number) => pidName(Number(col(a).trim())).padEnd(10, ' ');
      out.push(`${col(0)} ${col(11)} ${pid(22)} ${pid(33)}`);
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}

/** One side of a twin: a backend and the names of its pids. */
interface Side {
  backend: Backend;
  names: Map<number, string>;
}

/**
 * The model and the oracle side by side. Every state-changing call is made
 * on both and must give the same result; tools run on both and their
 * normalised outputs are returned for comparison.
 */
export class Twin {
  readonly model = new ModelBackend();
  readonly oracle = new OracleBackend({ quiet: true });
  private readonly sides: [Side, Side] = [
    { backend: this.model, names: new Map() },
    { backend: this.oracle, names: new Map() },
  ];
  private readonly handles = new Map<string, ProcHandle>();
  private toolRuns = 0;

  async start(): Promise<void> {
    for (const s of this.sides) s.names.set(await s.backend.start(), 'p0');
    this.handles.set('p0', 0);
  }

  close(): Promise<void[]> {
    return Promise.all(this.sides.map((s) => s.backend.close()));
  }

  handle(proc: string): ProcHandle {
    const h = this.handles.get(proc);
    if (h === undefined) throw new Error(`no process ${proc}`);
    return h;
  }

  /** Runs the same call on both backends and asserts equal results; returns the value. */
  async both<T>(what: string, fn: (b: Backend) => Promise<T>): Promise<T> {
    const m = await fn(this.model);
    const o = await fn(this.oracle);
    assert.deepEqual(m, o, `${what}: model and Linux differ`);
    return m;
  }

  async fork(parent: string, child: string): Promise<void> {
    const h = this.handles.size;
    for (const s of this.sides) s.names.set(ok(await s.backend.fork(this.handle(parent), h)), child);
    this.handles.set(child, h);
  }

  async shmget(proc: string, key: number, size: bigint, flags: number): Promise<number> {
    return Number(ok(await this.both(`shmget ${key}`, (b) => b.shmget(this.handle(proc), key | 0, size, flags))));
  }

  /** shmat on both; the addresses may differ, so each side keeps its own. */
  async shmat(proc: string, id: number): Promise<[bigint, bigint]> {
    const m = ok(await this.model.shmat(this.handle(proc), id, 0n, 0));
    const o = ok(await this.oracle.shmat(this.handle(proc), id, 0n, 0));
    return [m, o];
  }

  async shmdt(proc: string, addrs: [bigint, bigint]): Promise<void> {
    assert.deepEqual(await this.model.shmdt(this.handle(proc), addrs[0]), await this.oracle.shmdt(this.handle(proc), addrs[1]));
  }

  async fill(proc: string, addrs: [bigint, bigint], len: bigint, byte: number): Promise<void> {
    assert.deepEqual(await this.model.fill(this.handle(proc), addrs[0], len, byte),
      await this.oracle.fill(this.handle(proc), addrs[1], len, byte));
  }

  /** shmctl without a meaningful buffer (IPC_RMID, SHM_LOCK, ...): the return value. */
  async shmctl(proc: string, id: number, cmd: number): Promise<SysResult> {
    return this.both(`shmctl ${id} ${cmd}`, async (b) => (await b.shmctl(this.handle(proc), id, cmd, new Uint8Array(SHMID64_DS_SIZE))).ret);
  }

  async ipcSet(proc: string, id: number, uid: number, gid: number, mode: number): Promise<void> {
    ok(await this.both(`IPC_SET ${id}`, async (b) => (await b.shmctl(this.handle(proc), id, 1, encodeIpcSet(uid, gid, mode))).ret));
  }

  /** IPC_STAT's result only (success or errno) on both. */
  async statResult(proc: string, id: number): Promise<SysResult> {
    return this.both(`IPC_STAT ${id}`, async (b) => (await b.shmctl(this.handle(proc), id, IPC_STAT, new Uint8Array(SHMID64_DS_SIZE))).ret);
  }

  async creds(proc: string, uid: number, gid: number, caps = 0n): Promise<void> {
    ok(await this.both(`creds ${proc}`, (b) => b.creds(this.handle(proc), uid, gid, [], caps)));
  }

  /**
   * Runs a tool as a program started by `proc` on both sides and returns the
   * two normalised outcomes [model, linux]. The tool's own pid is named
   * "tool#N" (N counts the tool runs of this twin).
   */
  async tool(proc: string, tool: ToolName, args: string[]): Promise<[Outcome, Outcome]> {
    const name = `tool#${this.toolRuns++}`;
    const h = this.handle(proc);
    const [ms, os] = this.sides;
    const p = this.model.kernel.processes.get([...ms.names].find(([, n]) => n === proc)![0])!;
    const m: ToolResult = TOOLS[tool](this.model.kernel, args, p, { ctime: ctimeUtc });
    ms.names.set(m.pid, name);
    const o = await this.oracle.exec(h, [tool, ...args]);
    os.names.set(o.pid, name);
    const out = (s: Side, r: { stdout: string; stderr: string; status: number }): Outcome => {
      const pidName = (pid: number) => (pid === 0 ? '0' : s.names.get(pid) ?? `?${pid}`);
      return { stdout: normalise(r.stdout, pidName), stderr: normalise(r.stderr, pidName), status: r.status };
    };
    return [out(ms, m), out(os, o)];
  }

  /** Runs a tool on both and asserts identical normalised output; returns it. */
  async same(proc: string, tool: ToolName, args: string[], mask?: (s: string) => string): Promise<Outcome> {
    const [m, o] = await this.tool(proc, tool, args);
    if (mask) for (const x of [m, o]) { x.stdout = mask(x.stdout); x.stderr = mask(x.stderr); }
    assert.deepEqual(m, o, `${proc}: ${tool} ${args.join(' ')}: the model (actual) differs from Linux (expected)`);
    return m;
  }
}
