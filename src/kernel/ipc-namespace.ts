/**
 * An IPC namespace (include/linux/ipc_namespace.h, ipc/namespace.c). Tasks
 * and SysV attaches hold references; when the last one goes, free_ipc_ns()
 * destroys every remaining segment (shm_exit_ns), SHM_DEST or not.
 */
import type { UserNamespace } from '../auth/userns.js';
import { ShmNamespace, type ShmKernelContext, type NamespaceRef } from '../shm/namespace.js';

/** proc_alloc_inum(): inode numbers of namespaces, as /proc/PID/ns/ipc shows them. */
export const PROC_IPC_INIT_INO = 0xEFFFFFFF;
let nextInum = PROC_IPC_INIT_INO + 1;

export class IpcNamespace implements NamespaceRef {
  readonly shm: ShmNamespace;
  /** get_ipc_ns()/put_ipc_ns() count: member tasks plus live attach files. */
  private refs = 0;
  /** Set once free_ipc_ns() has run. */
  dead = false;
  readonly inum: number;

  constructor(readonly userNs: UserNamespace, kernel: ShmKernelContext, initial = false) {
    this.shm = new ShmNamespace(userNs, kernel, this);
    this.inum = initial ? PROC_IPC_INIT_INO : nextInum++;
  }

  get(): void {
    if (this.dead) throw new Error('ipc namespace: reference to a freed namespace');
    this.refs++;
  }

  put(): void {
    if (--this.refs === 0) {
      // free_ipc_ns(): shm_exit_ns() destroys what is left.
      this.dead = true;
      this.shm.exit();
    } else if (this.refs < 0) {
      throw new Error('ipc namespace: reference count went negative');
    }
  }

  get references(): number {
    return this.refs;
  }
}
