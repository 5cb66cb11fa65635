/**
 * Linux errno numbers (x86_64, include/uapi/asm-generic/errno-base.h and
 * errno.h). Guest-visible failures are carried as these numbers; the names are
 * what scenario output and `SysError.code` show.
 */
export const Errno = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7,
  ENOEXEC: 8, EBADF: 9, ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13,
  EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19,
  ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25,
  ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31,
  EPIPE: 32, EDOM: 33, ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37,
  ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENOMSG: 42, EIDRM: 43,
  EOVERFLOW: 75, EOPNOTSUPP: 95, ETIMEDOUT: 110,
} as const;

export type ErrnoName = keyof typeof Errno;

const names = new Map<number, ErrnoName>();
for (const [k, v] of Object.entries(Errno)) names.set(v, k as ErrnoName);

/** The symbolic name of an errno number, or `E<number>` for one we do not name. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

/** The errno number of a name, or undefined. */
export function errnoNumber(name: string): number | undefined {
  return (Errno as Record<string, number>)[name];
}
