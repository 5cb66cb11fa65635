/**
 * The pages of one shmem file (mm/shmem.c): what a SysV segment or a shared
 * anonymous mapping ("/dev/zero (deleted)") holds.
 *
 * Nothing is committed at creation. A page is allocated (zeroed) on its first
 * touch, whether the fault is a read or a write (shmem_fault allocates on read
 * faults too), and is then resident until a hole is punched over it or the
 * file is destroyed, which zeroes it and returns it to the allocator.
 *
 * Storage: files up to 1 GiB live in one SharedArrayBuffer of the file's size,
 * created on first touch (the OS backs it lazily, so an untouched 1 GiB file
 * costs no RSS); bigger files are split into 64 MiB SharedArrayBuffers created
 * on demand in a Map, so a 1 TiB SHM_NORESERVE file with one touched page costs
 * one 64 MiB virtual reservation and one resident page. `storage()` hands out
 * (SharedArrayBuffer, byteOffset) for a contiguous page range, for zero-copy
 * views of a whole mapping.
 *
 * Recycling: a chunk comes from the allocator's StoragePool when one of the
 * same size is there (a destroyed file's buffer, its pages already faulted
 * in the host), else it is a new SharedArrayBuffer. destroy() zeroes the
 * resident pages of each chunk and pools it, unless storage() ever handed
 * the chunk's buffer out (views in other threads, futex keys): such a buffer
 * stays with its file and is dropped with it.
 */
import { PAGE_SIZE } from '../abi/constants.js';
import type { PageAllocator } from './page-allocator.js';
import type { PteOwner, Vma } from './vma.js';
import { copyBytes, fillBytes, zeroBytes } from './bytes.js';
import { newPageStorage, type PageStorage } from './storage-pool.js';
import { pinShape } from './shapes.js';

/** Files of at most this many pages get one contiguous buffer. */
export const CONTIGUOUS_LIMIT_PAGES = (1 << 30) / PAGE_SIZE;
/** Chunk size of bigger files, in pages (64 MiB). */
export const CHUNK_PAGES = (64 << 20) / PAGE_SIZE;

const F_RESIDENT = 1;
const F_DIRTY = 2;

type Chunk = PageStorage;

export class PageCache {
  /** Capacity in pages. */
  readonly pageCount: number;
  /** Pages currently allocated. */
  residentPages = 0;
  readonly allocator: PageAllocator;
  private readonly chunkPages: number;
  /**
   * The chunks of a file of several chunks, created on first use: most
   * segments have no chunk until touched, and an empty Map costs ~100 bytes
   * per segment (bench: 10 000 empty segments).
   */
  private chunks: Map<number, Chunk> | null = null;
  /** The reverse map (i_mmap): the first VMA mapping this file, chained by Vma.rmapNext. */
  private rmapFirst: Vma | null = null;
  private destroyed = false;
  /**
   * The last chunk used (a one-entry cache) and its index. A file of one
   * chunk (up to 1 GiB) keeps its chunk only here, without a Map.
   */
  private lastIdx = -1;
  private lastChunk: Chunk | null = null;

  constructor(allocator: PageAllocator, sizePages: number) {
    if (!Number.isSafeInteger(sizePages) || sizePages < 0) throw new Error(`PageCache: bad size ${sizePages}`);
    this.allocator = allocator;
    this.pageCount = sizePages;
    this.chunkPages = sizePages <= CONTIGUOUS_LIMIT_PAGES ? Math.max(sizePages, 1) : CHUNK_PAGES;
  }

  get isDestroyed(): boolean { return this.destroyed; }

  /** The chunk holding page `i`, created when `create`. */
  private chunk(i: number, create: boolean): Chunk | null {
    const ci = Math.floor(i / this.chunkPages);
    if (ci === this.lastIdx) return this.lastChunk;
    let c = this.chunks?.get(ci);
    if (!c) {
      if (!create) return null;
      if (this.destroyed) throw new Error('PageCache: access after destroy');
      const pages = Math.min(this.chunkPages, this.pageCount - ci * this.chunkPages);
      c = this.allocator.storagePool.take(pages) ?? newPageStorage(pages);
      if (this.pageCount > this.chunkPages) (this.chunks ??= new Map()).set(ci, c);
    }
    this.lastIdx = ci;
    this.lastChunk = c;
    return c;
  }

  private check(i: number): void {
    if (!(i >= 0 && i < this.pageCount) || !Number.isInteger(i)) throw new Error(`PageCache: page ${i} out of range (${this.pageCount})`);
  }

  isResident(i: number): boolean {
    const c = this.chunk(i, false);
    return c !== null && (c.flags[i % this.chunkPages]! & F_RESIDENT) !== 0;
  }

  isDirty(i: number): boolean {
    const c = this.chunk(i, false);
    return c !== null && (c.flags[i % this.chunkPages]! & F_DIRTY) !== 0;
  }

  /**
   * Faults page `i` in (allocating a zeroed page if needed) and returns the
   * bytes of its chunk; the page is at pageOffset(i) in them (two numbers
   * rather than a result object: this is on every access). `dirty` marks
   * the folio dirty: a write(2)-like access, or a write fault through a
   * shared mapping (fault_dirty_shared_page); the PTE's own dirty bit lives
   * in Vma.filePtes and is folded into the folio when the PTE is zapped.
   * A caller that writes into the page passes `dirty`: the whole page then
   * counts as written (see faultInWrite).
   */
  faultIn(i: number, dirty = false): Uint8Array {
    return dirty ? this.faultInWrite(i, 0, PAGE_SIZE) : this.fault(i, 0).bytes;
  }

  /**
   * faultIn(i, true) for a write of bytes [from, to) of the page only: the
   * chunk's written extent (what destroy() must zero before the storage is
   * recycled) grows by just those bytes. Every write into page storage goes
   * through here or faultIn(i, true), or through storage()/pageView(), whose
   * buffers are never recycled.
   */
  faultInWrite(i: number, from: number, to: number): Uint8Array {
    const c = this.fault(i, F_DIRTY);
    const base = (i % this.chunkPages) * PAGE_SIZE;
    if (base + from < c.wLo) c.wLo = base + from;
    if (base + to > c.wHi) c.wHi = base + to;
    return c.bytes;
  }

  private fault(i: number, dirty: number): Chunk {
    this.check(i);
    const c = this.chunk(i, true)!;
    const p = i % this.chunkPages;
    const f = c.flags[p]!;
    if (!(f & F_RESIDENT)) {
      c.flags[p] = F_RESIDENT | dirty;
      c.resident++;
      this.residentPages++;
      this.allocator.alloc(1, true);
    } else if (dirty && !(f & F_DIRTY)) {
      c.flags[p] = f | F_DIRTY;
    }
    return c;
  }

  /** The byte offset of page `i` in the bytes faultIn(i) returns. */
  pageOffset(i: number): number {
    return (i % this.chunkPages) * PAGE_SIZE;
  }

  /** Sets the folio's dirty flag (a dirty PTE was zapped). */
  markDirty(i: number): void {
    const c = this.chunk(i, false);
    if (c && (c.flags[i % this.chunkPages]! & F_RESIDENT)) c.flags[i % this.chunkPages]! |= F_DIRTY;
  }

  /** A view of page `i` (faulting it in). The caller may keep it: like storage(), it pins the buffer to this file. */
  pageView(i: number, dirty = false): Uint8Array {
    const bytes = this.faultIn(i, dirty);
    this.chunk(i, false)!.exported = true;
    const offset = this.pageOffset(i);
    return bytes.subarray(offset, offset + PAGE_SIZE);
  }

  /** Reads `len` bytes at (page, offset) into dst (faults the page in). */
  read(i: number, offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    const bytes = this.faultIn(i, false);
    const base = this.pageOffset(i);
    copyBytes(dst, dstOff, bytes, base + offset, len);
  }

  /** Writes `len` bytes from src at (page, offset) (faults the page in, marks it dirty). */
  write(i: number, offset: number, src: Uint8Array, srcOff: number, len: number): void {
    const bytes = this.faultInWrite(i, offset, offset + len);
    const base = this.pageOffset(i);
    copyBytes(bytes, base + offset, src, srcOff, len);
  }

  /** Fills `len` bytes at (page, offset) with `byte`. */
  fill(i: number, offset: number, len: number, byte: number): void {
    const bytes = this.faultInWrite(i, offset, offset + len);
    const base = this.pageOffset(i);
    fillBytes(bytes, base + offset, len, byte);
  }

  /** Number of PTEs (over all processes) that map page `i`. */
  mapcount(i: number): number {
    const c = this.chunk(i, false);
    return c?.mapcount ? c.mapcount[i % this.chunkPages]! : 0;
  }

  /** A PTE now maps page `i` (the page must be resident). */
  incMapcount(i: number): void {
    const c = this.chunk(i, false);
    if (!c) throw new Error('PageCache: mapping a page that is not resident');
    if (!c.mapcount) c.mapcount = new Int32Array(c.flags.length);
    c.mapcount[i % this.chunkPages]!++;
  }

  decMapcount(i: number): void {
    const c = this.chunk(i, false);
    if (!c?.mapcount || c.mapcount[i % this.chunkPages]! <= 0) throw new Error(`PageCache: mapcount underflow at page ${i}`);
    c.mapcount[i % this.chunkPages]!--;
  }

  /** Calls `fn` for every resident page in [first, lastExclusive), in order. */
  forEachResident(first: number, lastExclusive: number, fn: (i: number) => void): void {
    const cp = this.chunkPages;
    first = Math.max(0, first);
    lastExclusive = Math.min(this.pageCount, lastExclusive);
    if (first >= lastExclusive) return;
    const ciFirst = Math.floor(first / cp);
    const ciLast = Math.floor((lastExclusive - 1) / cp);
    const visit = (ci: number, c: Chunk): void => {
      if (c.resident === 0) return;
      const lo = Math.max(first, ci * cp) - ci * cp;
      const hi = Math.min(lastExclusive, (ci + 1) * cp) - ci * cp;
      const fl = c.flags;
      for (let p = lo; p < hi; p++) if (fl[p]! & F_RESIDENT) fn(ci * cp + p);
    };
    const chunks = this.chunks;
    if (!chunks) {
      // One chunk at most, held in lastChunk.
      if (this.lastChunk) visit(0, this.lastChunk);
      return;
    }
    if (ciLast - ciFirst + 1 <= chunks.size) {
      for (let ci = ciFirst; ci <= ciLast; ci++) {
        const c = chunks.get(ci);
        if (c) visit(ci, c);
      }
    } else {
      for (const ci of [...chunks.keys()].sort((a, b) => a - b)) {
        if (ci >= ciFirst && ci <= ciLast) visit(ci, chunks.get(ci)!);
      }
    }
  }

  /** Number of resident pages in [first, lastExclusive). */
  residentIn(first: number, lastExclusive: number): number {
    if (first <= 0 && lastExclusive >= this.pageCount) return this.residentPages;
    let n = 0;
    this.forEachResident(first, lastExclusive, () => { n++; });
    return n;
  }

  /** vma_link_file(): `vma`, mapped by `owner`, joins the reverse map. */
  linkMapper(vma: Vma, owner: PteOwner): void {
    if (vma.owner) throw new Error('PageCache: VMA already on a reverse map');
    vma.owner = owner;
    vma.rmapPrev = null;
    vma.rmapNext = this.rmapFirst;
    if (this.rmapFirst) this.rmapFirst.rmapPrev = vma;
    this.rmapFirst = vma;
  }

  /** vma_unlink_file(): `vma` leaves the reverse map (a no-op if it is not on it). */
  unlinkMapper(vma: Vma): void {
    if (!vma.owner) return;
    const p = vma.rmapPrev, n = vma.rmapNext;
    if (p) p.rmapNext = n; else this.rmapFirst = n;
    if (n) n.rmapPrev = p;
    vma.owner = vma.rmapPrev = vma.rmapNext = null;
  }

  /** Number of VMAs on the reverse map (tests). */
  get mapperCount(): number {
    let n = 0;
    for (let v = this.rmapFirst; v; v = v.rmapNext) n++;
    return n;
  }

  /** unmap_mapping_range(): every mapping VMA drops its PTEs of file pages [first, lastExclusive). */
  private unmapMappingRange(first: number, lastExclusive: number): void {
    for (let v = this.rmapFirst; v;) {
      const next = v.rmapNext; // zapping never unlinks, but stay safe against it
      v.owner!.zapFilePtes(v, first, lastExclusive);
      v = next;
    }
  }

  /**
   * Frees the pages of [first, lastExclusive) (FALLOC_FL_PUNCH_HOLE /
   * MADV_REMOVE): every mapper drops its PTEs first (unmap_mapping_range),
   * then each resident page is zeroed and returned to the allocator.
   */
  punchHole(first: number, lastExclusive: number): void {
    first = Math.max(0, first);
    lastExclusive = Math.min(this.pageCount, lastExclusive);
    if (first >= lastExclusive) return;
    this.unmapMappingRange(first, lastExclusive);
    const freed: number[] = [];
    this.forEachResident(first, lastExclusive, (i) => freed.push(i));
    for (const i of freed) this.freePage(i);
  }

  private freePage(i: number): void {
    const c = this.chunk(i, false)!;
    const p = i % this.chunkPages;
    if (c.mapcount && c.mapcount[p] !== 0) throw new Error(`PageCache: freeing mapped page ${i}`);
    zeroBytes(c.bytes, p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
    c.flags[p] = 0;
    c.resident--;
    this.residentPages--;
    this.allocator.free(1, true);
  }

  /**
   * Frees every page (the file's inode is evicted). Idempotent. Chunks never
   * exported go back to the allocator's pool, their resident pages zeroed
   * here: the zeroing a fresh page would cost on its first touch is paid at
   * the free instead (init_on_free), in proportion to the pages used.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.unmapMappingRange(0, this.pageCount);
    this.allocator.free(this.residentPages, true);
    this.residentPages = 0;
    // A file of one chunk (the common case) keeps it only in lastChunk: no
    // iterator, no array (bench: cycle).
    if (this.chunks) for (const c of this.chunks.values()) this.recycle(c);
    else if (this.lastChunk) this.recycle(this.lastChunk);
    this.chunks = null;
    this.lastChunk = null;
    this.lastIdx = -1;
    this.destroyed = true;
  }

  /** A chunk of the destroyed file goes back to the pool, scrubbed, unless it was exported or is too big. */
  private recycle(c: Chunk): void {
    const pool = this.allocator.storagePool;
    if (!c.exported && pool.accepts(c.flags.length)) {
      this.scrub(c);
      pool.give(c);
    }
  }

  /**
   * Zeroes what was written into `c` (its written extent, within its
   * resident pages: a page never resident is still zero, and zeroing it would
   * make the host fault it in) and clears its books, for the pool. Every PTE
   * is gone (destroy zapped the mappers), so a page still mapped is a bug.
   */
  private scrub(c: Chunk): void {
    const fl = c.flags;
    const mc = c.mapcount;
    if (mc) for (let p = 0; p < fl.length; p++) if (mc[p] !== 0) throw new Error('PageCache: destroying a mapped page');
    const lo = c.wLo, hi = c.wHi;
    const n = Math.ceil(hi / PAGE_SIZE);
    for (let p = Math.floor(lo / PAGE_SIZE); p < n; p++) {
      if (fl[p] === 0) continue;
      let q = p;
      while (q < n && fl[q] !== 0) q++;
      zeroBytes(c.bytes, Math.max(lo, p * PAGE_SIZE), Math.min(hi, q * PAGE_SIZE));
      p = q;
    }
    if (fl.length <= 64) for (let p = 0; p < fl.length; p++) fl[p] = 0;
    else fl.fill(0);
    c.resident = 0;
    c.wLo = c.bytes.length;
    c.wHi = 0;
  }

  /**
   * The storage of pages [first, lastExclusive) when they are contiguous
   * (always for files up to 1 GiB, within one 64 MiB chunk beyond), creating
   * the buffer if needed; null when the range spans chunks. Residency is not
   * changed: a caller that touches the memory directly must fault pages in
   * through this class to keep the accounting right. The buffer stays with
   * this file for good (it is never recycled).
   */
  storage(first: number, lastExclusive: number): { buffer: SharedArrayBuffer; byteOffset: number } | null {
    if (first < 0 || lastExclusive > this.pageCount || first >= lastExclusive) return null;
    const cp = this.chunkPages;
    if (Math.floor(first / cp) !== Math.floor((lastExclusive - 1) / cp)) return null;
    const c = this.chunk(first, true)!;
    // The buffer may now be viewed from other threads or key a futex: it
    // must never back another file (see StoragePool).
    c.exported = true;
    return { buffer: c.buf, byteOffset: (first % cp) * PAGE_SIZE };
  }
}

// On every fault: keep the hidden class when no file is left (see shapes.ts).
pinShape(new PageCache({} as PageAllocator, 0));
