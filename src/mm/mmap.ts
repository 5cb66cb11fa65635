/**
 * mmap(2): mm/mmap.c ksys_mmap_pgoff, do_mmap; mm/util.c vm_mmap_pgoff;
 * mm/vma.c __mmap_region; mm/gup.c __mm_populate. Free functions over the
 * AddressSpace.
 */
import type { AddressSpace } from './address-space.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_HUGE_MASK, MAP_HUGE_SHIFT,
  MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK,
  MAP_SYNC, MAP_TYPE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE,
} from '../abi/constants.js';
import { lowBits, modPow2, word, wordBig, type Word } from '../abi/word.js';
import { AnonHugetlbFile, fileHugePageSize, hstateSizelog } from './hugetlb.js';
import {
  Vma, vmFlags, type MappedFile, type MmCaller, VM_ACCESS_FLAGS, VM_ACCOUNT, VM_DONTEXPAND, VM_GROWSDOWN, VM_HUGETLB,
  VM_IO, VM_LOCKED, VM_LOCKED_MASK, VM_LOCKONFAULT, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NOHUGEPAGE,
  VM_NORESERVE, VM_PFNMAP, VM_SHARED, VM_SPECIAL, VM_SYNC, VM_WRITE,
} from './vma.js';
import {
  EOPNOTSUPP, EPERM, EBADF, EAGAIN, ENOMEM, EACCES, EEXIST, EINVAL, EOVERFLOW, PAGE, U64, TASK_SIZE_N, MAX_LFS_PAGES,
  PGOFF_FAST_MAX, CAP_IPC_LOCK, CAP_SYS_ADMIN, LEGACY_MAP_MASK, isErr,
} from './internal.js';
import { faultPage } from './fault.js';
import { gatherMunmap, gathered } from './munmap.js';
import { getUnmappedArea } from './placement.js';
import { ShmemFile } from './shmem-file.js';
import { vmaMergeNewRange } from './vma-merge.js';

export function mlockFutureOk(mm: AddressSpace, flags: number, bytes: number, caller: MmCaller): boolean {
  if (!(flags & VM_LOCKED) || caller.capable(CAP_IPC_LOCK)) return true;
  const limit = caller.rlimitMemlock();
  const pages = BigInt(bytes / PAGE + mm.lockedVm);
  return pages <= limit / BigInt(PAGE);
}

/** accountable_mapping(): hugetlb files are charged by their own reservations, never here. */
export function accountable(file: MappedFile | null, flags: number): boolean {
  if (fileHugePageSize(file)) return false;
  return (flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE;
}

/**
 * mmap(2) (ksys_mmap_pgoff + vm_mmap_pgoff + do_mmap). `file` is used when
 * MAP_ANONYMOUS is not given (fd -1 without a file gives EBADF); `pgoff` is
 * the file offset in pages. The 64-bit arguments may be numbers or bigints
 * (reduced modulo 2^64); see abi/word.ts.
 */
export function mmap(mm: AddressSpace, addrIn: number | bigint, lenIn: number | bigint, prot: number, flags: number, file: MappedFile | null, pgoffIn: number | bigint, caller: MmCaller): number {
  const addr = word(addrIn);
  let len = word(lenIn);
  const pgoff = word(pgoffIn);
  flags = flags >>> 0;
  prot = prot >>> 0;
  if (flags & MAP_ANONYMOUS) {
    file = null;
    if (flags & MAP_HUGETLB) {
      // ksys_mmap_pgoff(): an anonymous hugetlb mapping maps a fresh
      // hugetlbfs file of ALIGN(len, huge page) bytes, set up with
      // VM_NORESERVE (the reservation is taken, or not, by the file's
      // mmap hook: see mmapRegion).
      const hs = hstateSizelog(mm.allocator.hugetlb, (flags >>> MAP_HUGE_SHIFT) & MAP_HUGE_MASK);
      if (!hs) return EINVAL;
      const hsB = BigInt(hs);
      len = word((wordBig(len) + hsB - 1n) & ~(hsB - 1n));
      file = new AnonHugetlbFile(mm.allocator, hs, typeof len === 'number' && len <= TASK_SIZE_N ? len : 0);
    }
  } else {
    if (!file) return EBADF;
    if (flags & MAP_HUGETLB) return EINVAL;
  }
  const a = doMmap(mm, file, addr, len, prot, flags, 0, pgoff, caller);
  if (isErr(a)) return a;
  const populate = mm.populateLen;
  if (populate) { mm.populateLen = 0; mmPopulate(mm, a, a + populate); }
  return a;
}

/**
 * mmap(2) with fd -1 and a byte offset, as the x86_64 system call takes it:
 * an offset that is not page aligned is EINVAL; without MAP_ANONYMOUS the
 * missing file descriptor is EBADF.
 */
export function mmapAnon(mm: AddressSpace, addr: number | bigint, len: number | bigint, prot: number, flags: number, offsetIn: number | bigint, caller: MmCaller): number {
  const offset = word(offsetIn);
  if (lowBits(offset, PAGE - 1)) return EINVAL;
  const pgoff = typeof offset === 'number' ? offset / PAGE : word(offset >> 12n);
  return mmap(mm, addr, len, prot, flags, null, pgoff, caller);
}

/**
 * do_mmap(): the address, or a negative errno. Sets `populateLen` when the
 * caller must populate (mm_populate) the new range. The arguments are words
 * (abi/word.ts): the checks where values beyond 2^53 matter (page
 * alignment overflowing to 0, the file offset overflowing) take BigInt
 * only for such values (bigMmapArgs); below, everything is a number.
 *
 * The rare cases (BigInt arguments, MAP_LOCKED, MAP_NORESERVE, anonymous
 * memory's flags) are out of line: kept small, the common path inlines
 * into its callers (docs/perf.md, shmat + shmdt).
 */
export function doMmap(mm: AddressSpace, file: MappedFile | null, addrW: Word, lenW: Word, prot: number, flags: number, vmFlagsIn: number, pgoffW: Word, caller: MmCaller): number {
  if (lenW === 0) return EINVAL;
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  if (typeof addrW !== 'number' || typeof lenW !== 'number' || typeof pgoffW !== 'number' || pgoffW > PGOFF_FAST_MAX) {
    return bigMmapArgs(mm, file, addrW, lenW, prot, flags, vmFlagsIn, pgoffW, caller);
  }
  // No value here can overflow: len < 2^53 pages up exactly, pgoff + pages < 2^52.
  let addr = addrW;
  if (!(flags & MAP_FIXED)) {
    // round_hint_to_min()
    addr -= modPow2(addr, PAGE);
    const minAddr = mm.allocator.effectiveMmapMinAddr;
    if (addr !== 0 && addr < minAddr) addr = minAddr;
  }
  let len = lenW + PAGE - 1;
  len -= modPow2(len, PAGE);
  if (mm.mapCount > mm.maxMapCount) return ENOMEM;
  if (len > TASK_SIZE_N) return ENOMEM;
  return doMmapRange(mm, file, addr, len, prot, flags, vmFlagsIn, pgoffW, pgoffW + len / PAGE > MAX_LFS_PAGES, caller);
}

/** do_mmap()'s argument checks with a BigInt word among the arguments (or a huge offset). */
function bigMmapArgs(mm: AddressSpace, file: MappedFile | null, addrW: Word, lenW: Word, prot: number, flags: number, vmFlagsIn: number, pgoffW: Word, caller: MmCaller): number {
  let addrB = wordBig(addrW);
  let lenB = wordBig(lenW);
  const pgoffB = wordBig(pgoffW);
  if (!(flags & MAP_FIXED)) {
    addrB &= ~4095n;
    const minAddr = BigInt(mm.allocator.effectiveMmapMinAddr);
    if (addrB !== 0n && addrB < minAddr) addrB = minAddr;
  }
  lenB = (lenB + 4095n) & ~4095n & U64;
  if (lenB === 0n) return ENOMEM;
  if (pgoffB + (lenB >> 12n) > U64) return EOVERFLOW;
  if (mm.mapCount > mm.maxMapCount) return ENOMEM;
  if (lenB > TASK_SIZE) return ENOMEM;
  /** pgoff + pages > MAX_LFS_FILESIZE pages (file_mmap_ok()). */
  const fileOverflow = pgoffB + (lenB >> 12n) > BigInt(MAX_LFS_PAGES);
  return doMmapRange(mm, file, addrB > TASK_SIZE ? TASK_SIZE_N : Number(addrB), Number(lenB), prot, flags, vmFlagsIn,
    fileOverflow ? 0 : Number(pgoffB), fileOverflow, caller);
}

/**
 * do_mmap() from __get_unmapped_area on, with the arguments checked: `len`
 * is page aligned and at most TASK_SIZE; `fileOverflow` says pgoff + pages
 * passes MAX_LFS_FILESIZE (file_mmap_ok()).
 */
function doMmapRange(mm: AddressSpace, file: MappedFile | null, addr: number, len: number, prot: number, flags: number, vmFlagsIn: number, pgoff: number, fileOverflow: boolean, caller: MmCaller): number {
  // A fixed address beyond the user address space fails in __get_unmapped_area.
  if ((flags & MAP_FIXED) && addr > TASK_SIZE_N - len) return ENOMEM;
  if (addr > TASK_SIZE_N) addr = TASK_SIZE_N; // a non-fixed hint that high is never valid
  addr = getUnmappedArea(mm, file, addr, len, flags, caller);
  if (isErr(addr)) return addr;
  if (flags & MAP_FIXED_NOREPLACE) {
    if (mm.tree.intersection(addr, addr + len)) return EEXIST;
  }
  let vmf = vmFlagsIn | (prot & (PROT_READ | PROT_WRITE | PROT_EXEC))
    | ((flags & MAP_GROWSDOWN) ? VM_GROWSDOWN : 0) | ((flags & MAP_LOCKED) ? VM_LOCKED : 0)
    | ((flags & MAP_SYNC) ? VM_SYNC : 0) | ((flags & MAP_STACK) ? VM_NOHUGEPAGE : 0)
    | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (vmf & VM_LOCKED) {
    const e = mlockChecks(mm, flags, vmf, len, caller);
    if (e) return e;
  }
  if (file) {
    // file_mmap_ok(): shmem files take any offset below MAX_LFS_FILESIZE.
    if (fileOverflow) return EOVERFLOW;
    let f = flags;
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
      case MAP_SHARED_VALIDATE:
        if ((flags & MAP_TYPE) === MAP_SHARED) f &= LEGACY_MAP_MASK;
        if (f & ~LEGACY_MAP_MASK) return -EOPNOTSUPP;
        vmf = sharedFileFlags(file, prot, vmf);
        if (vmf < 0) return vmf;
        if (vmf & VM_GROWSDOWN) return EINVAL;
        break;
      case MAP_PRIVATE:
        if (file.readable === false) return EACCES;
        if (vmf & VM_GROWSDOWN) return EINVAL;
        break;
      default:
        return EINVAL;
    }
  } else {
    vmf = anonMapFlags(flags, vmf);
    if (vmf < 0) return vmf;
    pgoff = (flags & MAP_TYPE) === MAP_PRIVATE ? addr / PAGE : 0;
  }
  if (flags & MAP_NORESERVE) vmf = noreserveFlags(mm, file, vmf);
  const a = mmapRegion(mm, file, addr, len, vmFlags(vmf), pgoff, caller);
  if (isErr(a)) return a;
  if ((vmf & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE) mm.populateLen = len;
  return a;
}

/** do_mmap()'s MAP_SHARED file case: the VM flags (unsigned), or EACCES. */
function sharedFileFlags(file: MappedFile, prot: number, vmf: number): number {
  if (prot & PROT_WRITE) {
    if (file.writable === false) return EACCES;
  }
  vmf |= VM_SHARED | VM_MAYSHARE;
  if (file.writable === false) vmf &= ~(VM_MAYWRITE | VM_SHARED);
  if (file.readable === false) return EACCES;
  return vmFlags(vmf);
}

/**
 * do_mmap(file, addr, len, prot, MAP_SHARED or MAP_SHARED | MAP_FIXED, 0,
 * pgoff 0) with number arguments, as do_shmat() calls it: doMmap() less
 * the handling of the flags and offsets it cannot be given (so no populate
 * is ever asked for), in the same order of checks. The shmat + shmdt pair
 * is a benchmarked hot path, and doMmap()'s generality was a fifth of it
 * (docs/perf.md).
 */
export function doMmapSharedFile(mm: AddressSpace, file: MappedFile, addr: number, len: number, prot: number, fixed: boolean, caller: MmCaller): number {
  if (len === 0) return EINVAL;
  if (!fixed && addr !== 0) {
    // round_hint_to_min() (a NULL hint stays NULL)
    addr -= modPow2(addr, PAGE);
    const minAddr = mm.allocator.effectiveMmapMinAddr;
    if (addr !== 0 && addr < minAddr) addr = minAddr;
  }
  // PAGE_ALIGN(len): exact below 2^53 (a power-of-two divide, a ceiling).
  len = Math.ceil(len / PAGE) * PAGE;
  if (mm.mapCount > mm.maxMapCount) return ENOMEM;
  if (len > TASK_SIZE_N) return ENOMEM;
  // file_mmap_ok() holds: pgoff 0 plus at most 2^35 pages.
  if (fixed && addr > TASK_SIZE_N - len) return ENOMEM;
  if (addr > TASK_SIZE_N) addr = TASK_SIZE_N;
  addr = getUnmappedArea(mm, file, addr, len, fixed ? MAP_SHARED | MAP_FIXED : MAP_SHARED, caller);
  if (isErr(addr)) return addr;
  const vmf = sharedFileFlags(file, prot, (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
  if (vmf < 0) return vmf;
  return mmapRegion(mm, file, addr, len, vmf, 0, caller);
}

/** do_mmap()'s checks of a locked mapping: can_do_mlock() for MAP_LOCKED, then mlock_future_ok(). */
function mlockChecks(mm: AddressSpace, flags: number, vmf: number, len: number, caller: MmCaller): number {
  if (flags & MAP_LOCKED) {
    // can_do_mlock()
    if (caller.rlimitMemlock() === 0n && !caller.capable(CAP_IPC_LOCK)) return EPERM;
  }
  if (!mlockFutureOk(mm, vmf, len, caller)) return EAGAIN;
  return 0;
}

/** do_mmap()'s flags of an anonymous mapping (by its map type, unsigned), or EINVAL. */
function anonMapFlags(flags: number, vmf: number): number {
  switch (flags & MAP_TYPE) {
    case MAP_SHARED:
      if (vmf & VM_GROWSDOWN) return EINVAL;
      return vmFlags(vmf | VM_SHARED | VM_MAYSHARE);
    case MAP_PRIVATE:
      return vmFlags(vmf);
    default:
      return EINVAL;
  }
}

/** do_mmap() with MAP_NORESERVE. */
function noreserveFlags(mm: AddressSpace, file: MappedFile | null, vmf: number): number {
  // We honor MAP_NORESERVE if allowed to overcommit.
  if (mm.allocator.sysctl.overcommitMemory !== 2) vmf |= VM_NORESERVE;
  // hugetlb applies strict overcommit unless MAP_NORESERVE.
  if (fileHugePageSize(file)) vmf |= VM_NORESERVE;
  return vmf;
}

/**
 * mmap_region() / __mmap_region(). The common case (shmat, a file mapped
 * into a free range: nothing replaced, charged, reserved, merged or locked)
 * takes a short path that inlines; everything else is mmapRegionGeneral.
 */
export function mmapRegion(mm: AddressSpace, file: MappedFile | null, addr: number, len: number, vmf: number, pgoff: number, caller: MmCaller): number {
  const end = addr + len;
  // find_vma(addr): after a top-down placement, the VMA above the gap.
  const next = mm.tree.findGuessed(addr, mm.tree.gapAbove);
  if (file !== null && (next === null || next.start >= end) && !(vmf & VM_LOCKED)
    && !accountable(file, vmf) && !fileHugePageSize(file)) {
    const prev = next !== null ? next.prev : mm.tree.last;
    // vma_merge_new_range() needs a neighbour of the same file touching the range (see below).
    if ((prev === null || prev.end !== addr || prev.file !== file) && (next === null || next.start !== end || next.file !== file)) {
      newVma(mm, file, addr, end, vmf, pgoff, file, caller);
      return addr;
    }
  }
  return mmapRegionGeneral(mm, file, addr, len, vmf, pgoff, caller, next);
}

/**
 * __mmap_region()'s new VMA (nothing merged): linked, holding a reference
 * on `f`, and opened by the file's mmap hook when the caller mapped a file
 * (shm_mmap() takes its attach reference, __shm_open, here).
 */
function newVma(mm: AddressSpace, f: MappedFile | null, addr: number, end: number, vmf: number, pgoff: number, file: MappedFile | null, caller: MmCaller): Vma {
  const vma = new Vma(addr, end, vmf, pgoff, f);
  if (f) f.get?.();
  mm.linkVma(vma);
  if (f && file && f.vmOps) f.vmOps.open(vma, caller);
  return vma;
}

/** mmap_region() in general; `next` is find_vma(addr). */
function mmapRegionGeneral(mm: AddressSpace, file: MappedFile | null, addr: number, len: number, vmf: number, pgoff: number, caller: MmCaller, next: Vma | null): number {
  const end = addr + len;
  const pglen = len / PAGE;
  let prev: Vma | null;
  let detached: Vma[] | null = null;
  let nrAccounted = 0;
  if (next && next.start < end) {
    const last = gatherMunmap(mm, next, addr, end, caller);
    if (typeof last === 'number') return last;
    const d = detached = gathered(next, last);
    prev = d[0]!.prev;
    next = d[d.length - 1]!.next;
    for (const v of d) if (v.flags & VM_ACCOUNT) nrAccounted += v.pages;
  } else {
    prev = next ? next.prev : mm.tree.last;
  }
  let charged = 0;
  let unaccountDetached = true;
  if (accountable(file, vmf)) {
    charged = pglen - nrAccounted;
    if (charged) {
      const e = mm.allocator.vmEnoughMemory(charged, caller.capable(CAP_SYS_ADMIN), mm.totalVmPages());
      if (e) return e; // the VMAs stay (split), like reattach_vmas()
    }
    unaccountDetached = false;
    vmf = vmFlags(vmf | VM_ACCOUNT);
  }
  if (detached) {
    // vms_clean_up_area(): the old VMAs are closed and their pages zapped
    // before the new one exists; from here on a failure leaves a hole.
    for (const v of detached) if (v.file?.vmOps) v.file.vmOps.close(v, caller);
    for (const v of detached) mm.zapRange(v, v.start, v.end);
    // The old VMAs leave the tree so the new range can be linked or merged.
    mm.noteVmDrop();
    for (const v of detached) {
      if (v.flags & VM_LOCKED) mm.lockedVm -= v.pages;
      mm.tree.remove(v);
    }
  }
  const unaccount = unaccountDetached ? nrAccounted : 0;
  const hs = fileHugePageSize(file);
  if (hs) {
    // hugetlbfs_file_mmap(): the VMA becomes VM_HUGETLB | VM_DONTEXPAND
    // (special: it never merges). Its offset must be huge page aligned,
    // and the huge pages are reserved now unless VM_NORESERVE or the file
    // is a SysV segment's (S_PRIVATE: shmget reserved them). A failure
    // here comes after the old mappings are gone: it leaves a hole
    // (vms_abort_munmap_vmas, observed on 6.18).
    vmf = vmFlags(vmf | VM_HUGETLB | VM_DONTEXPAND);
    let e = 0;
    if (pgoff % (hs / PAGE)) e = EINVAL;
    else if (file instanceof AnonHugetlbFile && !(vmf & VM_NORESERVE)
      && pglen / (hs / PAGE) > mm.allocator.hugetlb.freePages(hs)) e = ENOMEM;
    if (e) {
      if (charged) mm.allocator.unacctMemory(charged);
      freeDetached(mm, detached, unaccount);
      return e;
    }
  }
  let vma: Vma | null = null;
  // vma_merge_new_range() can only succeed next to a VMA of the same file
  // (is_mergeable_vma); a fresh SysV attach file never is.
  if ((prev && prev.end === addr && prev.file === file) || (next && next.start === end && next.file === file)) {
    vma = vmaMergeNewRange(mm, {
      prev, next, middle: null, start: addr, end, flags: vmf, pgoff, file,
      anonVma: null, copiedFrom: null, justExpand: false,
    });
  }
  if (!vma) {
    let f = file;
    if (!f && (vmf & VM_SHARED)) {
      // shmem_zero_setup(): a fresh shmem file, accounted unless VM_NORESERVE.
      if (!(vmf & VM_NORESERVE)) {
        const e = mm.allocator.vmEnoughMemory(pglen, caller.capable(CAP_SYS_ADMIN), mm.totalVmPages());
        if (e) {
          if (charged) mm.allocator.unacctMemory(charged);
          freeDetached(mm, detached, unaccount);
          return e;
        }
      }
      const allocator = mm.allocator;
      const acct = (vmf & VM_NORESERVE) ? 0 : pglen;
      f = new ShmemFile({
        allocator, sizeBytes: len, path: '/dev/zero (deleted)',
        onRelease: () => { if (acct) allocator.unacctMemory(acct); },
      });
    }
    vma = newVma(mm, f, addr, end, vmf, pgoff, file, caller);
  }
  freeDetached(mm, detached, unaccount);
  if (vmf & VM_LOCKED) {
    // __mmap_complete(): special and hugetlb VMAs are never mlocked.
    if (vmf & (VM_SPECIAL | VM_HUGETLB)) vma.flags = vmFlags(vma.flags & ~VM_LOCKED_MASK);
    else mm.lockedVm += pglen;
  }
  return addr;
}

/** vms_complete_munmap_vmas() for mmap_region(): frees the replaced VMAs and unaccounts `unaccount` pages. */
export function freeDetached(mm: AddressSpace, detached: Vma[] | null, unaccount: number): void {
  if (!detached) return;
  for (const v of detached) mm.freeVma(v);
  if (unaccount) mm.allocator.unacctMemory(unaccount);
}

/** __mm_populate(start, len, ignore_errors = 1). */
export function mmPopulate(mm: AddressSpace, start: number, end: number): void {
  let nstart = start;
  while (nstart < end) {
    const vma = mm.tree.intersection(nstart, end);
    if (!vma) break;
    nstart = Math.max(nstart, vma.start);
    const nend = Math.min(end, vma.end);
    if (!(vma.flags & (VM_IO | VM_PFNMAP)) && (vma.flags & VM_ACCESS_FLAGS) && !(vma.flags & VM_LOCKONFAULT)) {
      const write = (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
      for (let a = nstart; a < nend; a += PAGE) {
        if (faultPage(mm, vma, a, write, true) !== 0) break;
      }
    }
    nstart = nend;
  }
}
