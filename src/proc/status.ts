/**
 * /proc/PID/status (fs/proc/array.c proc_pid_status): task state, ids,
 * groups, the memory lines of task_mem() and the capability sets. Fields
 * the model has no notion of (signals, seccomp, cpusets) show the values an
 * ordinary single-threaded process shows.
 */
import { fromKgidMunged, fromKuidMunged } from '../auth/userns.js';
import type { Process } from '../kernel/process.js';

const hex16 = (v: bigint) => v.toString(16).padStart(16, '0');

/** The Vm and Rss lines, as task_mem() prints them; provided by the memory manager. */
export type TaskMemLines = (p: Process) => string;

export function procPidStatus(p: Process, reader: Process, taskMem: TaskMemLines): string {
  const c = p.cred;
  const ns = reader.cred.userNs;
  const u = (k: number) => fromKuidMunged(ns, k);
  const g = (k: number) => fromKgidMunged(ns, k);
  const state = p.alive ? 'S (sleeping)' : 'Z (zombie)';
  let s = '';
  s += `Name:\t${p.comm}\n`;
  s += 'Umask:\t0022\n';
  s += `State:\t${state}\n`;
  s += `Tgid:\t${p.pid}\nNgid:\t0\nPid:\t${p.pid}\nPPid:\t${p.ppid}\nTracerPid:\t0\n`;
  s += `Uid:\t${u(c.uid)}\t${u(c.euid)}\t${u(c.suid)}\t${u(c.fsuid)}\n`;
  s += `Gid:\t${g(c.gid)}\t${g(c.egid)}\t${g(c.sgid)}\t${g(c.fsgid)}\n`;
  s += 'FDSize:\t64\n';
  // Space-separated, then one more space (seq_putc(m, ' ')), even when empty.
  s += `Groups:\t${c.groups.map(g).join(' ')} \n`;
  s += `NStgid:\t${p.pid}\nNSpid:\t${p.pid}\nNSpgid:\t${p.pid}\nNSsid:\t${p.pid}\nKthread:\t0\n`;
  if (p.alive) s += taskMem(p);
  s += 'CoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\n';
  s += 'Threads:\t1\nSigQ:\t0/96364\n';
  for (const f of ['SigPnd', 'ShdPnd', 'SigBlk', 'SigIgn', 'SigCgt']) s += `${f}:\t${hex16(0n)}\n`;
  s += `CapInh:\t${hex16(c.capInheritable)}\nCapPrm:\t${hex16(c.capPermitted)}\nCapEff:\t${hex16(c.capEffective)}\n`;
  s += `CapBnd:\t${hex16(c.capBounding)}\nCapAmb:\t${hex16(c.capAmbient)}\n`;
  s += 'NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n';
  s += `voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n`;
  return s;
}
