/**
 * Output rendering of the scenario language (scenario spec section 5): byte
 * chunks, address rendering relative to bound variables, and the decoding of
 * the x86_64 shmctl structures.
 */

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

/** `struct shmid64_ds` on x86_64 (spec: linux-shm-semantics 10.1). */
export interface ShmidDs {
  key: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  mode: number;
  seq: number;
  segsz: bigint;
  atime: bigint;
  dtime: bigint;
  ctime: bigint;
  cpid: number;
  lpid: number;
  nattch: bigint;
}

export function decodeShmidDs(buf: Uint8Array): ShmidDs {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    key: v.getInt32(0, true),
    uid: v.getUint32(4, true),
    gid: v.getUint32(8, true),
    cuid: v.getUint32(12, true),
    cgid: v.getUint32(16, true),
    mode: v.getUint32(20, true),
    seq: v.getUint16(24, true),
    segsz: v.getBigUint64(48, true),
    atime: v.getBigInt64(56, true),
    dtime: v.getBigInt64(64, true),
    ctime: v.getBigInt64(72, true),
    cpid: v.getInt32(80, true),
    lpid: v.getInt32(84, true),
    nattch: v.getBigUint64(88, true),
  };
}

/** Decodes `struct shminfo64` (IPC_INFO) as the scenario prints it. */
export function renderShminfo(buf: Uint8Array): string {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const f = (o: number) => v.getBigUint64(o, true).toString();
  return `{shmmax=${f(0)} shmmin=${f(8)} shmmni=${f(16)} shmseg=${f(24)} shmall=${f(32)}}`;
}

/** Decodes `struct shm_info` (SHM_INFO) as the scenario prints it. */
export function renderShmInfo(buf: Uint8Array): string {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const f = (o: number) => v.getBigUint64(o, true).toString();
  return `{used_ids=${v.getUint32(0, true)} shm_tot=${f(8)} shm_rss=${f(16)} shm_swp=${f(24)} ` +
    `swap_attempts=${f(32)} swap_successes=${f(40)}}`;
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
