/**
 * The x86_64 layouts of the shmctl structures (include/uapi/asm-generic/
 * shmbuf.h struct shmid64_ds, ipcbuf.h struct ipc64_perm, shm.h struct
 * shminfo64 and struct shm_info). One definition serves the kernel (which
 * fills them), the typed API and the scenario renderer (which read them).
 */

export const SHMID64_DS_SIZE = 112;
export const SHMINFO64_SIZE = 72;
export const SHM_INFO_SIZE = 48;

/** struct ipc64_perm as the kernel fills it for a reader. */
export interface Ipc64Perm {
  /** key_t, signed. */
  key: number;
  /** uid_t/gid_t as seen by the reader (unmapped ids read as 65534). */
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  /** Permission bits plus the object type's high bits (shm: SHM_DEST, SHM_LOCKED). */
  mode: number;
  /** unsigned short __seq. */
  seq: number;
}

/** struct shmid64_ds, field by field. */
export interface ShmidDs extends Ipc64Perm {
  segsz: bigint;
  /** Seconds since the epoch; 0 = never. */
  atime: bigint;
  dtime: bigint;
  ctime: bigint;
  cpid: number;
  lpid: number;
  nattch: bigint;
}

/** struct shminfo64 (IPC_INFO). */
export interface ShmInfo64 {
  shmmax: bigint;
  shmmin: bigint;
  shmmni: bigint;
  shmseg: bigint;
  shmall: bigint;
}

/** struct shm_info (SHM_INFO). */
export interface ShmInfoDs {
  usedIds: number;
  shmTot: bigint;
  shmRss: bigint;
  shmSwp: bigint;
  swapAttempts: bigint;
  swapSuccesses: bigint;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function encodeShmidDs(s: ShmidDs): Uint8Array {
  const b = new Uint8Array(SHMID64_DS_SIZE);
  const v = view(b);
  v.setInt32(0, s.key, true);
  v.setUint32(4, s.uid, true);
  v.setUint32(8, s.gid, true);
  v.setUint32(12, s.cuid, true);
  v.setUint32(16, s.cgid, true);
  v.setUint32(20, s.mode, true);
  v.setUint16(24, s.seq, true);
  v.setBigUint64(48, s.segsz, true);
  v.setBigInt64(56, s.atime, true);
  v.setBigInt64(64, s.dtime, true);
  v.setBigInt64(72, s.ctime, true);
  v.setInt32(80, s.cpid, true);
  v.setInt32(84, s.lpid, true);
  v.setBigUint64(88, s.nattch, true);
  return b;
}

export function decodeShmidDs(b: Uint8Array): ShmidDs {
  const v = view(b);
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

/** The three fields IPC_SET reads (ipc_update_perm): uid, gid, mode. */
export function encodeIpcSet(uid: number, gid: number, mode: number): Uint8Array {
  const b = new Uint8Array(SHMID64_DS_SIZE);
  const v = view(b);
  v.setUint32(4, uid >>> 0, true);
  v.setUint32(8, gid >>> 0, true);
  v.setUint32(20, mode >>> 0, true);
  return b;
}

export function decodeIpcSet(b: Uint8Array): { uid: number; gid: number; mode: number } {
  const v = view(b);
  return { uid: v.getUint32(4, true), gid: v.getUint32(8, true), mode: v.getUint32(20, true) };
}

export function encodeShmInfo64(s: ShmInfo64): Uint8Array {
  const b = new Uint8Array(SHMINFO64_SIZE);
  const v = view(b);
  [s.shmmax, s.shmmin, s.shmmni, s.shmseg, s.shmall].forEach((x, i) => v.setBigUint64(i * 8, x, true));
  return b;
}

export function decodeShmInfo64(b: Uint8Array): ShmInfo64 {
  const v = view(b);
  const f = (i: number) => v.getBigUint64(i * 8, true);
  return { shmmax: f(0), shmmin: f(1), shmmni: f(2), shmseg: f(3), shmall: f(4) };
}

export function encodeShmInfoDs(s: ShmInfoDs): Uint8Array {
  const b = new Uint8Array(SHM_INFO_SIZE);
  const v = view(b);
  v.setInt32(0, s.usedIds, true);
  [s.shmTot, s.shmRss, s.shmSwp, s.swapAttempts, s.swapSuccesses].forEach((x, i) => v.setBigUint64(8 + i * 8, x, true));
  return b;
}

export function decodeShmInfoDs(b: Uint8Array): ShmInfoDs {
  const v = view(b);
  const f = (o: number) => v.getBigUint64(o, true);
  return { usedIds: v.getInt32(0, true), shmTot: f(8), shmRss: f(16), shmSwp: f(24), swapAttempts: f(32), swapSuccesses: f(40) };
}
