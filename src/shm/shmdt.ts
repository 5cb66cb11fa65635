/**
 * shmdt(2): ipc/shm.c ksys_shmdt(). The find phase takes the first SysV VMA
 * at or after `addr` (no upper bound) whose page offset equals its distance
 * from `addr`; the sweep then removes the fragments of the same attach up to
 * `addr + PAGE_ALIGN(size)`.
 */
import { PAGE_SIZE, TASK_SIZE } from '../abi/constants.js';
import { Errno } from '../abi/errno.js';
import type { Vma } from '../mm/vma.js';
import { ShmAttachFile } from './attach.js';
import type { ShmTask } from './task.js';

const PAGE = BigInt(PAGE_SIZE);

/** (vm_start - addr) / PAGE_SIZE == vm_pgoff, in unsigned arithmetic. */
function offsetMatches(vma: Vma, addr: bigint): boolean {
  const delta = BigInt.asUintN(64, BigInt(vma.start) - addr);
  return delta / PAGE === BigInt(vma.pgoff);
}

export function shmdt(current: ShmTask, shmaddr: bigint): number {
  const addr = shmaddr;
  if (addr & (PAGE - 1n)) return -Errno.EINVAL;
  const mm = current.mm;
  let retval = -Errno.EINVAL;
  let size = 0n;
  let file: ShmAttachFile | null = null;
  // VMA_ITERATOR(vmi, mm, addr): the first VMA whose end is above addr.
  const next = (from: bigint): Vma | null => (from < TASK_SIZE ? mm.findVma(Number(from)) : null);
  let vma = next(addr);
  while (vma) {
    if (vma.file instanceof ShmAttachFile && offsetMatches(vma, addr)) {
      file = vma.file;
      size = file.base.size;
      const end = vma.end;
      mm.unmapRange(vma.start, vma.end, current);
      retval = 0;
      vma = next(BigInt(end));
      break;
    }
    vma = next(BigInt(vma.end));
  }
  // We need look no further than the maximum address a fragment could
  // possibly have landed at.
  size = ((size + PAGE - 1n) / PAGE) * PAGE;
  while (vma && BigInt(vma.end) - addr <= size) {
    const end = vma.end;
    if (vma.file === file && offsetMatches(vma, addr)) mm.unmapRange(vma.start, vma.end, current);
    vma = next(BigInt(end));
  }
  return retval;
}
