/**
 * shmdt(2): ipc/shm.c ksys_shmdt(). The find phase takes the first SysV VMA
 * at or after `addr` (no upper bound) whose page offset equals its distance
 * from `addr`; the sweep then removes the fragments of the same attach up to
 * `addr + PAGE_ALIGN(size)`.
 */
import { PAGE_SIZE, TASK_SIZE } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import { modPow2, word } from '../abi/word.js';
import type { Vma } from '../mm/vma.js';
import { ShmAttachFile } from './attach.js';
import type { ShmTask } from './task.js';

const PAGE = PAGE_SIZE;
const TASK_SIZE_N = Number(TASK_SIZE);

/**
 * (vm_start - addr) / PAGE_SIZE == vm_pgoff, in unsigned arithmetic: a VMA
 * below addr wraps to a huge quotient that no vm_pgoff (< 2^52) equals.
 */
function offsetMatches(vma: Vma, addr: number): boolean {
  return vma.start >= addr && (vma.start - addr) / PAGE === vma.pgoff;
}

/** The first VMA whose end is above `from` (the VMA iterator's next step). */
function nextVma(current: ShmTask, from: number): Vma | null {
  return from < TASK_SIZE_N ? current.mm.findVma(from) : null;
}

export function shmdt(current: ShmTask, shmaddr: number | bigint): number {
  const addr = word(shmaddr);
  // An address of 2^53 or more (a bigint word) is beyond every VMA.
  if (typeof addr !== 'number') return -Errno.EINVAL;
  if (modPow2(addr, PAGE)) return -Errno.EINVAL;
  const mm = current.mm;
  let retval = -Errno.EINVAL;
  let size = 0;
  let file: ShmAttachFile | null = null;
  // VMA_ITERATOR(vmi, mm, addr): the first VMA whose end is above addr.
  let vma = nextVma(current, addr);
  while (vma) {
    if (vma.file instanceof ShmAttachFile && offsetMatches(vma, addr)) {
      file = vma.file;
      // A size of 2^53 or more reaches beyond TASK_SIZE: the sweep bound is then no bound.
      const sz = file.base.sizeWord;
      size = typeof sz === 'number' ? Math.ceil(sz / PAGE) * PAGE : Infinity;
      const end = vma.end;
      mm.unmapVma(vma, current);
      retval = 0;
      // Every later VMA ends above `end`: when the segment fits below it,
      // none can pass the sweep's bound and the walk stops here.
      vma = end - addr >= size ? null : nextVma(current, end);
      break;
    }
    vma = nextVma(current, vma.end);
  }
  // We need look no further than the maximum address a fragment could
  // possibly have landed at.
  while (vma && vma.end - addr <= size) {
    const end = vma.end;
    if (vma.file === file && offsetMatches(vma, addr)) mm.unmapVma(vma, current);
    vma = nextVma(current, end);
  }
  return retval;
}
