/**
 * The typed, throwing API of a process, in the style of Node's `fs`: each
 * method performs the raw system call and throws a SysError (`code`
 * 'EINVAL', `errno` -22, `syscall` 'shmget') when it fails.
 */
import { check, SysError } from '../abi/sys-error.js';
import { IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, SHM_INFO, SHM_LOCK, SHM_UNLOCK, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_ANONYMOUS, MAP_PRIVATE } from '../abi/constants.js';
import type { AccessResult } from './syscalls.js';
import {
  SHMID64_DS_SIZE, SHMINFO64_SIZE, SHM_INFO_SIZE, decodeShmidDs, decodeShmInfo64, decodeShmInfoDs, encodeIpcSet,
  type ShmInfo64,
} from '../abi/structs.js';
import type { RawSyscalls, U64Arg } from './syscalls.js';

/** A memory access that faulted: the signal the process would get, and where. */
export class MemoryFault extends Error {
  constructor(readonly signal: 'SIGSEGV' | 'SIGBUS', readonly address: bigint, readonly offset: bigint) {
    super(`${signal} at 0x${address.toString(16)}`);
    this.name = 'MemoryFault';
  }
}

/** struct shmid64_ds with times and nattch as numbers; pids are kernel pids. */
export interface ShmidDs {
  key: number; uid: number; gid: number; cuid: number; cgid: number; mode: number; seq: number;
  segsz: bigint; atime: number; dtime: number; ctime: number; cpid: number; lpid: number; nattch: number;
}

export interface ShmInfo { usedIds: number; shmTot: bigint; shmRss: bigint; shmSwp: bigint }
export type ShmLimits = ShmInfo64;

function decodeStat(b: Uint8Array): ShmidDs {
  const d = decodeShmidDs(b);
  return { ...d, atime: Number(d.atime), dtime: Number(d.dtime), ctime: Number(d.ctime), nattch: Number(d.nattch) };
}

/**
 * The raw calls the typed API is built on: what a RawSyscalls has, and what a
 * worker's guest system-call proxy provides too.
 */
export type RawLayer = Pick<RawSyscalls,
  'shmget' | 'shmat' | 'shmdt' | 'shmctl' | 'mmap' | 'munmap' | 'mprotect' | 'mremap' | 'madvise' | 'read' | 'write' | 'fill'>;

export abstract class ProcessApi {
  protected abstract get raw(): RawLayer;

  /** shmget(2): the segment id. */
  shmget(key: number, size: U64Arg, flags = 0): number {
    return check('shmget', this.raw.shmget(key, size, flags));
  }

  /** shmat(2): the attach address. */
  shmat(id: number, addr: U64Arg = 0, flags = 0): number {
    return check('shmat', this.raw.shmat(id, addr, flags));
  }

  /** shmdt(2). */
  shmdt(addr: U64Arg): void {
    check('shmdt', this.raw.shmdt(addr));
  }

  /** shmctl(IPC_STAT). */
  shmStat(id: number): ShmidDs {
    const b = new Uint8Array(SHMID64_DS_SIZE);
    check('shmctl', this.raw.shmctl(id, IPC_STAT, b));
    return decodeStat(b);
  }

  /** shmctl(IPC_SET) with the three fields IPC_SET uses. */
  shmSet(id: number, perm: { uid: number; gid: number; mode: number }): void {
    check('shmctl', this.raw.shmctl(id, IPC_SET, encodeIpcSet(perm.uid, perm.gid, perm.mode)));
  }

  /** shmctl(IPC_RMID). */
  shmRemove(id: number): void {
    check('shmctl', this.raw.shmctl(id, IPC_RMID, null));
  }

  /** shmctl(SHM_LOCK) / shmctl(SHM_UNLOCK). */
  shmLock(id: number, lock = true): void {
    check('shmctl', this.raw.shmctl(id, lock ? SHM_LOCK : SHM_UNLOCK, null));
  }

  /** shmctl(IPC_INFO): the namespace's limits. */
  shmLimits(): ShmLimits {
    const b = new Uint8Array(SHMINFO64_SIZE);
    check('shmctl', this.raw.shmctl(0, IPC_INFO, b));
    return decodeShmInfo64(b);
  }

  /** shmctl(SHM_INFO): the namespace's usage. */
  shmInfo(): ShmInfo {
    const b = new Uint8Array(SHM_INFO_SIZE);
    check('shmctl', this.raw.shmctl(0, SHM_INFO, b));
    const { usedIds, shmTot, shmRss, shmSwp } = decodeShmInfoDs(b);
    return { usedIds, shmTot, shmRss, shmSwp };
  }

  /** mmap(2) of anonymous memory (shared by default). */
  mmap(addr: U64Arg, len: U64Arg, prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED | MAP_ANONYMOUS): number {
    return check('mmap', this.raw.mmap(addr, len, prot, flags));
  }

  /** mmap(2) of private anonymous memory. */
  mmapPrivate(len: U64Arg, prot = PROT_READ | PROT_WRITE): number {
    return this.mmap(0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS);
  }

  munmap(addr: U64Arg, len: U64Arg): void {
    check('munmap', this.raw.munmap(addr, len));
  }

  mprotect(addr: U64Arg, len: U64Arg, prot: number): void {
    check('mprotect', this.raw.mprotect(addr, len, prot));
  }

  mremap(oldAddr: U64Arg, oldLen: U64Arg, newLen: U64Arg, flags = 0, newAddr: U64Arg = 0): number {
    return check('mremap', this.raw.mremap(oldAddr, oldLen, newLen, flags, newAddr));
  }

  madvise(addr: U64Arg, len: U64Arg, advice: number): void {
    check('madvise', this.raw.madvise(addr, len, advice));
  }

  private static access(addr: U64Arg, r: AccessResult): AccessResult {
    if (r.fault) throw new MemoryFault(r.fault.signal, BigInt(addr) + r.fault.offset, r.fault.offset);
    return r;
  }

  /** Reads process memory; throws MemoryFault where the process would get a signal. */
  read(addr: U64Arg, len: U64Arg): Uint8Array {
    return ProcessApi.access(addr, this.raw.read(addr, len)).data;
  }

  /** Writes process memory; throws MemoryFault (earlier bytes stay written). */
  write(addr: U64Arg, data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    ProcessApi.access(addr, this.raw.write(addr, bytes));
  }

  /** Fills process memory with one byte value. */
  fill(addr: U64Arg, len: U64Arg, byte: number): void {
    ProcessApi.access(addr, this.raw.fill(addr, len, byte));
  }
}

export { SysError };
