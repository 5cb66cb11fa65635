/**
 * struct ipc_ids: the per-IPC-namespace, per-type registry of SysV IPC
 * objects (ipc/util.c, ipc/util.h, lib/idr.c idr_alloc_cyclic()).
 *
 * It holds the index table (Linux: an IDR, here a Map from index to object
 * plus an occupancy bitmap), the key table (Linux: an rhashtable, here a
 * KeyTable; objects with key IPC_PRIVATE are never in it), and the counters that drive the id
 * numbering: in_use, seq, last_idx, max_idx, the IDR's cyclic cursor
 * (idr_next) and next_id (checkpoint/restore, kernel.*_next_id).
 *
 * Ids are `seq << IPCMNI_SHIFT | index` with IPCMNI_SHIFT = 15 (24 with the
 * ipcmni_extend boot option).
 */
import { IPC_PRIVATE, IPCMNI_SHIFT } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import type { Credentials } from '../auth/cred.js';
import { IndexBitmap } from './bitmap.js';
import { KeyTable } from './key-table.js';
import type { KernIpcPerm } from './perm.js';

/** ipc/util.h IPCMNI_EXTEND_SHIFT (ipcmni_extend boot option). */
export const IPCMNI_EXTEND_SHIFT = 24;
/** include/linux/radix-tree.h RADIX_TREE_MAP_SIZE (64): ipc_min_cycle. */
export const RADIX_TREE_MAP_SIZE = 64;
/** INT_MAX. */
export const INT_MAX = 0x7fffffff;
/** log2 of the index table's chunk size (1024 slots). */
const IDR_CHUNK_SHIFT = 10;
const IDR_CHUNK_MASK = (1 << IDR_CHUNK_SHIFT) - 1;

export interface IpcIdsOptions {
  /**
   * The `ipcmni_extend` boot option: 2^24 indexes, 7 sequence bits and a
   * minimum cycle of RADIX_TREE_MAP_SIZE^2 (4096). Default false.
   */
  extend?: boolean;
}

/** ipcid_to_idx(id) for the default layout. */
export function ipcidToIdx(id: number, shift: number = IPCMNI_SHIFT): number {
  return id & ((1 << shift) - 1);
}

/** ipcid_to_seqx(id): arithmetic shift of a C int. */
export function ipcidToSeqx(id: number, shift: number = IPCMNI_SHIFT): number {
  return (id | 0) >> shift;
}

/**
 * `(seq << shift) + idx` evaluated as a C int (wraps past INT_MAX). JS's
 * `<<` wraps modulo 2^32 as C's does; seq and idx are below 2^31, so the
 * sum is exact before `| 0` wraps it (integer operations only: no `**`).
 */
export function ipcBuildId(seq: number, idx: number, shift: number = IPCMNI_SHIFT): number {
  return ((seq << shift) + idx) | 0;
}

export class IpcIds<T extends KernIpcPerm> {
  /** ipc_mni: number of index slots the cyclic allocator and the limits use (32768). */
  readonly ipcMni: number;
  /** ipcmni_seq_shift(): 15, or 24 with ipcmni_extend. */
  readonly seqShift: number;
  /** IPCMNI_IDX_MASK: 0x7fff by default. */
  readonly idxMask: number;
  /** ipc_min_cycle: lower bound of the allocation window (64; 4096 extended). */
  readonly minCycle: number;
  /** ipcid_seq_max() = INT_MAX >> shift (65535); normal allocation keeps seq < this. */
  readonly seqMax: number;

  /** Invariant: equals the number of objects in the index table. */
  #inUse = 0;
  /** Invariant: 0 <= seq < seqMax. Incremented when the cyclic allocator wraps. */
  #seq = 0;
  /** Index of the last cyclic (non-next_id) allocation, -1 initially. */
  #lastIdx = -1;
  /** ids->max_idx. Invariant: the highest occupied index, or -1 when the table is empty. */
  #maxIdx = -1;
  /** ids->next_id. Invariant: -1 (unset) or 0..INT_MAX. */
  #nextId = -1;
  /** idr->idr_next: the cyclic cursor (u32). Only idr_alloc_cyclic() moves it. */
  #idrNext = 0;
  /**
   * The index table (the IDR). Invariant: obj is at index i iff obj.id's low
   * bits are i (i < ipcMni), and i's bit is set in #bitmap. Indexes below
   * ipc_mni live in #chunks: slot i is #chunks[i >> IDR_CHUNK_SHIFT][i &
   * IDR_CHUNK_MASK], a chunk allocated when its first index is used (an
   * array lookup is what IPC_STAT pays per call, a Map costs ~10 ns more;
   * bench: stat). Indexes >= ipcMni can only come from the next_id path (see
   * #idrAlloc): they are in #overflowObjects and listed in #overflow (sorted).
   */
  readonly #chunks: ((T | undefined)[] | undefined)[];
  readonly #overflowObjects = new Map<number, T>();
  readonly #bitmap: IndexBitmap;
  readonly #overflow: number[] = [];
  /**
   * The key table. Invariant: contains exactly the registered objects whose
   * key !== IPC_PRIVATE, keyed by that key; keys are unique.
   */
  readonly #keys = new KeyTable<T>();

  constructor(options: IpcIdsOptions = {}) {
    this.seqShift = options.extend ? IPCMNI_EXTEND_SHIFT : IPCMNI_SHIFT;
    this.ipcMni = 1 << this.seqShift;
    this.idxMask = this.ipcMni - 1;
    this.minCycle = options.extend ? RADIX_TREE_MAP_SIZE * RADIX_TREE_MAP_SIZE : RADIX_TREE_MAP_SIZE;
    this.seqMax = INT_MAX >> this.seqShift;
    this.#bitmap = new IndexBitmap(this.ipcMni);
    this.#chunks = new Array<(T | undefined)[] | undefined>(this.ipcMni >> IDR_CHUNK_SHIFT).fill(undefined);
  }

  /** ids->in_use: number of registered objects. */
  get inUse(): number {
    return this.#inUse;
  }
  /** ids->seq. */
  get seq(): number {
    return this.#seq;
  }
  /** ids->last_idx. */
  get lastIdx(): number {
    return this.#lastIdx;
  }
  /** ids->max_idx (the cached value: -1 when empty). See getMaxIdx()/maxIdx(). */
  get maxIdxCached(): number {
    return this.#maxIdx;
  }
  /** The IDR's cyclic cursor (idr_next). */
  get cursor(): number {
    return this.#idrNext;
  }
  /** Number of entries in the key table. */
  get keyCount(): number {
    return this.#keys.size;
  }

  /**
   * ids->next_id (kernel.shm_next_id etc.): -1 when unset. The sysctl
   * handler validates writes (0..INT_MAX); this setter only rejects values
   * outside -1..INT_MAX, which the kernel could never hold.
   */
  get nextId(): number {
    return this.#nextId;
  }
  set nextId(v: number) {
    if (!Number.isInteger(v) || v < -1 || v > INT_MAX) throw new RangeError(`next_id out of range: ${v}`);
    this.#nextId = v;
  }

  /** ipc/util.c ipc_findkey(): the object registered under `key`, if any. */
  findKey(key: number): T | undefined {
    return this.#keys.get(key);
  }

  /**
   * ipc/util.c ipc_addid(): registers `obj` (whose key and mode the caller
   * has set) and returns its new id, or a negative errno.
   *  - -ENOSPC when in_use >= min(limit, ipc_mni) (checked first; obj untouched);
   *  - owner and creator become the caller's euid/egid;
   *  - index and seq per ipc_idr_alloc();
   *  - a non-private key enters the key table.
   * Linux's ipc_addid() returns the index and leaves the id in obj.id; this
   * returns obj.id (identical unless the next_id path produced an index >=
   * ipc_mni whose id wraps negative: check obj.id / the index in that case).
   */
  addId(obj: T, limit: number, cred: Credentials): number {
    if (limit > this.ipcMni) limit = this.ipcMni;
    if (this.#inUse >= limit) return -Errno.ENOSPC;

    obj.cuid = obj.uid = cred.euid;
    obj.gid = obj.cgid = cred.egid;
    obj.deleted = false;

    const idx = this.#idrAlloc(obj);
    if (idx >= 0 && obj.key !== IPC_PRIVATE) {
      // rhashtable_insert_fast(): ipcget() only creates after a failed lookup
      // under the same lock, so the key is never present here.
      if (this.#keys.has(obj.key)) {
        this.#remove(idx);
        throw new Error(`IpcIds.addId: key ${obj.key} is already registered`);
      }
      this.#keys.set(obj.key, obj);
    }
    if (idx < 0) {
      obj.deleted = true;
      return idx;
    }
    this.#inUse++;
    if (idx > this.#maxIdx) this.#maxIdx = idx;
    return obj.id;
  }

  /**
   * ipc/util.c ipc_idr_alloc(). Returns the index or -ENOSPC.
   *
   * next_id unset: the window is min(max(in_use*3/2, ipc_min_cycle), ipc_mni)
   * (in_use before this creation); idr_alloc_cyclic(0, window) picks the
   * lowest free index >= cursor and < window, else the lowest free index
   * from 0; if it is <= last_idx the allocator wrapped and seq advances
   * (wrapping to 0 at ipcid_seq_max()); last_idx = index.
   *
   * next_id set: seq = next_id >> shift, index = lowest free index >=
   * (next_id & mask) with no upper bound (idr_alloc(..., end = 0)); seq,
   * last_idx and the cursor are untouched. next_id is reset to -1 as soon
   * as this function runs, whether or not allocation succeeds.
   */
  #idrAlloc(obj: T): number {
    const nextId = this.#nextId;
    this.#nextId = -1;
    let idx: number;
    if (nextId < 0) {
      // in_use * 3 / 2 in C int arithmetic (in_use <= 2^24: no overflow).
      let window = Math.max((this.#inUse * 3) >> 1, this.minCycle);
      window = Math.min(window, this.ipcMni);
      idx = this.#idrAllocCyclic(0, window);
      if (idx >= 0) {
        if (idx <= this.#lastIdx) {
          this.#seq++;
          if (this.#seq >= this.seqMax) this.#seq = 0;
        }
        this.#lastIdx = idx;
        obj.seq = this.#seq;
        this.#insert(idx, obj);
      }
    } else {
      obj.seq = ipcidToSeqx(nextId, this.seqShift);
      idx = this.#lowestFreeFrom(nextId & this.idxMask);
      this.#insert(idx, obj);
    }
    if (idx >= 0) obj.id = ipcBuildId(obj.seq, idx, this.seqShift);
    return idx;
  }

  /**
   * lib/idr.c idr_alloc_cyclic(idr, ptr, start, end): search from the cursor
   * (at least `start`) up to end-1; on -ENOSPC, if the search did not already
   * start at `start`, search again from `start`. On success cursor = id + 1.
   */
  #idrAllocCyclic(start: number, end: number): number {
    let id = this.#idrNext;
    const max = end > 0 ? end - 1 : INT_MAX;
    if ((id | 0) < start) id = start;
    let r = this.#bitmap.findNextZero(id, max + 1);
    if (r < 0 && id > start) {
      id = start;
      r = this.#bitmap.findNextZero(id, max + 1);
    }
    if (r < 0) return -Errno.ENOSPC;
    this.#idrNext = r + 1;
    return r;
  }

  /** idr_alloc(idr, ptr, start, 0): lowest free index >= start, unbounded (up to INT_MAX). */
  #lowestFreeFrom(start: number): number {
    const r = this.#bitmap.findNextZero(start, this.ipcMni);
    if (r >= 0) return r;
    let k = this.ipcMni;
    for (const used of this.#overflow) {
      if (used === k) k++;
      else if (used > k) break;
    }
    return k;
  }

  /** The object at index `idx` of the index table, if any. */
  #get(idx: number): T | undefined {
    if (idx >= this.ipcMni) return this.#overflowObjects.get(idx);
    const chunk = this.#chunks[idx >> IDR_CHUNK_SHIFT];
    return chunk === undefined ? undefined : chunk[idx & IDR_CHUNK_MASK];
  }

  #insert(idx: number, obj: T): void {
    if (idx < this.ipcMni) {
      let chunk = this.#chunks[idx >> IDR_CHUNK_SHIFT];
      if (chunk === undefined) {
        chunk = new Array<T | undefined>(IDR_CHUNK_MASK + 1).fill(undefined);
        this.#chunks[idx >> IDR_CHUNK_SHIFT] = chunk;
      }
      chunk[idx & IDR_CHUNK_MASK] = obj;
      this.#bitmap.set(idx);
    } else {
      this.#overflowObjects.set(idx, obj);
      let i = this.#overflow.length;
      while (i > 0 && this.#overflow[i - 1]! > idx) i--;
      this.#overflow.splice(i, 0, idx);
    }
  }

  #remove(idx: number): void {
    if (idx < this.ipcMni) {
      this.#chunks[idx >> IDR_CHUNK_SHIFT]![idx & IDR_CHUNK_MASK] = undefined;
      this.#bitmap.clear(idx);
    } else {
      this.#overflowObjects.delete(idx);
      const i = this.#overflow.indexOf(idx);
      if (i >= 0) this.#overflow.splice(i, 1);
    }
  }

  /**
   * ipc/util.c ipc_obtain_object_idr(): the object at index `id & mask` (the
   * sequence bits are ignored), or -EINVAL for an empty slot. A negative id
   * must be rejected by the caller.
   */
  obtainObjectIdr(id: number): T | number {
    // ipcid_to_idx(): always below ipc_mni, so always in #chunks.
    const idx = (id | 0) & this.idxMask;
    const chunk = this.#chunks[idx >> IDR_CHUNK_SHIFT];
    const obj = chunk === undefined ? undefined : chunk[idx & IDR_CHUNK_MASK];
    return obj ?? -Errno.EINVAL;
  }

  /** Alias of obtainObjectIdr(): lookup by index (SHM_STAT, SHM_STAT_ANY). */
  obtainObjectIdx(idx: number): T | number {
    return this.obtainObjectIdr(idx);
  }

  /**
   * ipc/util.c ipc_obtain_object_check(): lookup by index, then
   * ipc_checkid(): `id >> shift` must equal the object's seq, else -EINVAL
   * (a stale id or garbage high bits). A negative id must be rejected by the
   * caller (it would fail the seq check anyway).
   */
  obtainObjectCheck(id: number): T | number {
    // obtainObjectIdr() and ipcid_to_seqx() written out: this is the lookup
    // of every IPC_STAT and shmat, and small enough to be inlined (bench: stat).
    id |= 0;
    const idx = id & this.idxMask;
    const chunk = this.#chunks[idx >> IDR_CHUNK_SHIFT];
    const obj = chunk === undefined ? undefined : chunk[idx & IDR_CHUNK_MASK];
    if (obj === undefined || id >> this.seqShift !== obj.seq) return -Errno.EINVAL;
    return obj;
  }

  /** ipc/util.c ipc_kht_remove(). */
  #ktRemove(obj: T): void {
    if (obj.key !== IPC_PRIVATE && this.#keys.get(obj.key) === obj) this.#keys.delete(obj.key);
  }

  /**
   * ipc/util.c ipc_rmid(): frees the object's index and key, in_use--, marks
   * it deleted; if it held the highest index, max_idx becomes the next lower
   * occupied index (ipc_search_maxidx(), -1 when none).
   *
   * (Linux frees index `id & mask`; for an object the next_id path placed at
   * an index >= ipc_mni that would be another slot -- a kernel bug with
   * WARN_ON_ONCE. This model frees the object's own slot.)
   */
  rmid(obj: T): void {
    let idx = ipcidToIdx(obj.id, this.seqShift);
    if (this.#get(idx) !== obj) {
      const found = this.#overflow.find((i) => this.#overflowObjects.get(i) === obj);
      if (found === undefined) throw new Error(`IpcIds.rmid: object with id ${obj.id} is not registered`);
      idx = found;
    }
    this.#remove(idx);
    this.#ktRemove(obj);
    this.#inUse--;
    obj.deleted = true;
    if (idx === this.#maxIdx) {
      // An emptied table has no highest index: no search (a segment created
      // and removed alone, bench: cycle).
      let i = this.#inUse === 0 ? -1 : this.#maxIdx - 1;
      if (i >= 0) i = this.#searchMaxIdx(i);
      this.#maxIdx = i;
    }
  }

  /**
   * ipc/util.c ipc_search_maxidx(ids, limit): the highest occupied index
   * (nothing is occupied above `limit`), -1 when none. Linux binary-searches
   * with idr_get_next(); the result is the same.
   */
  #searchMaxIdx(limit: number): number {
    for (let i = this.#overflow.length - 1; i >= 0; i--) {
      if (this.#overflow[i]! <= limit) return this.#overflow[i]!;
    }
    return this.#bitmap.findPrevSet(Math.min(limit, this.ipcMni - 1));
  }

  /**
   * ipc/util.c ipc_set_key_private(): removes the object from the key table
   * and sets its key to IPC_PRIVATE (shm: IPC_RMID of an attached segment).
   */
  setKeyPrivate(obj: T): void {
    this.#ktRemove(obj);
    obj.key = IPC_PRIVATE;
  }

  /**
   * ipc/util.h ipc_get_maxidx(), exactly: -1 when empty, ipc_mni-1 when
   * in_use == ipc_mni, else max_idx.
   */
  getMaxIdx(): number {
    if (this.#inUse === 0) return -1;
    if (this.#inUse === this.ipcMni) return this.ipcMni - 1;
    return this.#maxIdx;
  }

  /**
   * The value IPC_INFO/SHM_INFO return: ipc_get_maxidx() with a negative
   * result replaced by 0 (shmctl_ipc_info()/shmctl_shm_info() do
   * `if (err < 0) err = 0`). So 0 when empty, ipc_mni-1 when full.
   */
  maxIdx(): number {
    const r = this.getMaxIdx();
    return r < 0 ? 0 : r;
  }

  /** lib/idr.c idr_get_next(): the first [index, object] with index >= pos. */
  getNext(pos: number): [number, T] | undefined {
    if (pos < 0) pos = 0;
    if (pos < this.ipcMni) {
      const i = this.#bitmap.findNextSet(pos);
      if (i >= 0) return [i, this.#get(i)!];
    }
    for (const i of this.#overflow) {
      if (i >= pos) return [i, this.#overflowObjects.get(i)!];
    }
    return undefined;
  }

  /** [index, object] pairs in increasing index order (like /proc/sysvipc/*). */
  *entries(): IterableIterator<[number, T]> {
    let pos = 0;
    for (;;) {
      const e = this.getNext(pos);
      if (!e) return;
      yield e;
      pos = e[0] + 1;
    }
  }

  /** Objects in increasing index order. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const [, obj] of this.entries()) yield obj;
  }

  /** The key table's [key, object] pairs (unordered). */
  keyEntries(): IterableIterator<[number, T]> {
    return this.#keys.entries();
  }

  /** The object at index `idx` (exact index, no masking), if any. */
  at(idx: number): T | undefined {
    return this.#get(idx);
  }

  /**
   * ipc/namespace.c free_ipcs(): calls `free` on every object in increasing
   * index order (the callback is expected to rmid() it).
   */
  freeAll(free: (obj: T) => void): void {
    for (const obj of [...this]) free(obj);
  }
}
