/** System V shared memory: the mechanism (ipc/shm.c). */
export { ShmNamespace, type ShmKernelContext, type HugetlbConfig, type NamespaceRef } from './namespace.js';
export { Segment, ShmFile } from './segment.js';
export { ShmAttachFile, isShmVma } from './attach.js';
export type { ShmTask } from './task.js';
export { shmget } from './shmget.js';
export { shmat } from './shmat.js';
export { shmdt } from './shmdt.js';
export { shmctl, type UserBuffer, type ShmctlBuffer } from './shmctl.js';
export { exitShm } from './exit.js';
