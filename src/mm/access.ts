/**
 * The access walk: the CPU's loads and stores on an address space
 * (the page-table walk and handle_mm_fault of mm/memory.c seen from user
 * space, as access_remote_vm / copy_{to,from}_user would), with the
 * read/write/fill entry points. Free functions over the AddressSpace.
 */
import type { AddressSpace, AccessResult } from './address-space.js';
import { TASK_SIZE } from '../abi/constants.js';
import { copyBytes, fillBytes } from './bytes.js';
import { type MmCaller, VM_ACCESS_FLAGS, VM_SHARED, VM_WRITE } from './vma.js';
import { PAGE, TASK_SIZE_N, ZERO_PAGE } from './internal.js';
import { faultPage, accessVma } from './fault.js';

/**
 * Reads up to `len` bytes at `addr` (an integer >= 0; `len` >= 0, any
 * size) in ascending order, stopping at the first byte the process cannot
 * read. Returns the bytes read: fewer than `len` means the byte at that
 * offset faulted, with `accessSignal`.
 */
export function readN(mm: AddressSpace, addr: number, len: number): Uint8Array {
  mm.readBuf = new Uint8Array(Math.min(len, TASK_SIZE_N - addr > 0 ? TASK_SIZE_N - addr : 0, 1 << 20));
  const got = walk(mm, 0, addr, len, ZERO_PAGE, 0, 0);
  const buf = mm.readBuf;
  mm.readBuf = ZERO_PAGE;
  return got === buf.length ? buf : buf.slice(0, got);
}

/**
 * Writes src[srcOff, srcOff + len) at `addr` (an integer >= 0) in
 * ascending order, stopping at the first fault. Returns the number of
 * bytes written: fewer than `len` means the byte at that offset faulted,
 * with `accessSignal`.
 */
export function writeN(mm: AddressSpace, addr: number, src: Uint8Array, srcOff: number, len: number): number {
  return walk(mm, 1, addr, len, src, srcOff, 0);
}

/** Writes `len` (any size) copies of `byte` at `addr`, like writeN. */
export function fillN(mm: AddressSpace, addr: number, len: number, byte: number): number {
  return walk(mm, 2, addr, len, ZERO_PAGE, 0, byte & 0xff);
}

/**
 * The access walk: visits [addr, addr + len) page by page in ascending
 * order (op 0 read into readBuf, 1 write from buf[bufOff...], 2 fill with
 * `byte`), checking the VMA's permission and faulting each page in, and
 * stops at the first byte that cannot be accessed. Everything at or above
 * TASK_SIZE faults (SIGSEGV). Returns the number of bytes accessed.
 *
 * The copies of consecutive pages that lie back to back in one buffer
 * (a segment's pages) are made as one copy after their faults. Only
 * faults that move no data are taken with a copy pending; a private write
 * fault may copy a page (COW), so the bytes before it are written first,
 * in order, as the CPU would have.
 */
export function walk(mm: AddressSpace, op: number, addr: number, len: number, buf: Uint8Array, bufOff: number, byte: number): number {
  let end = TASK_SIZE_N - addr;
  if (end < 0) end = 0;
  if (len < end) end = len;
  const write = op !== 0;
  let done = 0;
  // The pending copy: bytes [runOff, runOff + runLen) of runBytes, at offset runDone of the access.
  let runBytes: Uint8Array = ZERO_PAGE, runOff = 0, runDone = 0, runLen = 0;
  let signal: 'SIGSEGV' | 'SIGBUS' | null = null;
  while (done < end) {
    const a = addr + done;
    const vma = accessVma(mm, a);
    if (vma === null || !(write ? vma.flags & VM_WRITE : vma.flags & VM_ACCESS_FLAGS)) { signal = 'SIGSEGV'; break; }
    // (Addresses pass 2^31: `%` would be a floating-point fmod call.)
    const pageAddr = Math.floor(a / PAGE) * PAGE;
    if (runLen !== 0 && write && !(vma.flags & VM_SHARED)) {
      runCopy(mm, op, runBytes, runOff, runDone, runLen, buf, bufOff, byte);
      runLen = 0;
    }
    const inPage = pageAddr + PAGE - a;
    const n = end - done < inPage ? end - done : inPage;
    const r = faultPage(mm, vma, pageAddr, write, false, a - pageAddr, a - pageAddr + n);
    if (r !== 0) { signal = r === 2 ? 'SIGBUS' : 'SIGSEGV'; break; }
    const pb = mm.pgBytes;
    const po = mm.pgOff + (a - pageAddr);
    if (runLen !== 0 && pb === runBytes && po === runOff + runLen) {
      runLen += n;
    } else {
      if (runLen !== 0) runCopy(mm, op, runBytes, runOff, runDone, runLen, buf, bufOff, byte);
      runBytes = pb;
      runOff = po;
      runDone = done;
      runLen = n;
    }
    done += n;
  }
  if (runLen !== 0) runCopy(mm, op, runBytes, runOff, runDone, runLen, buf, bufOff, byte);
  if (done < len) mm.accessSignal = signal ?? 'SIGSEGV';
  return done;
}

/** One coalesced copy of the walk. */
export function runCopy(mm: AddressSpace, op: number, bytes: Uint8Array, off: number, done: number, n: number, buf: Uint8Array, bufOff: number, byte: number): void {
  if (op === 1) copyBytes(bytes, off, buf, bufOff + done, n);
  else if (op === 2) fillBytes(bytes, off, n, byte);
  else {
    let rb = mm.readBuf;
    if (done + n > rb.length) {
      const nb = new Uint8Array(Math.max(rb.length * 2, done + n));
      nb.set(rb.subarray(0, done));
      mm.readBuf = rb = nb;
    }
    // The zero page reads as the zeros the buffer already holds.
    if (bytes !== ZERO_PAGE) copyBytes(rb, done, bytes, off, n);
  }
}

/** A read/write/fill address or length as a number; anything above TASK_SIZE faults alike. */
export function accessNumber(v: number | bigint): number {
  if (typeof v === 'number' && v >= 0 && Number.isSafeInteger(v)) return v;
  const b = BigInt.asUintN(64, BigInt(v));
  return b > TASK_SIZE ? TASK_SIZE_N + PAGE : Number(b);
}

/** What a write or fill that completed returns (shared and frozen: no allocation per access). */
const WRITTEN: AccessResult = Object.freeze({ data: Object.freeze(new Uint8Array(0)) });

export function writeResult(mm: AddressSpace, got: number, len: number): AccessResult {
  if (got >= len) return WRITTEN;
  return { data: new Uint8Array(0), fault: { signal: mm.accessSignal, offset: BigInt(got) } };
}

/** Reads len bytes at addr in ascending order, stopping at the first fault. */
export function read(mm: AddressSpace, addr: number | bigint, len: number | bigint, caller?: MmCaller): AccessResult {
  void caller;
  const n = accessNumber(len);
  const data = readN(mm, accessNumber(addr), n);
  return data.length < n ? { data, fault: { signal: mm.accessSignal, offset: BigInt(data.length) } } : { data };
}

/** Writes bytes at addr in ascending order, stopping at the first fault. */
export function write(mm: AddressSpace, addr: number | bigint, bytes: Uint8Array, caller?: MmCaller): AccessResult {
  void caller;
  return writeResult(mm, writeN(mm, accessNumber(addr), bytes, 0, bytes.length), bytes.length);
}

/** Writes len copies of byte at addr in ascending order, stopping at the first fault. */
export function fill(mm: AddressSpace, addr: number | bigint, len: number | bigint, byte: number, caller?: MmCaller): AccessResult {
  void caller;
  const n = accessNumber(len);
  return writeResult(mm, fillN(mm, accessNumber(addr), n, byte), n);
}
