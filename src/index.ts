/**
 * sysvshm: the System V shared-memory subsystem of a Linux-compatible
 * kernel. The package entry point: a Kernel with its procfs, and the types
 * and constants a caller needs.
 */
import { Kernel as CoreKernel, type KernelOptions } from './kernel/kernel.js';
import { ProcFs } from './proc/procfs.js';

/** A kernel with its procfs mounted at `kernel.proc`. */
export class Kernel extends CoreKernel {
  readonly proc: ProcFs;

  constructor(opts: KernelOptions = {}) {
    super(opts);
    this.proc = new ProcFs(this);
  }
}

export type { KernelOptions, SpawnOptions } from './kernel/kernel.js';
export { Process } from './kernel/process.js';
export { RawSyscalls, type AccessResult, type AccessFault } from './kernel/syscalls.js';
export { MemoryFault, type ShmidDs, type ShmInfo, type ShmLimits } from './kernel/process-api.js';
export { ProcFs, type ProcResult } from './proc/procfs.js';
export { SysError } from './abi/sys-error.js';
export { Errno, errnoName } from './abi/errno.js';
export * as constants from './abi/constants.js';
export { dispatch as syscall, SYS } from './kernel/syscall-table.js';
