/**
 * Per-user resource counters (kernel/ucount.c). SHM_LOCK charges
 * RLIMIT_MEMLOCK pages to the ucounts of (user namespace, real uid); the
 * counter is machine-wide, shared by every segment that user locked in any
 * IPC namespace.
 */
import type { UserNamespace } from './userns.js';

export const LONG_MAX = (1n << 63n) - 1n;

export class Ucounts {
  /** Pages charged by SHM_LOCK (UCOUNT_RLIMIT_MEMLOCK); never negative. */
  memlock = 0n;

  constructor(
    readonly ns: UserNamespace,
    readonly uid: number,
    /** The ucounts the namespace was created with (iter->ns->ucounts), or null for the initial namespace. */
    readonly parent: Ucounts | null,
    /** The memlock maximum recorded for `ns` at its creation (get_userns_rlimit_max), in pages. */
    readonly nsMemlockMax: bigint = LONG_MAX,
  ) {}

  /**
   * inc_rlimit_ucounts(): adds `v` at every level up to the initial
   * namespace; returns the new count at this level, or LONG_MAX when some
   * level went over the maximum recorded for the namespace below it.
   */
  incRlimit(v: bigint): bigint {
    let ret = 0n;
    let max = LONG_MAX;
    for (let iter: Ucounts | null = this; iter; iter = iter.parent) {
      const next = iter.memlock + v;
      iter.memlock = next;
      if (next < 0n || next > max) ret = LONG_MAX;
      else if (iter === this) ret = next;
      max = iter.nsMemlockMax;
    }
    return ret;
  }

  /** dec_rlimit_ucounts(). */
  decRlimit(v: bigint): void {
    for (let iter: Ucounts | null = this; iter; iter = iter.parent) {
      iter.memlock -= v;
      if (iter.memlock < 0n) throw new Error('ucounts: memlock charge went negative');
    }
  }
}

/** The table of ucounts (alloc_ucounts): one object per (user namespace, uid). */
export class UcountsTable {
  private table = new Map<UserNamespace, Map<number, Ucounts>>();

  get(ns: UserNamespace, uid: number, parent: Ucounts | null = null): Ucounts {
    let byUid = this.table.get(ns);
    if (!byUid) this.table.set(ns, (byUid = new Map()));
    let u = byUid.get(uid);
    if (!u) byUid.set(uid, (u = new Ucounts(ns, uid, parent)));
    return u;
  }

  /** Total memlock pages charged anywhere (for leak checks). */
  totalMemlock(): bigint {
    let t = 0n;
    for (const m of this.table.values()) for (const u of m.values()) t += u.memlock;
    return t;
  }
}
