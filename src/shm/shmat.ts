/**
 * shmat(2): ipc/shm.c do_shmat() and shm_mmap().
 */
import {
  MAP_FIXED, MAP_SHARED, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, SHMLBA, SHM_EXEC, SHM_RDONLY,
  SHM_REMAP, SHM_RND, TASK_SIZE,
} from '../abi/constants.js';

const TASK_SIZE_N = Number(TASK_SIZE);
import { Errno } from '../abi/errno.js';
import { lowBits, word, wordBig, type Word } from '../abi/word.js';
import { ipcperms } from '../ipc/perm.js';
import { doMmapSharedFile } from '../mm/mmap.js';
import { ShmAttachFile } from './attach.js';
import type { ShmTask } from './task.js';

const S_IRUGO = 0o444;
const S_IWUGO = 0o222;
const S_IXUGO = 0o111;
const U64_END = 1n << 64n;

/**
 * do_shmat(): the attach address, or a negative errno. `shmaddr` becomes a
 * word (abi/word.ts): a number below 2^53, a bigint above, where every attach
 * fails (beyond TASK_SIZE) but the errno still depends on the checks' order.
 */
export function shmat(current: ShmTask, shmid: number, shmaddr: number | bigint, shmflg: number): number {
  let addr: Word = word(shmaddr);
  let flags = MAP_SHARED;
  if (shmid < 0) return -Errno.EINVAL;
  if (addr !== 0) {
    if (lowBits(addr, SHMLBA - 1)) {
      if (shmflg & SHM_RND) {
        // round down
        addr = typeof addr === 'number' ? addr - (addr % SHMLBA) : addr & ~BigInt(SHMLBA - 1);
        // Ensure that the round-down is non-nil when remapping.
        if (addr === 0 && (shmflg & SHM_REMAP)) return -Errno.EINVAL;
      } else if (lowBits(addr, PAGE_SIZE - 1)) {
        return -Errno.EINVAL;
      }
    }
    flags |= MAP_FIXED;
  } else if (shmflg & SHM_REMAP) {
    return -Errno.EINVAL;
  }

  let prot: number;
  let accMode: number;
  if (shmflg & SHM_RDONLY) {
    prot = PROT_READ;
    accMode = S_IRUGO;
  } else {
    prot = PROT_READ | PROT_WRITE;
    accMode = S_IRUGO | S_IWUGO;
  }
  if (shmflg & SHM_EXEC) {
    prot |= PROT_EXEC;
    accMode |= S_IXUGO;
  }

  const ns = current.shmNs;
  const shp = ns.ids.obtainObjectCheck(shmid);
  if (typeof shp === 'number') return shp;
  if (ipcperms(ns.userNs, shp, accMode, current.cred)) return -Errno.EACCES;

  const base = shp.file!;
  shp.nattch++; // held while mapping, so the segment cannot go away under us
  const size = base.sizeWord;
  const sfd = new ShmAttachFile(ns, shp, (shmflg & SHM_RDONLY) === 0);

  let err: number;
  const mm = current.mm;
  check: {
    if (addr !== 0 && (shmflg & SHM_REMAP) === 0) {
      if (typeof addr === 'bigint' || typeof size === 'bigint') {
        // addr + size overflowing; otherwise addr is beyond TASK_SIZE and
        // intersects nothing (do_mmap below fails with ENOMEM).
        if (wordBig(addr) + wordBig(size) >= U64_END) { err = -Errno.EINVAL; break check; }
      } else {
        // find_vma_intersection(mm, addr, addr + size)
        const v = addr < TASK_SIZE_N ? mm.findVma(addr) : null;
        if (v && v.start < addr + size) { err = -Errno.EINVAL; break check; }
      }
    }
    // do_mmap(file, addr, size, prot, flags, 0): the file's mmap hook
    // (shm_mmap -> __shm_open) runs as the VMA is created. Number
    // arguments take do_mmap's short form for this case.
    err = typeof addr === 'number' && typeof size === 'number'
      ? doMmapSharedFile(mm, sfd, addr, size, prot, (flags & MAP_FIXED) !== 0, current)
      : mm.mmap(addr, size, prot, flags, sfd, 0, current);
  }
  // out_fput, out_nattch
  sfd.put();
  shp.nattch--;
  ns.destroyIfUnused(shp);
  return err;
}
