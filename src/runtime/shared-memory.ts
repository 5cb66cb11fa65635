/**
 * The kernel side of zero-copy access: which SharedArrayBuffer (and where in
 * it) backs an address of a process, for views of shared mappings and for
 * futex words.
 *
 * A shared mapping's pages live in its file's PageCache, one
 * SharedArrayBuffer per file (up to 1 GiB) or per 64 MiB chunk. A
 * PageCache creates its buffers itself and drops them when the file is
 * destroyed (PageCache.destroy() clears its chunk map; a hole punch zeroes
 * pages in place, in the same file): no buffer, or region of one, ever
 * passes from one file to another. So a (buffer, offset) handed out for a
 * file offset names that file offset for as long as anyone holds it, and two
 * processes that map the same file offset at different addresses get the
 * same (buffer, offset): the location is the futex key of Linux's shared
 * futexes (kernel/futex/core.c get_futex_key(): inode and page offset).
 */
import { Errno } from '../abi/errno.js';
import { MADV_POPULATE_READ, MADV_POPULATE_WRITE, PAGE_SIZE, TASK_SIZE } from '../abi/constants.js';
import type { Process } from '../kernel/process.js';
import type { PageCache } from '../mm/page-cache.js';
import { VM_MAYSHARE, VM_READ, VM_SHARED, VM_WRITE, type Vma } from '../mm/vma.js';
import { toU64 } from './protocol.js';

const PAGE = BigInt(PAGE_SIZE);

export { toU64 };

/** Stable small ids for objects shared with guests (buffers, page caches). */
export class IdMap<T extends object> {
  private readonly ids = new WeakMap<T, number>();
  private next = 1;

  id(o: T): number {
    let i = this.ids.get(o);
    if (i === undefined) {
      i = this.next++;
      this.ids.set(o, i);
    }
    return i;
  }
}

/** A shared mapping range resolved to its backing storage. */
export interface SharedRange {
  /** The file's page cache (the futex key's "inode"). */
  readonly cache: PageCache;
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the first byte of the range in `buffer`. */
  readonly byteOffset: number;
  readonly length: number;
  /** Byte offset of the first byte of the range in the file. */
  readonly fileOffset: number;
}

/**
 * A shared file mapping: VM_MAYSHARE (MAP_SHARED), which do_mmap() keeps
 * when it drops VM_SHARED for a file not opened for writing (a SHM_RDONLY
 * attach is VM_MAYSHARE without VM_SHARED).
 */
function isSharedFileVma(v: Vma): boolean {
  return (v.flags & (VM_SHARED | VM_MAYSHARE)) !== 0 && v.file !== null;
}

export interface ViewOptions {
  /** A writable view (needs VM_WRITE); otherwise read-only (needs VM_READ). Default true. */
  write?: boolean;
  /** Required alignment of the address in bytes (4 for Int32, 8 for BigInt64). Default 1. */
  align?: number;
}

/**
 * Validates a view of [addr, addr + length) of process `p` and faults its
 * pages in: the range must lie in one VMA, or in adjacent VMAs mapping the
 * same file at contiguous page offsets (a mapping split by mprotect, or
 * attaches of one segment placed back to back), each a shared file
 * mapping (VM_SHARED / VM_MAYSHARE: a SysV attach or shared anonymous
 * memory) with VM_WRITE for a
 * writable view or VM_READ for a read-only one. Errors:
 *
 * - EINVAL: length 0 or not a number, a misaligned address, a private
 *   (non-shared) mapping, VMAs of different files or non-contiguous
 *   offsets, or a range over two 64 MiB chunks of a file above 1 GiB (no
 *   single buffer holds it);
 * - EACCES: the permission the view needs is missing (a write view of a
 *   SHM_RDONLY attach);
 * - EFAULT: an unmapped byte, a range beyond the file's pages (SIGBUS
 *   territory) or a guard page.
 *
 * The covered pages are populated like MADV_POPULATE_WRITE (writable view:
 * the PTEs are dirty, since the kernel cannot see later writes) or
 * MADV_POPULATE_READ (read-only view), so they are resident and count in
 * shm_rss, Rss and smaps like pages the process touched.
 */
export function resolveSharedRange(p: Process, addrIn: unknown, lengthIn: unknown, opts: ViewOptions = {}): SharedRange | number {
  const write = opts.write ?? true;
  const align = BigInt(opts.align ?? 1);
  const addr = toU64(addrIn);
  const len = toU64(lengthIn);
  if (addr === null || len === null || len === 0n) return -Errno.EINVAL;
  if (addr % align !== 0n) return -Errno.EINVAL;
  const end = addr + len;
  if (end > TASK_SIZE) return -Errno.EFAULT; // access_ok()
  const start = Number(addr);
  const endN = Number(end);
  const need = write ? VM_WRITE : VM_READ;
  let first: Vma | null = null;
  let prev: Vma | null = null;
  for (const v of p.mm.vmasFrom(start)) {
    if (prev === null) {
      if (v.start > start) return -Errno.EFAULT;
      first = v;
    } else {
      if (v.start !== prev.end) return -Errno.EFAULT; // a hole
      if (v.file?.cache !== first!.file?.cache || v.pgoff !== prev.pgoff + prev.pages) return -Errno.EINVAL;
    }
    if (!isSharedFileVma(v)) return -Errno.EINVAL;
    if (!(v.flags & need)) return -Errno.EACCES;
    prev = v;
    if (v.end >= endN) break;
  }
  if (first === null || prev === null || prev.end < endN) return -Errno.EFAULT;
  const file = first.file!;
  const cache = file.cache;
  const pageStart = start - (start % PAGE_SIZE);
  const firstPage = first.linear(pageStart);
  const lastPageExcl = firstPage + Math.ceil((endN - pageStart) / PAGE_SIZE);
  if (lastPageExcl > file.sizePages || lastPageExcl > cache.pageCount) return -Errno.EFAULT;
  const st = cache.storage(firstPage, lastPageExcl);
  if (st === null) return -Errno.EINVAL;
  // madvise(MADV_POPULATE_READ / MADV_POPULATE_WRITE), mm/madvise.c madvise_populate():
  // fault every covered page in; a guard page or a page past EOF fails.
  const r = p.sys.madvise(BigInt(pageStart), BigInt(lastPageExcl - firstPage) * PAGE, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
  if (r < 0) return -Errno.EFAULT;
  return {
    cache,
    buffer: st.buffer,
    byteOffset: st.byteOffset + (start % PAGE_SIZE),
    length: Number(len),
    fileOffset: firstPage * PAGE_SIZE + (start % PAGE_SIZE),
  };
}

/** A Uint8Array over a shared range (for in-process callers: the kernel thread's own view). */
export function viewOf(p: Process, addr: unknown, length: unknown, opts: ViewOptions = {}): Uint8Array | number {
  const r = resolveSharedRange(p, addr, length, opts);
  if (typeof r === 'number') return r;
  return new Uint8Array(r.buffer, r.byteOffset, r.length);
}

/** Where a futex word lives. */
export interface FutexLocation {
  /** The futex key (kernel/futex/core.c get_futex_key()). */
  readonly key: string;
  /** The word in its backing buffer, when it is in a shared file mapping. */
  readonly i32: Int32Array | null;
  readonly index: number;
  /** The backing buffer, for the guest's fast path (shared futexes in shared file mappings only). */
  readonly buffer: SharedArrayBuffer | null;
  /** Whether a waiter on this key is counted for the guests' FUTEX_WAKE fast path. */
  readonly counted: boolean;
  /** Reads the current value (futex_get_value_locked()), or null when the read faults (EFAULT). */
  read(): number | null;
}

const int32Views = new WeakMap<SharedArrayBuffer, Int32Array>();

/** An Int32Array over a whole buffer, one per buffer. */
export function int32Of(buf: SharedArrayBuffer): Int32Array {
  let a = int32Views.get(buf);
  if (!a) {
    a = new Int32Array(buf, 0, buf.byteLength >> 2);
    int32Views.set(buf, a);
  }
  return a;
}

/** The backing word of an address in a shared file mapping (the page must be resident), or null. */
function sharedWord(p: Process, a: number, cacheIds: IdMap<PageCache> | null): { i32: Int32Array; index: number; buffer: SharedArrayBuffer; key: string } | null {
  const v = p.mm.lookupVma(a);
  if (!v || !isSharedFileVma(v)) return null;
  const pageAddr = a - (a % PAGE_SIZE);
  const lin = v.linear(pageAddr);
  const cache = v.file!.cache;
  if (lin >= cache.pageCount) return null;
  const st = cache.storage(lin, lin + 1);
  if (!st) return null;
  const i32 = int32Of(st.buffer);
  const key = cacheIds ? `F:${cacheIds.id(cache)}:${lin * PAGE_SIZE + (a % PAGE_SIZE)}` : '';
  return { i32, index: (st.byteOffset + (a % PAGE_SIZE)) >> 2, buffer: st.buffer, key };
}

/**
 * get_user() of a futex word: faults the page in like the process's own
 * read (null: EFAULT), then reads the word atomically where it lives.
 */
function readWord(p: Process, addr: bigint): number | null {
  const r = p.sys.read(addr, 4);
  if (r.fault) return null;
  const w = sharedWord(p, Number(addr), null);
  if (w) return Atomics.load(w.i32, w.index);
  return new DataView(r.data.buffer, r.data.byteOffset, 4).getInt32(0, true);
}

/**
 * get_futex_key() (kernel/futex/core.c) for process `p`:
 *
 * - the address must be 4-byte aligned (EINVAL) and below TASK_SIZE
 *   (access_ok: EFAULT);
 * - a private futex (FUTEX_PRIVATE_FLAG) is keyed by (mm, address) without
 *   touching memory;
 * - a shared futex faults the page in (get_user_pages_fast: EFAULT when
 *   unmapped or unreadable); in a shared file mapping its key is (file,
 *   offset) - the same for every process mapping that file offset - else
 *   (private anonymous memory) (mm, address) with FUT_OFF_MMSHARED, a key
 *   distinct from the private one.
 *
 * `cacheIds` numbers page caches for the keys.
 */
export function futexLocation(p: Process, addrIn: unknown, shared: boolean, cacheIds: IdMap<PageCache>): FutexLocation | number {
  const addr = toU64(addrIn);
  if (addr === null) return -Errno.EFAULT;
  if (addr % 4n !== 0n) return -Errno.EINVAL;
  if (addr + 4n > TASK_SIZE) return -Errno.EFAULT;
  const a = Number(addr);
  const read = (): number | null => readWord(p, addr);
  if (!shared) return { key: `P:${p.pid}:${a}`, i32: null, index: 0, buffer: null, counted: false, read };
  if (p.sys.read(addr, 4).fault) return -Errno.EFAULT;
  const w = sharedWord(p, a, cacheIds);
  if (w) {
    const { i32, index } = w;
    return { key: w.key, i32, index, buffer: w.buffer, counted: true, read: () => Atomics.load(i32, index) };
  }
  // Private anonymous memory: only this process can change it.
  return { key: `A:${p.pid}:${a}`, i32: null, index: 0, buffer: null, counted: false, read };
}
