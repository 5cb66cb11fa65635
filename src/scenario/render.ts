/**
 * Output rendering of the scenario language (scenario spec section 5): byte
 * chunks, address rendering relative to bound variables, and the decoding of
 * the x86_64 shmctl structures.
 */
import { decodeShmInfo64, decodeShmInfoDs } from '../abi/structs.js';

export { decodeShmidDs } from '../abi/structs.js';

/** Two lowercase hex digits. */
function hex2(b: number): string {
  return (b < 16 ? '0' : '') + b.toString(16);
}

/**
 * Encodes bytes as chunks: a run of 8 or more identical bytes is `XX*N`,
 * other bytes accumulate into literal hex chunks; an empty read prints `-`.
 */
export function encodeBytes(data: Uint8Array): string {
  if (data.length === 0) return '-';
  const chunks: string[] = [];
  let literal = '';
  let i = 0;
  const n = data.length;
  while (i < n) {
    const b = data[i]!;
    let j = i + 1;
    while (j < n && data[j] === b && j - i < 8) j++;
    if (j - i >= 8) {
      while (j < n && data[j] === b) j++;
      if (literal) { chunks.push(literal); literal = ''; }
      chunks.push(`${hex2(b)}*${j - i}`);
      i = j;
    } else {
      literal += hex2(b);
      i++;
    }
  }
  if (literal) chunks.push(literal);
  return chunks.join(' ');
}

/** A bound variable, as the renderer needs it. */
export interface AddressVar {
  name: string;
  value: bigint;
  /** Binding order: a higher number was bound more recently. */
  order: number;
}

const GIB = 1n << 30n;

/**
 * Relative rendering: among variables with V <= A <= V + 2^30 take the
 * greatest V (ties: the most recently bound); `$V` or `$V+0xHEX`, else `ADDR`.
 */
export function renderRelative(addr: bigint, vars: Iterable<AddressVar>): string {
  let best: AddressVar | undefined;
  for (const v of vars) {
    if (v.value <= addr && addr <= v.value + GIB) {
      if (!best || v.value > best.value || (v.value === best.value && v.order > best.order)) best = v;
    }
  }
  if (!best) return 'ADDR';
  return addr === best.value ? `$${best.name}` : `$${best.name}+0x${(addr - best.value).toString(16)}`;
}

/** Rendering of a kernel-chosen address: `$V` if it equals a bound variable (latest), else `ADDR`. */
export function renderChosen(addr: bigint, vars: Iterable<AddressVar>): string {
  let best: AddressVar | undefined;
  for (const v of vars) {
    if (v.value === addr && (!best || v.order > best.order)) best = v;
  }
  return best ? `$${best.name}` : 'ADDR';
}

/** A time field: `0` when never set, `T` otherwise (times differ between runs). */
export function renderTime(t: bigint): string {
  return t === 0n ? '0' : 'T';
}

/** A mode: octal with a leading 0 and at least four digits (0600, 01600). */
export function renderMode(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}


/** struct shminfo64 (IPC_INFO) as the scenario prints it. */
export function renderShminfo(buf: Uint8Array): string {
  const s = decodeShmInfo64(buf);
  return `{shmmax=${s.shmmax} shmmin=${s.shmmin} shmmni=${s.shmmni} shmseg=${s.shmseg} shmall=${s.shmall}}`;
}

/** struct shm_info (SHM_INFO) as the scenario prints it; used_ids unsigned. */
export function renderShmInfo(buf: Uint8Array): string {
  const s = decodeShmInfoDs(buf);
  return `{used_ids=${s.usedIds >>> 0} shm_tot=${s.shmTot} shm_rss=${s.shmRss} shm_swp=${s.shmSwp} ` +
    `swap_attempts=${s.swapAttempts} swap_successes=${s.swapSuccesses}}`;
}

/** One parsed line of /proc/PID/maps. */
export interface MapsRow {
  start: bigint;
  end: bigint;
  perms: string;
  offset: string;
  dev: string;
  inode: string;
  path: string;
}

/** Parses /proc/PID/maps text (show_map_vma layout). */
export function parseMaps(text: string): MapsRow[] {
  const rows: MapsRow[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) (\S+) (\S+) (\S+)\s*(.*)$/.exec(line);
    if (!m) throw new Error(`unparsable maps line: ${JSON.stringify(line)}`);
    rows.push({
      start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]),
      perms: m[3]!, offset: m[4]!, dev: m[5]!, inode: m[6]!, path: m[7]!,
    });
  }
  return rows;
}
