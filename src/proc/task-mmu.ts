/**
 * fs/proc/task_mmu.c and fs/proc/array.c for the model: the text of
 * /proc/PID/maps, /proc/PID/smaps, /proc/PID/statm and the memory lines of
 * /proc/PID/status, produced from an AddressSpace. Pure functions.
 */
import { PAGE_SIZE } from '../abi/constants.js';
import type { AddressSpace } from '../mm/address-space.js';
import { vmaKernelPageSize } from '../mm/hugetlb.js';
import {
  VM_EXEC, VM_LOCKED, VM_MAYSHARE, VM_READ, VM_WRITE, type Vma,
} from '../mm/vma.js';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** "[stack]" / "[heap]"-like names of special VMAs, else null. */
function specialName(mm: AddressSpace, vma: Vma): string | null {
  if (mm.startStack && vma.start <= mm.startStack && vma.end >= mm.startStack) return '[stack]';
  return null;
}

/**
 * One maps line (show_map_vma), without the newline:
 * `%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu ` then, when a name follows,
 * padding to 73 columns (seq_setwidth 72 + seq_pad's separator) and the name.
 */
export function mapsLine(mm: AddressSpace, vma: Vma): string {
  const f = vma.flags;
  const file = vma.file;
  let pgoff = 0, dev = '00:00', ino = 0;
  let name: string | null = null;
  if (file) {
    pgoff = vma.pgoff * PAGE_SIZE;
    dev = file.dev;
    ino = file.ino;
    name = file.path;
  } else {
    name = specialName(mm, vma);
  }
  const head = `${hex(vma.start, 8)}-${hex(vma.end, 8)} ${f & VM_READ ? 'r' : '-'}${f & VM_WRITE ? 'w' : '-'}`
    + `${f & VM_EXEC ? 'x' : '-'}${f & VM_MAYSHARE ? 's' : 'p'} ${hex(pgoff, 8)} ${dev} ${ino} `;
  if (name === null) return head;
  // seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) then seq_pad(m, ' ').
  const width = 25 + 8 * 6 - 1;
  return (head.length < width ? head.padEnd(width, ' ') : head) + ' ' + name;
}

/** /proc/PID/maps. */
export function formatMaps(mm: AddressSpace): string {
  let out = '';
  for (const v of mm.tree) out += mapsLine(mm, v) + '\n';
  return out;
}

/** Names of VmFlags bits, in bit order (show_smap_vma_flags, x86_64, this kernel's config). */
const FLAG_NAMES: [number, string][] = [
  [0x1, 'rd'], [0x2, 'wr'], [0x4, 'ex'], [0x8, 'sh'], [0x10, 'mr'], [0x20, 'mw'], [0x40, 'me'],
  [0x80, 'ms'], [0x100, 'gd'], [0x400, 'pf'], [0x2000, 'lo'], [0x4000, 'io'], [0x8000, 'sr'],
  [0x10000, 'rr'], [0x20000, 'dc'], [0x40000, 'de'], [0x80000, 'lf'], [0x100000, 'ac'], [0x200000, 'nr'],
  [0x400000, 'ht'], [0x800000, 'sf'], [0x1000000, 'ar'], [0x2000000, 'wf'], [0x4000000, 'dd'],
  [0x10000000, 'mm'], [0x20000000, 'hg'], [0x40000000, 'nh'], [0x80000000, 'mg'],
  [0x200, 'um'], [0x1000, 'uw'],
];
FLAG_NAMES.sort((a, b) => a[0] - b[0]);

export function vmFlagsString(flags: number): string {
  let s = '';
  for (const [bit, name] of FLAG_NAMES) if ((flags >>> 0) & bit) s += name + ' ';
  return s;
}

/** `%-*s%8lu kB` lines of smaps (SEQ_PUT_DEC with width 8 after a name padded to 16). */
function kb(name: string, bytes: number): string {
  return `${(name + ':').padEnd(16, ' ')}${String(Math.floor(bytes / 1024)).padStart(8, ' ')} kB\n`;
}

/** One VMA's smaps entry. */
export function smapsEntry(mm: AddressSpace, vma: Vma): string {
  const s = mm.smaps(vma);
  let out = mapsLine(mm, vma) + '\n';
  out += kb('Size', vma.end - vma.start);
  // vma_kernel_pagesize() / vma_mmu_pagesize(): the huge page size of a hugetlb VMA.
  const pageSize = vmaKernelPageSize(vma);
  out += kb('KernelPageSize', pageSize);
  out += kb('MMUPageSize', pageSize);
  out += kb('Rss', s.rss);
  out += kb('Pss', s.pss);
  out += kb('Pss_Dirty', s.pssDirty);
  out += kb('Shared_Clean', s.sharedClean);
  out += kb('Shared_Dirty', s.sharedDirty);
  out += kb('Private_Clean', s.privateClean);
  out += kb('Private_Dirty', s.privateDirty);
  out += kb('Referenced', s.referenced);
  out += kb('Anonymous', s.anonymous);
  out += kb('KSM', 0);
  out += kb('LazyFree', s.lazyFree);
  out += kb('AnonHugePages', 0);
  out += kb('ShmemPmdMapped', 0);
  out += kb('FilePmdMapped', 0);
  out += kb('Shared_Hugetlb', 0);
  out += kb('Private_Hugetlb', 0);
  out += kb('Swap', 0);
  out += kb('SwapPss', 0);
  out += kb('Locked', (vma.flags & VM_LOCKED) ? s.pss : 0);
  out += `THPeligible:    ${String(0).padStart(8, " ")}\n`;
  out += `VmFlags: ${vmFlagsString(vma.flags)}\n`;
  return out;
}

/** /proc/PID/smaps. */
export function formatSmaps(mm: AddressSpace): string {
  let out = '';
  for (const v of mm.tree) out += smapsEntry(mm, v);
  return out;
}

/** /proc/PID/statm: size resident shared text lib data dt (pages). */
export function formatStatm(mm: AddressSpace): string {
  const st = mm.stats();
  const resident = st.rssAnon + st.rssFile + st.rssShmem;
  const shared = st.rssFile + st.rssShmem;
  return `${st.totalVm} ${resident} ${shared} ${st.textPages} 0 ${st.dataVm + st.stackVm} 0\n`;
}

/** The memory lines of /proc/PID/status (task_mem), VmPeak through HugetlbPages. */
export function formatStatusMemory(mm: AddressSpace): string {
  const st = mm.stats();
  const k = (pages: number) => pages * (PAGE_SIZE / 1024);
  const line = (name: string, kbytes: number) => `${name}:\t${String(kbytes).padStart(8, ' ')} kB\n`;
  const rss = st.rssAnon + st.rssFile + st.rssShmem;
  let out = '';
  out += line('VmPeak', k(st.hiwaterVm));
  out += line('VmSize', k(st.totalVm));
  out += line('VmLck', k(st.lockedVm));
  out += line('VmPin', k(st.pinnedVm));
  out += line('VmHWM', k(st.hiwaterRss));
  out += line('VmRSS', k(rss));
  out += line('RssAnon', k(st.rssAnon));
  out += line('RssFile', k(st.rssFile));
  out += line('RssShmem', k(st.rssShmem));
  out += line('VmData', k(st.dataVm));
  out += line('VmStk', k(st.stackVm));
  out += line('VmExe', k(st.textPages));
  out += line('VmLib', k(st.libPages));
  out += line('VmPTE', st.pteBytes / 1024);
  out += line('VmSwap', k(st.swapPages));
  out += `HugetlbPages:\t${String(0).padStart(8, ' ')} kB\n`;
  return out;
}

// ---------------------------------------------------------------------------
// Names used by procfs.ts.

/** A task as procfs sees it (the subset of Process these files need). */
export interface MmTask {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly alive: boolean;
  readonly mm: AddressSpace;
  readonly exitCode?: number | null;
}

/** /proc/PID/maps. */
export function showMaps(mm: AddressSpace): string { return formatMaps(mm); }
/** /proc/PID/smaps. */
export function showSmaps(mm: AddressSpace): string { return formatSmaps(mm); }
/** /proc/PID/statm. */
export function showStatm(mm: AddressSpace): string { return formatStatm(mm); }
/** task_mem(): the Vm and Rss lines of /proc/PID/status. */
export function taskMem(p: MmTask): string { return formatStatusMemory(p.mm); }

/**
 * /proc/PID/stat (do_task_stat) for a single-threaded task of the model:
 * the memory fields (vsize, rss, start_stack) come from the address space;
 * times, faults and scheduling fields are those of an idle task.
 */
export function showStat(p: MmTask): string {
  const mm = p.mm;
  const st = mm.stats();
  const alive = p.alive && !mm.isDead;
  const state = p.alive ? 'S' : 'Z';
  const vsize = alive ? st.totalVm * PAGE_SIZE : 0;
  const rss = alive ? st.rssAnon + st.rssFile + st.rssShmem : 0;
  const f: (string | number | bigint)[] = [
    p.pid, `(${p.comm})`, state, p.ppid, p.pid, p.pid, 0, -1, 4194560,
    0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, 0, vsize, rss, 18446744073709551615n,
    0, 0, alive ? mm.startStack : 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, p.alive ? 0 : (p.exitCode ?? 0),
  ];
  return f.join(' ') + '\n';
}
