/**
 * Numbers of the x86_64 Linux ABI used by SysV shared memory and the memory
 * manager (include/uapi/linux/ipc.h, shm.h, asm-generic/mman-common.h,
 * linux/mman.h, linux/capability.h).
 */

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
/** arch/x86/include/asm/shmparam.h: SHMLBA is PAGE_SIZE on x86. */
export const SHMLBA = PAGE_SIZE;

// ipc.h
export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000;
export const IPC_EXCL = 0o2000;
export const IPC_NOWAIT = 0o4000;
export const IPC_RMID = 0;
export const IPC_SET = 1;
export const IPC_STAT = 2;
export const IPC_INFO = 3;
export const IPC_64 = 0x100;

// shm.h
export const SHM_HUGETLB = 0o4000;
export const SHM_NORESERVE = 0o10000;
export const SHM_HUGE_SHIFT = 26;
export const SHM_HUGE_MASK = 0x3f;
export const SHM_RDONLY = 0o10000;
export const SHM_RND = 0o20000;
export const SHM_REMAP = 0o40000;
export const SHM_EXEC = 0o100000;
export const SHM_LOCK = 11;
export const SHM_UNLOCK = 12;
export const SHM_STAT = 13;
export const SHM_INFO = 14;
export const SHM_STAT_ANY = 15;
/** Mode bits the kernel reports in shm_perm.mode. */
export const SHM_DEST = 0o1000;
export const SHM_LOCKED = 0o2000;

/** ipc/util.h: IPCMNI and the id layout (seq << IPCMNI_SHIFT | index). */
export const IPCMNI_SHIFT = 15;
export const IPCMNI = 1 << IPCMNI_SHIFT;
export const IPCMNI_SEQ_MAX = 65535;
export const SHMMIN = 1;
export const SHMMNI_DEFAULT = 4096;
/** include/uapi/linux/shm.h: SHMMAX = SHMALL = ULONG_MAX - (1UL << 24). */
export const SHMMAX_DEFAULT = (1n << 64n) - 1n - (1n << 24n);
export const SHMALL_DEFAULT = SHMMAX_DEFAULT;

// mman
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_DENYWRITE = 0x0800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;
export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;

/** x86_64 4-level paging: TASK_SIZE_MAX = (1 << 47) - PAGE_SIZE. */
export const TASK_SIZE = 0x7ffffffff000n;
/** The mmap base of a process with ASLR off and an 8 MiB stack rlimit. */
export const MMAP_BASE = 0x7ffff7fff000n;
export const MMAP_MIN_ADDR_DEFAULT = 4096n;
export const MAX_MAP_COUNT_DEFAULT = 65530;

/** RLIMIT numbers used here. */
export const RLIMIT_MEMLOCK = 8;
export const RLIM_INFINITY = (1n << 64n) - 1n;

/** linux/capability.h, by bit number. */
export const Capability = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3,
  CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9, CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20, CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27,
  CAP_LEASE: 28, CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30, CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38, CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
} as const;
export type CapabilityName = keyof typeof Capability;
export const CAP_LAST_CAP = 40;
/** All capabilities as a bit set. */
export const CAP_FULL_SET = (1n << BigInt(CAP_LAST_CAP + 1)) - 1n;
/**
 * What root has on the reference machines: every capability but
 * CAP_SYS_RESOURCE (bounding set 0x1fffeffffff).
 */
export const CAP_REFERENCE_ROOT_SET = CAP_FULL_SET & ~(1n << BigInt(Capability.CAP_SYS_RESOURCE));

// Additional mman / madvise numbers used by the memory manager (src/mm).
export const PROT_SEM = 0x8;
export const MAP_DROPPABLE = 0x08;
export const MAP_32BIT = 0x40;
export const MAP_ABOVE4G = 0x80;
export const MAP_UNINITIALIZED = 0x4000000;
export const MAP_HUGE_SHIFT = 26;
export const MAP_HUGE_MASK = 0x3f;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_DONTNEED_LOCKED = 24;
export const MADV_COLLAPSE = 25;
export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;
export const MADV_GUARD_INSTALL = 102;
export const MADV_GUARD_REMOVE = 103;
/** x86_64 4-level paging: DEFAULT_MAP_WINDOW == TASK_SIZE_MAX. */
export const DEFAULT_MAP_WINDOW = TASK_SIZE;
/** CONFIG_LSM_MMAP_MIN_ADDR of the reference kernel: non-fixed hints below it are raised to it. */
export const LSM_MMAP_MIN_ADDR_DEFAULT = 65536n;
/** Default RLIMIT_STACK (8 MiB), used for the growth of VM_GROWSDOWN mappings. */
export const RLIMIT_STACK_DEFAULT = 8388608n;
