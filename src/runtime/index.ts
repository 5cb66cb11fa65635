/**
 * The worker runtime: processes whose programs run concurrently on
 * worker_threads and share memory for real (zero-copy views of shared
 * mappings, futexes with Linux semantics).
 */
export {
  spawnWorker, shutdownWorkers, runtimeOf, WorkerRuntime,
  type SpawnWorkerOptions, type WorkerExit, type WorkerHandle,
} from './kernel-runtime.js';
export { resolveSharedRange, viewOf, futexLocation, type SharedRange, type ViewOptions } from './shared-memory.js';
export { PARKED, FutexTable } from './futex-table.js';
export * as futexConstants from './futex-abi.js';
export type { GuestOs, GuestSyscalls, GuestMemory, GuestViewOptions, FutexOptions, RawSyscallsLike } from './guest.js';
