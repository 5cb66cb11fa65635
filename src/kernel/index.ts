/** The kernel: processes, namespaces, sysctls and the system-call layer. */
export { Kernel, type KernelOptions, type SpawnOptions, DEFAULT_MEMLOCK } from './kernel.js';
export { Process, type Rlimit } from './process.js';
export { IpcNamespace } from './ipc-namespace.js';
export { RawSyscalls, type U64Arg } from './syscalls.js';
export { MemoryFault, type ShmidDs, type ShmInfo, type ShmLimits } from './process-api.js';
