/**
 * Recycled page storage: the zeroed SharedArrayBuffers of destroyed shmem
 * files, kept for the next file of the same size, the way Linux's page
 * allocator hands freed pages out again instead of asking the hardware for
 * new ones (mm/page_alloc.c free lists).
 *
 * Why: the first store into a page of a fresh SharedArrayBuffer is a host
 * page fault (~1.5 µs on the benchmark VM, more than a native shmem fault),
 * and creating even a 4 KiB SharedArrayBuffer costs ~1.9 µs (calloc, backing
 * store registration, external-memory accounting). A recycled buffer's pages
 * are already faulted in the host, so a file built on it pays neither.
 *
 * Rules:
 * - Only storage never handed out by PageCache.storage() comes here: the
 *   worker runtime makes zero-copy views of those buffers in other threads
 *   and keys futexes by them, so such a buffer belongs to its file forever
 *   (the PageCache keeps it out of the pool; `give` re-checks).
 * - Everything here is all zero: bytes, flags and mapcounts. The PageCache
 *   zeroes what a file wrote when the file is destroyed (like
 *   init_on_free=1, but only the bytes in the written extent): the zeroing
 *   moves from the first touch to the free.
 * - The pool is bounded (`maxBytes`, virtual size of the buffers); when a new
 *   buffer does not fit, the oldest ones are dropped (and go back to the OS
 *   when V8 collects them).
 */
import { PAGE_SIZE } from '../abi/constants.js';

/** Default bound of a machine's pool: 256 MiB of buffers. */
export const STORAGE_POOL_BYTES_DEFAULT = 256 << 20;

/** The backing memory of a run of file pages (a PageCache chunk), with its per-page books. */
export interface PageStorage {
  readonly buf: SharedArrayBuffer;
  /** A view of the whole buffer. */
  readonly bytes: Uint8Array;
  /** Per page: F_RESIDENT | F_DIRTY (PageCache). */
  readonly flags: Uint8Array;
  /** Per page: number of page-table entries mapping it (all processes). */
  mapcount: Int32Array | null;
  /** Resident pages. */
  resident: number;
  /**
   * The written extent, byte offsets [wLo, wHi) into the buffer (wLo = size,
   * wHi = 0: nothing written): everything outside it is still zero.
   */
  wLo: number;
  wHi: number;
  /** Handed out by PageCache.storage(): never recycled. */
  exported: boolean;
  /** The pool's age list (older, newer), while pooled. */
  older: PageStorage | null;
  newer: PageStorage | null;
}

/** A fresh, zeroed storage of `pages` pages. */
export function newPageStorage(pages: number): PageStorage {
  const buf = new SharedArrayBuffer(pages * PAGE_SIZE);
  return { buf, bytes: new Uint8Array(buf), flags: new Uint8Array(pages), mapcount: null, resident: 0, wLo: pages * PAGE_SIZE, wHi: 0, exported: false, older: null, newer: null };
}

/** Empty size classes are pruned when there are this many classes. */
const MAX_CLASSES = 256;

/** A size class: storages of one size, oldest at `head`, newest last. */
interface SizeClass { items: (PageStorage | undefined)[]; head: number }

export class StoragePool {
  /** Bytes (virtual size) of the pooled buffers. */
  bytes = 0;
  /** Number of pooled storages. */
  size = 0;
  private readonly classes = new Map<number, SizeClass>();
  /**
   * The size class last taken from or given to, and its size: a file
   * created and destroyed over and over (bench: cycle) takes and gives one
   * size, without a Map lookup. Never a pruned class (pruning clears it).
   */
  private lastPages = -1;
  private lastClass: SizeClass | null = null;
  /** The age list of every pooled storage (eviction takes the oldest). */
  private oldest: PageStorage | null = null;
  private newest: PageStorage | null = null;

  constructor(readonly maxBytes: number = STORAGE_POOL_BYTES_DEFAULT) {
    if (!(maxBytes >= 0)) throw new Error(`StoragePool: bad bound ${maxBytes}`);
  }

  /** Whether storage of `pages` pages may be pooled at all (callers skip the zeroing otherwise). */
  accepts(pages: number): boolean {
    return pages * PAGE_SIZE <= this.maxBytes;
  }

  /** A zeroed storage of exactly `pages` pages (the most recently pooled one), or null. */
  take(pages: number): PageStorage | null {
    const c = pages === this.lastPages ? this.lastClass : this.classOf(pages);
    if (!c || c.items.length === c.head) return null;
    const s = c.items.pop()!;
    // An emptied class stays for the next give (the common take/give
    // cycle of one size allocates nothing); eviction prunes empty ones.
    if (c.head !== 0 && c.items.length === c.head) { c.items.length = 0; c.head = 0; }
    this.unlink(s);
    return s;
  }

  /**
   * Pools `s`, which the caller has zeroed (bytes, flags, mapcounts) and
   * drops from its file; evicts the oldest storages to stay within the
   * bound. Returns false (nothing pooled) for exported or oversized storage.
   */
  give(s: PageStorage): boolean {
    const n = s.buf.byteLength;
    if (s.exported || n > this.maxBytes || s.resident !== 0 || s.wHi !== 0) return false;
    if (s.older !== null || s.newer !== null || this.oldest === s) throw new Error('StoragePool: storage pooled twice');
    while (this.bytes + n > this.maxBytes) this.evictOldest();
    const pages = n / PAGE_SIZE;
    let c = pages === this.lastPages ? this.lastClass : this.classOf(pages);
    if (!c) {
      if (this.classes.size >= MAX_CLASSES) this.pruneClasses();
      this.classes.set(pages, c = { items: [], head: 0 });
      this.lastPages = pages;
      this.lastClass = c;
    }
    c.items.push(s);
    s.older = this.newest;
    if (this.newest) this.newest.newer = s;
    else this.oldest = s;
    this.newest = s;
    this.bytes += n;
    this.size++;
    return true;
  }

  /** Drops every pooled storage. */
  clear(): void {
    while (this.oldest) this.evictOldest();
    this.classes.clear();
    this.lastPages = -1;
    this.lastClass = null;
  }

  /** The size class of `pages` (remembered as the last one), if any. */
  private classOf(pages: number): SizeClass | undefined {
    const c = this.classes.get(pages);
    if (c !== undefined) {
      this.lastPages = pages;
      this.lastClass = c;
    }
    return c;
  }

  /** Drops the size classes that hold nothing. */
  private pruneClasses(): void {
    for (const [pages, c] of this.classes) if (c.items.length === c.head) this.classes.delete(pages);
    this.lastPages = -1;
    this.lastClass = null;
  }

  private unlink(s: PageStorage): void {
    if (s.older) s.older.newer = s.newer;
    else this.oldest = s.newer;
    if (s.newer) s.newer.older = s.older;
    else this.newest = s.older;
    s.older = s.newer = null;
    this.bytes -= s.buf.byteLength;
    this.size--;
  }

  private evictOldest(): void {
    const s = this.oldest;
    if (s === null) throw new Error('StoragePool: accounting out of step');
    const pages = s.buf.byteLength / PAGE_SIZE;
    const c = this.classes.get(pages)!;
    // The oldest storage of the pool is the oldest of its class (take pops the newest).
    if (c.items[c.head] !== s) throw new Error('StoragePool: eviction order out of step');
    c.items[c.head++] = undefined;
    if (c.head === c.items.length) { c.items.length = 0; c.head = 0; }
    else if (c.head > 32 && c.head * 2 > c.items.length) { c.items.splice(0, c.head); c.head = 0; }
    this.unlink(s);
  }
}
