/**
 * Byte copies and fills into (and out of) page storage, the model's
 * memcpy/memset. Page storage is SharedArrayBuffer memory, where V8's
 * TypedArray#fill stores byte by byte (about 1.5 µs per 4 KiB page on the
 * benchmark VM, as slow as a host page fault) and every TypedArray#set or
 * subarray() costs a call and an object: tiny accesses (the common one-word
 * load or store) are done with element stores instead, big fills copy from a
 * block of the fill byte (memory bandwidth: 0.3-0.6 µs per page).
 */
import { Buffer } from 'node:buffer';
import { PAGE_SIZE } from '../abi/constants.js';

/** Up to this many bytes are copied or filled one element at a time. */
const SMALL = 16;
const BLOCK = 64 << 10;
/** A block of zeros to copy from. */
const ZERO_BLOCK = new Uint8Array(BLOCK);
const ZERO_PAGE = ZERO_BLOCK.subarray(0, PAGE_SIZE);
/** A block of `fillByte` (the last non-zero fill byte) to copy from. */
const FILL_BLOCK = new Uint8Array(BLOCK);
let fillByte = 0;
/** From this many bytes on, copies go through memcpy (Buffer#fill) rather than TypedArray#set. */
const MEMCPY_MIN = 64 << 10;
const bufferFill = Buffer.prototype.fill as unknown as (this: Uint8Array, value: Uint8Array) => Uint8Array;

/** Zeroes bytes[start, end). */
export function zeroBytes(bytes: Uint8Array, start: number, end: number): void {
  fillBytes(bytes, start, end - start, 0);
}

/** bytes[off, off + n) = byte (memset). */
export function fillBytes(bytes: Uint8Array, off: number, n: number, byte: number): void {
  if (n <= SMALL) {
    for (let i = 0; i < n; i++) bytes[off + i] = byte;
  } else if (byte === 0) {
    blockFill(bytes, off, n, ZERO_BLOCK, ZERO_PAGE);
  } else {
    if (fillByte !== byte) { FILL_BLOCK.fill(byte); fillByte = byte; }
    blockFill(bytes, off, n, FILL_BLOCK, null);
  }
}

/** dst[dstOff, dstOff + n) = src[srcOff, srcOff + n) (memmove). */
export function copyBytes(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, n: number): void {
  if (n <= SMALL) {
    for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i]!;
  } else if (n >= MEMCPY_MIN && dst.buffer !== src.buffer) {
    // Buffer#fill with a source as long as the range is one memcpy(3):
    // 0.8x of a native memcpy into shared memory where TypedArray#set, which
    // stores with relaxed atomics there, reaches 0.5x.
    bufferFill.call(dst.subarray(dstOff, dstOff + n), srcOff === 0 && n === src.length ? src : src.subarray(srcOff, srcOff + n));
  } else {
    dst.set(srcOff === 0 && n === src.length ? src : src.subarray(srcOff, srcOff + n), dstOff);
  }
}

function blockFill(bytes: Uint8Array, off: number, n: number, block: Uint8Array, page: Uint8Array | null): void {
  const end = off + n;
  while (off < end) {
    const k = Math.min(end - off, BLOCK);
    bytes.set(k === BLOCK ? block : k === PAGE_SIZE && page ? page : block.subarray(0, k), off);
    off += k;
  }
}
