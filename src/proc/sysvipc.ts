/**
 * /proc/sysvipc/shm (ipc/shm.c sysvipc_shm_proc_show, ipc/util.c
 * sysvipc_proc_start): a header, then one row per segment of the opener's
 * IPC namespace in increasing index order, with ids translated into the
 * opener's user namespace.
 */
import { PAGE_SIZE } from '../abi/constants.js';
import { fromKgidMunged, fromKuidMunged, type UserNamespace } from '../auth/userns.js';
import { rssPages, type ShmNamespace } from '../shm/namespace.js';

/** The 64-bit header (SIZE_SPEC "%21lu"). */
export const SYSVIPC_SHM_HEADER =
  '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n';

const pad = (v: number | bigint | string, w: number) => String(v).padStart(w, ' ');

/** "%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u %10llu %10llu %10llu %21lu %21lu\n" */
export function sysvipcShm(ns: ShmNamespace, reader: UserNamespace): string {
  let out = SYSVIPC_SHM_HEADER;
  for (const shp of ns.ids) {
    const rss = BigInt(rssPages(shp)) * BigInt(PAGE_SIZE);
    out += `${pad(shp.key, 10)} ${pad(shp.id, 10)}  ${pad(shp.mode.toString(8), 4)} ${pad(shp.segsz, 21)} ` +
      `${pad(shp.cpid, 5)} ${pad(shp.lpid, 5)}  ${pad(shp.nattch, 5)} ` +
      `${pad(fromKuidMunged(reader, shp.uid), 5)} ${pad(fromKgidMunged(reader, shp.gid), 5)} ` +
      `${pad(fromKuidMunged(reader, shp.cuid), 5)} ${pad(fromKgidMunged(reader, shp.cgid), 5)} ` +
      `${pad(shp.atime, 10)} ${pad(shp.dtime, 10)} ${pad(shp.ctime, 10)} ${pad(rss, 21)} ${pad(0, 21)}\n`;
  }
  return out;
}
