/**
 * A shmem file (mm/shmem.c shmem_file_setup / shmem_zero_setup): the file
 * behind MAP_SHARED anonymous mappings and SysV segments.
 */
import type { PageAllocator } from './page-allocator.js';
import { PageCache } from './page-cache.js';
import { type MappedFile, type VmaOperations } from './vma.js';
import { PAGE } from './internal.js';

/** Options of a shmem file made by createShmemFile(). */
export interface ShmemFileOptions {
  allocator: PageAllocator;
  sizeBytes: number;
  path: string;
  dev?: string;
  ino?: number;
  vmOps?: VmaOperations | null;
  writable?: boolean;
  readable?: boolean;
  /** Called when the last reference is dropped (after the pages were freed). */
  onRelease?: () => void;
  /** An existing cache to share (a SysV attach file over the segment's pages); it is not destroyed on release. */
  cache?: PageCache;
}

let nextIno = 1024;

/**
 * A shmem file (shmem_file_setup): reference counted by get/put; when the
 * last reference goes, its pages are freed (unless it shares another file's
 * cache) and onRelease runs (e.g. to unaccount its size).
 */
export class ShmemFile implements MappedFile {
  readonly cache: PageCache;
  readonly sizePages: number;
  readonly path: string;
  readonly dev: string;
  readonly ino: number;
  readonly vmOps: VmaOperations | null;
  readonly writable: boolean;
  readonly readable: boolean;
  refs = 0;
  private readonly ownsCache: boolean;
  private readonly onRelease: (() => void) | undefined;

  constructor(o: ShmemFileOptions) {
    this.sizePages = Math.ceil(o.sizeBytes / PAGE);
    this.cache = o.cache ?? new PageCache(o.allocator, this.sizePages);
    this.ownsCache = !o.cache;
    this.path = o.path;
    this.dev = o.dev ?? '00:01';
    this.ino = o.ino ?? nextIno++;
    this.vmOps = o.vmOps ?? null;
    this.writable = o.writable ?? true;
    this.readable = o.readable ?? true;
    this.onRelease = o.onRelease;
  }

  get(): void { this.refs++; }

  put(): void {
    if (--this.refs > 0) return;
    if (this.refs < 0) throw new Error('ShmemFile: reference count underflow');
    if (this.ownsCache) this.cache.destroy();
    this.onRelease?.();
  }
}

/** Makes a shmem file (the factory shm uses for SysV segments and their attach files). */
export function createShmemFile(o: ShmemFileOptions): ShmemFile { return new ShmemFile(o); }
