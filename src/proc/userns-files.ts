/**
 * /proc/PID/uid_map, gid_map and setgroups (kernel/user_namespace.c
 * uid_m_show, gid_m_show, map_write, proc_setgroups_show/write).
 */
import { Errno } from '../abi/errno.js';
import { fromKgid, fromKuid, type IdExtent, type UserNamespace } from '../auth/userns.js';
import { writeGidMap, writeSetgroups, writeUidMap } from '../auth/setid.js';
import type { Process } from '../kernel/process.js';

const pad10 = (v: number) => String(v >>> 0).padStart(10, ' ');

/** uid_m_show/gid_m_show: "%10u %10u %10u\n", the lower ids as the reader sees them. */
export function showIdMap(target: Process, reader: Process, kind: 'uid' | 'gid'): string {
  const ns = target.cred.userNs;
  let lowerNs: UserNamespace = reader.cred.userNs;
  if (lowerNs === ns && lowerNs.parent) lowerNs = lowerNs.parent;
  const map = kind === 'uid' ? ns.uidMap : ns.gidMap;
  return map.map((e) => {
    const lower = kind === 'uid' ? fromKuid(lowerNs, e.lowerFirst) : fromKgid(lowerNs, e.lowerFirst);
    return `${pad10(e.first)} ${pad10(lower)} ${pad10(e.count)}\n`;
  }).join('');
}

/** map_write(): lines of "first lower count"; malformed text is EINVAL. */
export function writeIdMapFile(target: Process, writer: Process, kind: 'uid' | 'gid', text: string): number {
  const extents: IdExtent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) return -Errno.EINVAL;
    const [first, lowerFirst, count] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (first > 0xffffffff || lowerFirst > 0xffffffff || count > 0xffffffff) return -Errno.EINVAL;
    extents.push({ first, lowerFirst, count });
  }
  const ns = target.cred.userNs;
  return kind === 'uid' ? writeUidMap(ns, writer.cred, extents) : writeGidMap(ns, writer.cred, extents);
}

/** proc_setgroups_show(). */
export function showSetgroups(target: Process): string {
  return target.cred.userNs.setgroupsAllowed ? 'allow\n' : 'deny\n';
}

/** proc_setgroups_write(): "allow" or "deny". */
export function writeSetgroupsFile(target: Process, writer: Process, text: string): number {
  const word = text.trim();
  if (word !== 'allow' && word !== 'deny') return -Errno.EINVAL;
  return writeSetgroups(target.cred.userNs, writer.cred, word === 'allow');
}
