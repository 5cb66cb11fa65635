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

/** A 64-bit field as the kernel fills it: a safe integer as a number, anything else as a bigint. */
export type U64Field = number | bigint;

/**
 * The part of struct shmid64_ds after shm_perm, as the kernel fills it:
 * segsz as a number when it is a safe integer, else a bigint; times
 * (seconds) and nattch are always safe integers. A shm segment has these
 * fields itself, so it is encoded without an intermediate copy.
 */
export interface ShmidDsBody {
  readonly segsz: U64Field;
  readonly atime: number;
  readonly dtime: number;
  readonly ctime: number;
  readonly cpid: number;
  readonly lpid: number;
  readonly nattch: number;
}

/** struct shmid64_ds as the kernel fills it. */
export interface ShmidDsFields extends Ipc64Perm, ShmidDsBody {}

/** struct shminfo64 as the kernel fills it. */
export interface ShmInfo64Fields {
  shmmax: U64Field;
  shmmin: U64Field;
  shmmni: U64Field;
  shmseg: U64Field;
  shmall: U64Field;
}

/** struct shm_info as the kernel fills it. */
export interface ShmInfoDsFields {
  usedIds: number;
  shmTot: U64Field;
  shmRss: U64Field;
  shmSwp: U64Field;
  swapAttempts: U64Field;
  swapSuccesses: U64Field;
}

// ---------------------------------------------------------------- layouts
// Byte offsets, the one definition every encoder and decoder uses. Every
// field is a naturally aligned 4- or 8-byte word; the u16 seq and its
// __pad2 share one 4-byte word; the rest of each structure is padding and
// __unused fields, which the kernel zeroes (memset() before filling).
// Plain constants, which the JIT folds into the encoders' stores (a load
// from a layout object per field cost ~1 ns each; bench: stat).

// struct ipc64_perm (48 bytes, at offset 0 of shmid64_ds)
const PERM_KEY = 0;
const PERM_UID = 4;
const PERM_GID = 8;
const PERM_CUID = 12;
const PERM_CGID = 16;
const PERM_MODE = 20;
const PERM_SEQ = 24;
const PERM_SIZE = 48;
// struct shmid64_ds (112 bytes)
const DS_SEGSZ = 48;
const DS_ATIME = 56;
const DS_DTIME = 64;
const DS_CTIME = 72;
const DS_CPID = 80;
const DS_LPID = 84;
const DS_NATTCH = 88;
// struct shminfo64 (72 bytes)
const INFO_SHMMAX = 0;
const INFO_SHMMIN = 8;
const INFO_SHMMNI = 16;
const INFO_SHMSEG = 24;
const INFO_SHMALL = 32;
// struct shm_info (48 bytes)
const SI_USED_IDS = 0;
const SI_SHM_TOT = 8;
const SI_SHM_RSS = 16;
const SI_SHM_SWP = 24;
const SI_SWAP_ATTEMPTS = 32;
const SI_SWAP_SUCCESSES = 40;

/** struct ipc64_perm: byte offsets (at offset 0 of shmid64_ds). */
export const IPC64_PERM = {
  key: PERM_KEY, uid: PERM_UID, gid: PERM_GID, cuid: PERM_CUID, cgid: PERM_CGID, mode: PERM_MODE, seq: PERM_SEQ,
  size: PERM_SIZE,
} as const;
/** struct shmid64_ds: byte offsets. */
export const SHMID64_DS = {
  perm: 0, segsz: DS_SEGSZ, atime: DS_ATIME, dtime: DS_DTIME, ctime: DS_CTIME, cpid: DS_CPID, lpid: DS_LPID,
  nattch: DS_NATTCH, size: SHMID64_DS_SIZE,
} as const;
/** struct shminfo64: byte offsets. */
export const SHMINFO64 = {
  shmmax: INFO_SHMMAX, shmmin: INFO_SHMMIN, shmmni: INFO_SHMMNI, shmseg: INFO_SHMSEG, shmall: INFO_SHMALL,
  size: SHMINFO64_SIZE,
} as const;
/** struct shm_info: byte offsets. */
export const SHM_INFO = {
  usedIds: SI_USED_IDS, shmTot: SI_SHM_TOT, shmRss: SI_SHM_RSS, shmSwp: SI_SHM_SWP, swapAttempts: SI_SWAP_ATTEMPTS,
  swapSuccesses: SI_SWAP_SUCCESSES, size: SHM_INFO_SIZE,
} as const;

// ---------------------------------------------------------------- encoding
// Encoders write words through typed arrays over the destination, held in
// locals: on V8 11 (Node 20) a DataView store costs ~1.7 ns and `new
// DataView` ~200 ns, while an Int32Array store is a plain move and a
// BigInt64Array store of an existing bigint needs no conversion (bench:
// stat). The words are in host order, so writing in place needs a
// little-endian host; a big-endian one encodes into the scratch area and
// swaps the bytes of every word on the way out.

const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const TWO_POW_MINUS_32 = 2 ** -32;

/**
 * The high 32-bit word of a safe integer (two's complement for a negative
 * one): floor(x / 2^32), exact; the low word is `x >>> 0`. For an int32 (a
 * time before 2038, a count) that is its sign, without floating point;
 * otherwise a multiplication rather than a division. Small enough that the
 * JIT always inlines it.
 */
function hi32(x: number): number {
  return (x | 0) === x ? x >> 31 : (x - (x >>> 0)) * TWO_POW_MINUS_32;
}

/** 32- and 64-bit views of one 8-byte aligned structure buffer. */
export class StructView {
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  constructor(buffer: ArrayBufferLike, byteOffset: number, byteLength: number) {
    this.i32 = new Int32Array(buffer, byteOffset, byteLength >> 2);
    this.i64 = new BigInt64Array(buffer, byteOffset, byteLength >> 3);
  }
}

/**
 * A 64-bit field at byte offset `off`, signed or unsigned (the low 64 bits
 * of `x`, two's complement). A number must be a safe integer: it is split
 * into two 32-bit words without any BigInt.
 */
function put64(w: Int32Array, q: BigInt64Array, off: number, x: U64Field): void {
  if (typeof x !== 'number') {
    put64Bigint(w, q, off, x);
    return;
  }
  w[off >> 2] = x >>> 0; // x mod 2^32, also for negative x
  w[(off >> 2) + 1] = hi32(x);
}

/** put64() of a bigint: one BigInt64Array store (it keeps x mod 2^64); host-order words on a big-endian host. */
function put64Bigint(w: Int32Array, q: BigInt64Array, off: number, x: bigint): void {
  if (HOST_LE) {
    q[off >> 3] = x;
    return;
  }
  const u = BigInt.asUintN(64, x);
  w[off >> 2] = Number(u & 0xffffffffn);
  w[(off >> 2) + 1] = Number(u >> 32n);
}

/**
 * struct shmid64_ds into the first 112 bytes of `dst` (long enough: the
 * caller checks): `perm` as kernel_to_ipc64_perm() filled it (ids already
 * translated for the reader), the rest from `body`. In place when `dst` can
 * be (structViewFor()), else through the scratch area.
 *
 * Every word (padding included) is one statement, without loops or helpers
 * other than hi32(). The function is deliberately larger than V8's inlining
 * limit (460 bytes of bytecode): it is always one call of its own, compiled
 * alone, so that its cost is the same in every isolate and it does not eat
 * the inlining budget of the callers above it (shmctl's IPC_STAT path, which
 * then always inlines into its caller's loop; bench: stat).
 */
export function encodeShmidDsBytes(dst: Uint8Array, perm: Ipc64Perm, body: ShmidDsBody): void {
  const v = dst === cachedBytes ? cachedView! : structViewMiss(dst);
  const w = v.i32;
  w[PERM_KEY >> 2] = perm.key;
  w[PERM_UID >> 2] = perm.uid;
  w[PERM_GID >> 2] = perm.gid;
  w[PERM_CUID >> 2] = perm.cuid;
  w[PERM_CGID >> 2] = perm.cgid;
  w[PERM_MODE >> 2] = perm.mode;
  w[PERM_SEQ >> 2] = perm.seq & 0xffff; // u16 seq, u16 __pad2 = 0
  w[(PERM_SEQ >> 2) + 1] = 0; // padding
  const q = v.i64;
  q[(PERM_SEQ >> 3) + 1] = 0n; // __unused1 (one 8-byte store of a constant)
  q[(PERM_SEQ >> 3) + 2] = 0n; // __unused2
  const segsz = body.segsz;
  if (typeof segsz === 'number') {
    w[DS_SEGSZ >> 2] = segsz >>> 0;
    w[(DS_SEGSZ >> 2) + 1] = hi32(segsz);
  } else {
    put64Bigint(w, q, DS_SEGSZ, segsz);
  }
  w[DS_ATIME >> 2] = body.atime >>> 0;
  w[(DS_ATIME >> 2) + 1] = hi32(body.atime);
  w[DS_DTIME >> 2] = body.dtime >>> 0;
  w[(DS_DTIME >> 2) + 1] = hi32(body.dtime);
  w[DS_CTIME >> 2] = body.ctime >>> 0;
  w[(DS_CTIME >> 2) + 1] = hi32(body.ctime);
  w[DS_CPID >> 2] = body.cpid;
  w[DS_LPID >> 2] = body.lpid;
  w[DS_NATTCH >> 2] = body.nattch >>> 0;
  w[(DS_NATTCH >> 2) + 1] = hi32(body.nattch);
  q[(DS_NATTCH >> 3) + 1] = 0n; // __unused4
  q[(DS_NATTCH >> 3) + 2] = 0n; // __unused5
  if (v === SCRATCH) copyOut(dst, SHMID64_DS_SIZE);
}

/** struct shminfo64 into `v` (all 72 bytes). */
export function encodeShmInfo64Into(v: StructView, s: ShmInfo64Fields): void {
  const w = v.i32;
  const q = v.i64;
  put64(w, q, INFO_SHMMAX, s.shmmax);
  put64(w, q, INFO_SHMMIN, s.shmmin);
  put64(w, q, INFO_SHMMNI, s.shmmni);
  put64(w, q, INFO_SHMSEG, s.shmseg);
  put64(w, q, INFO_SHMALL, s.shmall);
  for (let i = (INFO_SHMALL >> 2) + 2; i < SHMINFO64_SIZE >> 2; i++) w[i] = 0;
}

/** struct shm_info into `v` (all 48 bytes). */
export function encodeShmInfoDsInto(v: StructView, s: ShmInfoDsFields): void {
  const w = v.i32;
  const q = v.i64;
  w[SI_USED_IDS >> 2] = s.usedIds;
  w[(SI_USED_IDS >> 2) + 1] = 0; // padding before the unsigned longs
  put64(w, q, SI_SHM_TOT, s.shmTot);
  put64(w, q, SI_SHM_RSS, s.shmRss);
  put64(w, q, SI_SHM_SWP, s.shmSwp);
  put64(w, q, SI_SWAP_ATTEMPTS, s.swapAttempts);
  put64(w, q, SI_SWAP_SUCCESSES, s.swapSuccesses);
}

// ------------------------------------------------- encoding into user bytes

/** Where structures are encoded when the destination cannot be written in place. */
const SCRATCH = new StructView(new ArrayBuffer(SHMID64_DS_SIZE), 0, SHMID64_DS_SIZE);
const SCRATCH_BYTES = new Uint8Array(SCRATCH.i32.buffer, 0, SHMID64_DS_SIZE);

/**
 * The in-place views of the last destination that came twice in a row:
 * callers that stat often reuse one buffer (an emulator's syscall argument
 * area, a polling loop), and building the views (two typed arrays, ~0.3 us)
 * costs far more than encoding. A buffer seen for the first time goes
 * through the scratch area instead (one copy, no allocation), so one-off
 * buffers never pay for views. At most two caller buffers are kept alive by
 * this cache.
 */
let cachedBytes: Uint8Array | null = null;
let cachedView: StructView | null = null;
let seenOnce: Uint8Array | null = null;

/**
 * The view to encode a structure for `dst` through (`dst` must be at least
 * as long as the structure): `dst` itself when it can be written in place
 * (8-byte aligned, little-endian host, seen before), else a scratch area.
 * finishStruct() completes the encoding.
 */
export function structViewFor(dst: Uint8Array): StructView {
  return dst === cachedBytes ? cachedView! : structViewMiss(dst);
}

function structViewMiss(dst: Uint8Array): StructView {
  if (!HOST_LE || (dst.byteOffset & 7) !== 0) return SCRATCH;
  if (dst !== seenOnce) {
    seenOnce = dst;
    return SCRATCH;
  }
  seenOnce = null;
  cachedView = new StructView(dst.buffer, dst.byteOffset, dst.byteLength & ~7);
  cachedBytes = dst;
  return cachedView;
}

/** Completes an encoding of `size` bytes through `v = structViewFor(dst)`: nothing to do when it was in place. */
export function finishStruct(dst: Uint8Array, v: StructView, size: number): void {
  if (v === SCRATCH) copyOut(dst, size);
}

/** Copies the first `size` bytes of the scratch area into `dst` (little-endian on any host). */
function copyOut(dst: Uint8Array, size: number): void {
  if (!HOST_LE) {
    for (let i = 0; i < size; i += 4) {
      const b0 = SCRATCH_BYTES[i]!;
      const b1 = SCRATCH_BYTES[i + 1]!;
      SCRATCH_BYTES[i] = SCRATCH_BYTES[i + 3]!;
      SCRATCH_BYTES[i + 1] = SCRATCH_BYTES[i + 2]!;
      SCRATCH_BYTES[i + 2] = b1;
      SCRATCH_BYTES[i + 3] = b0;
    }
  }
  dst.set(SCRATCH_BYTES.subarray(0, size));
}

/** struct shmid64_ds into the first 112 bytes of `dst` (long enough: the caller checks). */
export function encodeShmidDsTo(dst: Uint8Array, s: ShmidDsFields): void {
  encodeShmidDsBytes(dst, s, s);
}

/** struct shminfo64 into the first 72 bytes of `dst` (long enough: the caller checks). */
export function encodeShmInfo64To(dst: Uint8Array, s: ShmInfo64Fields): void {
  const v = structViewFor(dst);
  encodeShmInfo64Into(v, s);
  finishStruct(dst, v, SHMINFO64_SIZE);
}

/** struct shm_info into the first 48 bytes of `dst` (long enough: the caller checks). */
export function encodeShmInfoDsTo(dst: Uint8Array, s: ShmInfoDsFields): void {
  const v = structViewFor(dst);
  encodeShmInfoDsInto(v, s);
  finishStruct(dst, v, SHM_INFO_SIZE);
}

/** struct shmid64_ds as a new 112-byte array. */
export function encodeShmidDs(s: ShmidDsFields): Uint8Array {
  const b = new Uint8Array(SHMID64_DS_SIZE);
  encodeShmidDsTo(b, s);
  return b;
}

/** struct shminfo64 as a new 72-byte array. */
export function encodeShmInfo64(s: ShmInfo64Fields): Uint8Array {
  const b = new Uint8Array(SHMINFO64_SIZE);
  encodeShmInfo64To(b, s);
  return b;
}

/** struct shm_info as a new 48-byte array. */
export function encodeShmInfoDs(s: ShmInfoDsFields): Uint8Array {
  const b = new Uint8Array(SHM_INFO_SIZE);
  encodeShmInfoDsTo(b, s);
  return b;
}

// ---------------------------------------------------------------- decoding
// Decoders read little-endian through a DataView: they serve tests, tools
// and the typed API, not a hot path.

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function decodeShmidDs(b: Uint8Array): ShmidDs {
  const v = view(b);
  return {
    key: v.getInt32(IPC64_PERM.key, true),
    uid: v.getUint32(IPC64_PERM.uid, true),
    gid: v.getUint32(IPC64_PERM.gid, true),
    cuid: v.getUint32(IPC64_PERM.cuid, true),
    cgid: v.getUint32(IPC64_PERM.cgid, true),
    mode: v.getUint32(IPC64_PERM.mode, true),
    seq: v.getUint16(IPC64_PERM.seq, true),
    segsz: v.getBigUint64(SHMID64_DS.segsz, true),
    atime: v.getBigInt64(SHMID64_DS.atime, true),
    dtime: v.getBigInt64(SHMID64_DS.dtime, true),
    ctime: v.getBigInt64(SHMID64_DS.ctime, true),
    cpid: v.getInt32(SHMID64_DS.cpid, true),
    lpid: v.getInt32(SHMID64_DS.lpid, true),
    nattch: v.getBigUint64(SHMID64_DS.nattch, true),
  };
}

/** The three fields IPC_SET reads (ipc_update_perm): uid, gid, mode. */
export function encodeIpcSet(uid: number, gid: number, mode: number): Uint8Array {
  const b = new Uint8Array(SHMID64_DS_SIZE);
  const v = view(b);
  v.setUint32(IPC64_PERM.uid, uid >>> 0, true);
  v.setUint32(IPC64_PERM.gid, gid >>> 0, true);
  v.setUint32(IPC64_PERM.mode, mode >>> 0, true);
  return b;
}

export function decodeIpcSet(b: Uint8Array): { uid: number; gid: number; mode: number } {
  const v = view(b);
  return { uid: v.getUint32(IPC64_PERM.uid, true), gid: v.getUint32(IPC64_PERM.gid, true), mode: v.getUint32(IPC64_PERM.mode, true) };
}

export function decodeShmInfo64(b: Uint8Array): ShmInfo64 {
  const v = view(b);
  const f = (o: number) => v.getBigUint64(o, true);
  const L = SHMINFO64;
  return { shmmax: f(L.shmmax), shmmin: f(L.shmmin), shmmni: f(L.shmmni), shmseg: f(L.shmseg), shmall: f(L.shmall) };
}

export function decodeShmInfoDs(b: Uint8Array): ShmInfoDs {
  const v = view(b);
  const f = (o: number) => v.getBigUint64(o, true);
  const L = SHM_INFO;
  return {
    usedIds: v.getInt32(L.usedIds, true), shmTot: f(L.shmTot), shmRss: f(L.shmRss), shmSwp: f(L.shmSwp),
    swapAttempts: f(L.swapAttempts), swapSuccesses: f(L.swapSuccesses),
  };
}
