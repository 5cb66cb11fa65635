/**
 * What the shm mechanism needs to know about the calling task ("current" in
 * Linux). The kernel's Process implements it; keeping it an interface keeps
 * the import direction shm <- kernel.
 */
import type { Credentials } from '../auth/cred.js';
import type { Ucounts } from '../auth/ucounts.js';
import type { MmCaller } from '../mm/vma.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { ShmNamespace } from './namespace.js';
import type { ShmClist } from './segment.js';

export interface ShmTask extends MmCaller {
  /** The thread-group id (task_tgid(current)): what cpid/lpid record. */
  readonly pid: number;
  readonly cred: Credentials;
  readonly mm: AddressSpace;
  /** The shm part of current->nsproxy->ipc_ns. */
  readonly shmNs: ShmNamespace;
  /**
   * task->sysvshm.shm_clist: the segments this task created and that are not
   * orphaned yet. A segment is in exactly one task's set, or in none (orphan).
   */
  readonly shmCreated: ShmClist;
  /** current_ucounts(): the memlock counter of (user namespace, real uid). */
  ucounts(): Ucounts;
}
