/**
 * getpwuid(3) / getgrgid(3) for the IPC tools: the name of a uid or gid, or
 * undefined where the real call returns NULL (the tools then print the
 * number). The default reads this machine's /etc/passwd and /etc/group the
 * way glibc's "files" NSS module does (the first entry with the id wins;
 * "+"/"-" compat lines and malformed lines are skipped).
 */
import { readFileSync } from 'node:fs';

export interface NameService {
  /** getpwuid(uid)->pw_name. */
  userName(uid: number): string | undefined;
  /** getgrgid(gid)->gr_name. */
  groupName(gid: number): string | undefined;
}

/** Parses passwd(5)/group(5) text: name:x:ID:... -> first name for each id. */
export function parseIdFile(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line[0] === '#' || line[0] === '+' || line[0] === '-') continue;
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !/^[0-9]+$/.test(f[2]!)) continue;
    const id = Number(f[2]);
    if (id > 0xffffffff) continue;
    if (!names.has(id)) names.set(id, f[0]!);
  }
  return names;
}

/** A name service over given passwd and group texts (or maps). */
export function nameServiceFrom(passwd: string | Map<number, string>, group: string | Map<number, string>): NameService {
  const users = typeof passwd === 'string' ? parseIdFile(passwd) : passwd;
  const groups = typeof group === 'string' ? parseIdFile(group) : group;
  return {
    userName: (uid) => users.get(uid >>> 0),
    groupName: (gid) => groups.get(gid >>> 0),
  };
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** This machine's /etc/passwd and /etc/group, read when first needed by each lookup object. */
export function systemNameService(passwdPath = '/etc/passwd', groupPath = '/etc/group'): NameService {
  let users: Map<number, string> | undefined;
  let groups: Map<number, string> | undefined;
  return {
    userName(uid) {
      users ??= parseIdFile(readOrEmpty(passwdPath));
      return users.get(uid >>> 0);
    },
    groupName(gid) {
      groups ??= parseIdFile(readOrEmpty(groupPath));
      return groups.get(gid >>> 0);
    },
  };
}

/** No names at all: every id prints as a number. */
export const numericNameService: NameService = { userName: () => undefined, groupName: () => undefined };
