/**
 * ipc/shm.c exit_shm(): the creating task exits (or unshares its IPC
 * namespace). Its segments become orphans; with kernel.shm_rmid_forced
 * those nobody maps are destroyed at once.
 */
import type { ShmTask } from './task.js';

export function exitShm(task: ShmTask): void {
  for (const shp of [...task.shmCreated]) {
    task.shmCreated.delete(shp);
    shp.creator = null;
    const ns = shp.ns;
    // If kernel.shm_rmid_forced is not set, only keep track of which
    // shmids are orphaned, so that a later set of the sysctl can clean them up.
    if (!ns.rmidForced) continue;
    if (shp.file && ns.mayDestroy(shp)) ns.destroy(shp);
  }
}
