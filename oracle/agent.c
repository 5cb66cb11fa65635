/*
 * The Linux oracle of sysvshm: performs scenario system calls on the real
 * kernel, one real process per scenario process.
 *
 * Process tree (all one binary):
 *
 *   Node --pipes--> hub --fork--> driver (pid 1 of a new PID namespace,
 *                                  in a new IPC namespace)
 *                                   +--fork--> p0 agent --fork--> p1 agent ...
 *
 * - hub: sets rlimits, disables ASLR (personality(2) + re-exec), takes the
 *   run lock (flock(2)), unshare(CLONE_NEWIPC|CLONE_NEWPID), forks the driver
 *   and waits for it. PR_SET_PDEATHSIG(SIGKILL): it dies with Node.
 * - driver: init of the PID namespace (pid_namespaces(7): when it dies, the
 *   kernel SIGKILLs every process of the namespace). PR_SET_PDEATHSIG(SIGTERM)
 *   with a handler: when the hub dies it cleans up and exits. It talks to Node
 *   with length-prefixed frames on stdin/stdout and to each agent over its own
 *   AF_UNIX SOCK_SEQPACKET channel (unix(7)); a forked agent's channel is
 *   passed to its parent with SCM_RIGHTS.
 * - agents: static buffers only (no malloc, no stdio), raw syscall(2) for
 *   every scenario system call, so nothing the agent does creates a mapping.
 *
 * Protocol (all integers little-endian, x86_64):
 *   Node -> driver: u32 len | struct req (64 bytes) | payload (len - 64)
 *   driver -> Node: u32 len | struct rsp (32 bytes) | payload (len - 32)
 *   A request produces zero or more 'D' (data) frames and then exactly one
 *   'R' (result) or 'X' (the target process died; payload = text) frame.
 *   The first frame of a run is 'H' (hello): err = 0 and ret = the driver's
 *   pid in the initial PID namespace, or err = errno and payload = text.
 *   driver <-> agent: the same structs as SOCK_SEQPACKET messages
 *   (one message = one header + at most CHUNK payload bytes).
 *   OP_EXEC (a_exec) runs a program as a child of an agent: its stdout and
 *   stderr come back as 'D' frames whose ret is 1 or 2.
 *
 * Nothing is printed on stdout/stderr except protocol frames (and the
 * `--probe` answer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#define O_SHM_INFO 14
#define O_IPC_RMID 0

#define CHUNK 32768            /* max payload per message/frame */
#define MAXPROC 4096           /* scenario processes per run */
#define MAXNS 1024             /* IPC namespaces per run */
#define CHAN_FD 3              /* an agent's channel to the driver */
#define STACK_RLIMIT (8UL << 20)
#define MEMLOCK_RLIMIT 8388608UL

enum {
  OP_START = 1, OP_FORK, OP_EXIT, OP_CREDS, OP_UNSHARE, OP_SETRLIMIT,
  OP_SHMGET, OP_SHMAT, OP_SHMDT, OP_SHMCTL, OP_MMAP, OP_MUNMAP, OP_MPROTECT,
  OP_MREMAP, OP_MADVISE, OP_READ, OP_WRITE, OP_FILL, OP_READFILE,
  OP_WRITEFILE, OP_QUIT,
  OP_EXEC,                     /* run a program as a child of the agent (see a_exec) */
};

enum { T_HELLO = 'H', T_DATA = 'D', T_RESULT = 'R', T_READY = 'Y', T_DIED = 'X' };

struct req {
  uint32_t op, slot, slot2, pad;
  uint64_t a[6];
};
struct rsp {
  uint32_t type;
  int32_t err;   /* positive errno, 0 on success */
  int32_t sig;   /* SIGSEGV/SIGBUS of a faulting access, else 0 */
  uint32_t pad;
  int64_t ret;   /* the system call's return value */
  uint64_t off;  /* fault offset; host pid for 'Y' and start/fork results */
};
_Static_assert(sizeof(struct req) == 64, "struct req");
_Static_assert(sizeof(struct rsp) == 32, "struct rsp");

#define HDR (sizeof(struct rsp))

/* ------------------------------------------------------------------ */
/* shared helpers                                                       */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t g_term;   /* driver: SIGTERM seen */
static int g_is_driver;
static void driver_cleanup(void);

/* A blocking call was interrupted: the driver honours a pending SIGTERM. */
static void on_eintr(void) {
  if (g_is_driver && g_term) {
    driver_cleanup();
    _exit(0);
  }
}

/* read(2) until n bytes or EOF/error; returns the byte count. */
static size_t read_full(int fd, void *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)p + got, n - got);
    if (r > 0) got += (size_t)r;
    else if (r < 0 && errno == EINTR) on_eintr();
    else break;
  }
  return got;
}

/* write(2) everything; 0 on failure (peer gone). */
static int write_full(int fd, const void *p, size_t n) {
  size_t put = 0;
  while (put < n) {
    ssize_t r = write(fd, (const char *)p + put, n - put);
    if (r > 0) put += (size_t)r;
    else if (r < 0 && errno == EINTR) on_eintr();
    else return 0;
  }
  return 1;
}

/* sendmsg(2) one SOCK_SEQPACKET message, optionally carrying an fd (SCM_RIGHTS, unix(7)). */
static ssize_t sp_send(int fd, const void *p, size_t n, int passfd) {
  struct iovec iov = { (void *)p, n };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (passfd >= 0) {
    memset(&u, 0, sizeof u);
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &passfd, sizeof(int));
  }
  for (;;) {
    ssize_t r = sendmsg(fd, &m, MSG_NOSIGNAL);
    if (r >= 0 || errno != EINTR) return r;
    on_eintr();
  }
}

/* recvmsg(2) one message; *gotfd receives a passed fd or -1. 0 = EOF. */
static ssize_t sp_recv(int fd, void *p, size_t n, int *gotfd) {
  struct iovec iov = { p, n };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr m;
  *gotfd = -1;
  for (;;) {
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    ssize_t r = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
    if (r < 0 && errno == EINTR) { on_eintr(); continue; }
    if (r < 0) return r;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(gotfd, CMSG_DATA(c), sizeof(int));
    if (m.msg_flags & MSG_TRUNC) { errno = EMSGSIZE; return -1; }
    return r;
  }
}

/* The caller's pid in the initial PID namespace: /proc is mounted from it,
 * so /proc/self resolves to that pid (proc(5)). */
static long host_pid(void) {
  char b[32];
  ssize_t n = readlink("/proc/self", b, sizeof b - 1);
  if (n <= 0) return 0;
  long v = 0;
  for (ssize_t i = 0; i < n && b[i] >= '0' && b[i] <= '9'; i++) v = v * 10 + (b[i] - '0');
  return v;
}

/* ------------------------------------------------------------------ */
/* agent                                                                */
/* ------------------------------------------------------------------ */

static unsigned char a_rx[sizeof(struct req) + CHUNK] __attribute__((aligned(64)));
static unsigned char a_tx[HDR + CHUNK] __attribute__((aligned(64)));
/* struct shmid64_ds is 112 bytes; IPC_INFO/SHM_INFO write less. Oversized to be safe. */
static unsigned char a_shmbuf[4096] __attribute__((aligned(64)));
static char a_path[4096 + 1];

static sigjmp_buf g_jb;
static volatile sig_atomic_t g_armed, g_sig;
static volatile uint64_t g_i;      /* offset of the byte being accessed */
static volatile size_t g_fill;     /* bytes buffered in a_tx for a read */

static void a_send(uint32_t type, int64_t ret, int err, int sig, uint64_t off, size_t n, int passfd) {
  struct rsp *h = (struct rsp *)a_tx;
  h->type = type;
  h->err = err;
  h->sig = sig;
  h->pad = 0;
  h->ret = ret;
  h->off = off;
  if (sp_send(CHAN_FD, a_tx, HDR + n, passfd) < 0) _exit(1);   /* driver gone */
}

/* The result of syscall(2): -1 means failure with errno. */
static void a_result(long r, int err) {
  if (r == -1) a_send(T_RESULT, -1, err, 0, 0, 0, -1);
  else a_send(T_RESULT, r, 0, 0, 0, 0, -1);
}
#define SYSRESULT(...) do { long r_ = syscall(__VA_ARGS__); a_result(r_, errno); } while (0)

/* SIGSEGV/SIGBUS during a byte access: unwind to the access loop
 * (sigsetjmp(3); SA_NODEFER keeps the signal unblocked). A fault outside an
 * access restores the default action, so the retried instruction kills us. */
static void on_fault(int sig) {
  if (g_armed) {
    g_armed = 0;
    g_sig = sig;
    siglongjmp(g_jb, 1);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigaction(sig, &sa, NULL);
}

static void a_flush_data(void) {
  if (g_fill) {
    a_send(T_DATA, 0, 0, 0, 0, g_fill, -1);
    g_fill = 0;
  }
}

/* read ADDR LEN: one byte at a time, ascending, through a volatile pointer. */
static void a_read(uint64_t addr, uint64_t len) {
  unsigned char *out = a_tx + HDR;
  g_i = 0;
  g_fill = 0;
  if (sigsetjmp(g_jb, 0) == 0) {
    g_armed = 1;
    while (g_i < len) {
      out[g_fill] = *(volatile unsigned char *)(uintptr_t)(addr + g_i);
      g_i = g_i + 1;
      g_fill = g_fill + 1;
      if (g_fill == CHUNK) {
        g_armed = 0;
        a_flush_data();
        g_armed = 1;
      }
    }
    g_armed = 0;
    a_flush_data();
    a_send(T_RESULT, 0, 0, 0, 0, 0, -1);
  } else {
    a_flush_data();
    a_send(T_RESULT, 0, 0, g_sig, g_i, 0, -1);
  }
}

/* fill ADDR LEN BYTE */
static void a_fill(uint64_t addr, uint64_t len, unsigned char byte) {
  g_i = 0;
  if (sigsetjmp(g_jb, 0) == 0) {
    g_armed = 1;
    while (g_i < len) {
      *(volatile unsigned char *)(uintptr_t)(addr + g_i) = byte;
      g_i = g_i + 1;
    }
    g_armed = 0;
    a_send(T_RESULT, 0, 0, 0, 0, 0, -1);
  } else {
    a_send(T_RESULT, 0, 0, g_sig, g_i, 0, -1);
  }
}

/* write ADDR DATA: the data follows as messages of at most CHUNK bytes;
 * after a fault the remaining messages are still consumed. */
static uint64_t w_total, w_got, w_start;
static volatile int w_faulted;
static void a_write(uint64_t addr, uint64_t total) {
  int fd;
  w_total = total;
  w_got = 0;
  w_faulted = 0;
  g_i = 0;
  while (w_got < w_total) {
    ssize_t n = sp_recv(CHAN_FD, a_rx, CHUNK, &fd);
    if (n <= 0) _exit(1);
    if (fd >= 0) close(fd);
    w_start = w_got;
    w_got += (uint64_t)n;
    if (w_faulted) continue;
    if (sigsetjmp(g_jb, 0) == 0) {
      g_armed = 1;
      while (g_i < w_got) {
        *(volatile unsigned char *)(uintptr_t)(addr + g_i) = a_rx[g_i - w_start];
        g_i = g_i + 1;
      }
      g_armed = 0;
    } else {
      w_faulted = 1;
    }
  }
  if (w_faulted) a_send(T_RESULT, 0, 0, g_sig, g_i, 0, -1);
  else a_send(T_RESULT, 0, 0, 0, 0, 0, -1);
}

/* creds: setgroups(2) -> setresgid(2) -> prctl(PR_SET_KEEPCAPS) ->
 * setresuid(2) -> capset(2) v3; the first failure is reported and earlier
 * steps keep their effect. */
static void a_creds(const struct req *q, const uint32_t *groups, size_t ng) {
  long uid = (long)(uint32_t)q->a[0], gid = (long)(uint32_t)q->a[1];
  uint64_t caps = q->a[2];
  if (syscall(SYS_setgroups, (long)ng, groups) == -1) goto fail;
  if (syscall(SYS_setresgid, gid, gid, gid) == -1) goto fail;
  if (syscall(SYS_prctl, (long)PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) == -1) goto fail;
  if (syscall(SYS_setresuid, uid, uid, uid) == -1) goto fail;
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  d[0].effective = d[0].permitted = (uint32_t)caps;
  d[1].effective = d[1].permitted = (uint32_t)(caps >> 32);
  d[0].inheritable = d[1].inheritable = 0;
  if (syscall(SYS_capset, &h, d) == -1) goto fail;
  a_send(T_RESULT, 0, 0, 0, 0, 0, -1);
  return;
fail:
  a_send(T_RESULT, -1, errno, 0, 0, 0, -1);
}

/* readFile: openat(2)/read(2)/close(2) as this process; data streamed. */
static void a_readfile(size_t plen) {
  if (plen > sizeof a_path - 1) plen = sizeof a_path - 1;
  memcpy(a_path, a_rx + sizeof(struct req), plen);
  a_path[plen] = 0;
  long fd = syscall(SYS_openat, (long)AT_FDCWD, a_path, (long)(O_RDONLY | O_CLOEXEC));
  if (fd == -1) { a_send(T_RESULT, -1, errno, 0, 0, 0, -1); return; }
  unsigned char *out = a_tx + HDR;
  g_fill = 0;
  for (;;) {
    long r = syscall(SYS_read, fd, out + g_fill, (long)(CHUNK - g_fill));
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) {
      int e = errno;
      syscall(SYS_close, fd);
      g_fill = 0;
      a_send(T_RESULT, -1, e, 0, 0, 0, -1);
      return;
    }
    if (r == 0) break;
    g_fill += (size_t)r;
    if (g_fill == CHUNK) a_flush_data();
  }
  a_flush_data();
  syscall(SYS_close, fd);
  a_send(T_RESULT, 0, 0, 0, 0, 0, -1);
}

/* writeFile: payload = u32 pathlen | path | text; openat(O_WRONLY)/write/close. */
static void a_writefile(size_t plen) {
  const unsigned char *p = a_rx + sizeof(struct req);
  uint32_t pl;
  if (plen < 4) { a_send(T_RESULT, -1, EINVAL, 0, 0, 0, -1); return; }
  memcpy(&pl, p, 4);
  if (pl > plen - 4 || pl > sizeof a_path - 1) { a_send(T_RESULT, -1, ENAMETOOLONG, 0, 0, 0, -1); return; }
  memcpy(a_path, p + 4, pl);
  a_path[pl] = 0;
  const unsigned char *text = p + 4 + pl;
  size_t tl = plen - 4 - pl, put = 0;
  long fd = syscall(SYS_openat, (long)AT_FDCWD, a_path, (long)(O_WRONLY | O_CLOEXEC));
  if (fd == -1) { a_send(T_RESULT, -1, errno, 0, 0, 0, -1); return; }
  int err = 0;
  do {   /* one write(2) for sysctl texts; loop only on a short write */
    long r = syscall(SYS_write, fd, text + put, (long)(tl - put));
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) { err = errno; break; }
    if (r == 0) break;
    put += (size_t)r;
  } while (put < tl);
  if (syscall(SYS_close, fd) == -1 && !err) err = errno;
  if (err) a_send(T_RESULT, -1, err, 0, 0, 0, -1);
  else a_send(T_RESULT, 0, 0, 0, 0, 0, -1);
}

/* ------------------------------------------------------------------ */
/* exec: a program run as a child of a scenario process                  */
/* ------------------------------------------------------------------ */

/*
 * OP_EXEC: payload = argv as NUL-terminated strings. The child is created
 * with clone(2) CLONE_VM | CLONE_VFORK, as posix_spawn(3) does: it runs on
 * a_cstack inside this address space until its execve(2), so this agent
 * creates no mapping, and no VMA is copied. (A fork(2) would copy every
 * attach: dup_mmap() calls shm_open(), which sets shm_atime and shm_lprid,
 * and the execve() would then run shm_close() on the copies, setting
 * shm_dtime and shm_lprid to the child: the program would observe a state
 * its own creation had changed.) The child keeps this process's credentials
 * (execve(2) transforms them as for any program), rlimits and namespaces;
 * stdin is /dev/null, stdout and stderr are pipes, the environment is
 * TZ=UTC LC_ALL=C and a fixed PATH. The output comes back as 'D' frames
 * with ret = 1 (stdout) or 2 (stderr), then 'R' with ret = the wait(2)
 * status and off = the child's pid; err != 0 if it could not be started.
 */
static unsigned char a_cstack[16384] __attribute__((aligned(64)));
static char *a_argv[1024];
static char a_exe[4096 + 1];
static int a_pout[2] = { -1, -1 }, a_perr[2] = { -1, -1 };
#define A_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
static char *const a_envp[] = { (char *)"TZ=UTC", (char *)"LC_ALL=C", (char *)"PATH=" A_PATH, NULL };

/* The kernel's struct sigaction (rt_sigaction(2)): no glibc wrapper in the child. */
struct a_ksigaction { void *handler; unsigned long flags; void *restorer; uint64_t mask; };

static void a_child_puts(const char *s) {
  syscall(SYS_write, 2L, s, (long)strlen(s));
}

/* Runs on a_cstack, sharing the agent's memory until execve: raw system
 * calls only, writing nothing but a_exe, errno and its own stack. */
static int a_exec_child(void *unused) {
  (void)unused;
  /* the driver ignores these and SIG_IGN survives execve(2): restore what a shell gives */
  static const int sigs[] = { SIGPIPE, SIGINT, SIGHUP, SIGTERM };
  struct a_ksigaction dfl = { SIG_DFL, 0, 0, 0 };
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    syscall(SYS_rt_sigaction, (long)sigs[i], &dfl, 0L, 8L);
  uint64_t none = 0;
  syscall(SYS_rt_sigprocmask, (long)SIG_SETMASK, &none, 0L, 8L);
  if (syscall(SYS_dup2, (long)a_pout[1], 1L) == -1 || syscall(SYS_dup2, (long)a_perr[1], 2L) == -1)
    syscall(SYS_exit_group, 126L);
  syscall(SYS_close_range, 3L, (long)~0U, 0L);   /* the channel and the pipes' ends */
  const char *name = a_argv[0];
  int err = ENOENT;
  if (strchr(name, '/')) {
    syscall(SYS_execve, name, a_argv, a_envp);
    err = errno;
  } else {
    /* execvp(3)'s search, remembering EACCES */
    const char *d = A_PATH;
    size_t nl = strlen(name);
    while (*d) {
      const char *e = strchr(d, ':');
      size_t dl = e ? (size_t)(e - d) : strlen(d);
      if (dl + 1 + nl < sizeof a_exe) {
        memcpy(a_exe, d, dl);
        a_exe[dl] = '/';
        memcpy(a_exe + dl + 1, name, nl + 1);
        syscall(SYS_execve, a_exe, a_argv, a_envp);
        if (errno == EACCES) err = EACCES;
        else if (errno != ENOENT && errno != ENOTDIR && err != EACCES) err = errno;
      }
      d += dl;
      if (*d == ':') d++;
    }
  }
  a_child_puts("oracle: cannot execute ");
  a_child_puts(name);
  a_child_puts(err == ENOENT ? ": not found\n" : ": execve failed\n");
  syscall(SYS_exit_group, err == ENOENT ? 127L : 126L);
  return 0;
}

static void a_close_fd(int *fd) {
  if (*fd >= 0) syscall(SYS_close, (long)*fd);
  *fd = -1;
}

static void a_exec(size_t plen) {
  char *p = (char *)a_rx + sizeof(struct req);
  size_t argc = 0, i = 0;
  if (plen == 0 || p[plen - 1] != 0) { a_send(T_RESULT, -1, EINVAL, 0, 0, 0, -1); return; }
  while (i < plen) {
    if (argc == sizeof a_argv / sizeof a_argv[0] - 1) { a_send(T_RESULT, -1, E2BIG, 0, 0, 0, -1); return; }
    a_argv[argc++] = p + i;
    i += strlen(p + i) + 1;
  }
  a_argv[argc] = NULL;
  if (syscall(SYS_pipe2, a_pout, (long)O_CLOEXEC) == -1) { a_send(T_RESULT, -1, errno, 0, 0, 0, -1); return; }
  if (syscall(SYS_pipe2, a_perr, (long)O_CLOEXEC) == -1) {
    int e = errno;
    a_close_fd(&a_pout[0]);
    a_close_fd(&a_pout[1]);
    a_send(T_RESULT, -1, e, 0, 0, 0, -1);
    return;
  }
  /* clone(2): returns once the child has called execve(2) or exited */
  int pid = clone(a_exec_child, a_cstack + sizeof a_cstack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
  int e = errno;
  a_close_fd(&a_pout[1]);
  a_close_fd(&a_perr[1]);
  if (pid == -1) {
    a_close_fd(&a_pout[0]);
    a_close_fd(&a_perr[0]);
    a_send(T_RESULT, -1, e, 0, 0, 0, -1);
    return;
  }
  /* poll(2) both pipes until both reach EOF; each read becomes one 'D' frame */
  struct pollfd fds[2] = { { a_pout[0], POLLIN, 0 }, { a_perr[0], POLLIN, 0 } };
  int open_fds = 2;
  while (open_fds > 0) {
    long r = syscall(SYS_poll, fds, 2L, -1L);
    if (r == -1) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < 2; k++) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      long n = syscall(SYS_read, (long)fds[k].fd, a_tx + HDR, (long)CHUNK);
      if (n > 0) {
        a_send(T_DATA, k + 1, 0, 0, 0, (size_t)n, -1);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        syscall(SYS_close, (long)fds[k].fd);
        fds[k].fd = -1;
        open_fds--;
      }
    }
  }
  for (int k = 0; k < 2; k++) if (fds[k].fd >= 0) syscall(SYS_close, (long)fds[k].fd);
  a_pout[0] = a_perr[0] = -1;
  int st = 0;
  while (syscall(SYS_wait4, (long)pid, &st, 0L, 0L) == -1) {
    if (errno != EINTR) { st = 0; break; }
  }
  a_send(T_RESULT, st, 0, 0, (uint64_t)pid, 0, -1);
}

/* Remove [vdso], [vvar] and [vvar_vclock] (munmap(2)) so the first
 * kernel-chosen mapping of length L lands at mmap_base - L. */
static void a_remove_vdso(void) {
  static char maps[65536];
  static uint64_t lo[16], hi[16];
  size_t n = 0;
  int k = 0;
  long fd = syscall(SYS_openat, (long)AT_FDCWD, "/proc/self/maps", (long)(O_RDONLY | O_CLOEXEC));
  if (fd == -1) return;
  for (;;) {
    long r = syscall(SYS_read, fd, maps + n, (long)(sizeof maps - 1 - n));
    if (r <= 0) break;
    n += (size_t)r;
  }
  syscall(SYS_close, fd);
  maps[n] = 0;
  for (char *line = maps; *line && k < 16;) {
    char *end = strchr(line, '\n');
    if (end) *end = 0;
    char *name = strrchr(line, ' ');
    if (name && (!strncmp(name + 1, "[vdso", 5) || !strncmp(name + 1, "[vvar", 5))) {
      uint64_t a = 0, b = 0;
      char *s = line;
      for (; *s && *s != '-'; s++) a = a * 16 + (uint64_t)(*s <= '9' ? *s - '0' : (*s | 32) - 'a' + 10);
      if (*s == '-') s++;
      for (; *s && *s != ' '; s++) b = b * 16 + (uint64_t)(*s <= '9' ? *s - '0' : (*s | 32) - 'a' + 10);
      lo[k] = a;
      hi[k] = b;
      k++;
    }
    if (!end) break;
    line = end + 1;
  }
  for (int i = 0; i < k; i++) syscall(SYS_munmap, (long)lo[i], (long)(hi[i] - lo[i]));
}

static void a_loop(void) __attribute__((noreturn));
static void a_loop(void) {
  for (;;) {
    int fd;
    ssize_t n = sp_recv(CHAN_FD, a_rx, sizeof a_rx, &fd);
    if (n <= 0) _exit(0);                /* the driver is gone */
    if ((size_t)n < sizeof(struct req)) _exit(1);
    const struct req *q = (const struct req *)a_rx;
    size_t plen = (size_t)n - sizeof(struct req);
    const uint64_t *a = q->a;
    /* int parameters: truncate to 32 bits and sign-extend, as glibc passes them */
#define I(x) ((long)(int32_t)(uint32_t)(x))
#define L(x) ((long)(x))
    if (q->op != OP_FORK && fd >= 0) { close(fd); fd = -1; }
    switch (q->op) {
    case OP_FORK: {
      /* fork(2): the child inherits every mapping and SysV attachment. */
      if (fd < 0) { a_send(T_RESULT, -1, EBADF, 0, 0, 0, -1); break; }
      pid_t pid = fork();
      if (pid == 0) {
        dup2(fd, CHAN_FD);             /* closes the parent's channel in the child */
        close(fd);
        a_send(T_READY, 0, 0, 0, (uint64_t)host_pid(), 0, -1);
        break;
      }
      int e = errno;
      close(fd);
      if (pid < 0) a_send(T_RESULT, -1, e, 0, 0, 0, -1);
      else a_send(T_RESULT, pid, 0, 0, 0, 0, -1);
      break;
    }
    case OP_EXIT:
      /* _exit(2): do_exit() runs exit_mm()/exit_shm() before exit_files(),
       * so the driver's EOF on this channel means the address space is gone. */
      syscall(SYS_exit_group, 0L);
      _exit(0);
    case OP_CREDS:
      a_creds(q, (const uint32_t *)(a_rx + sizeof(struct req)), plen / 4);
      break;
    case OP_UNSHARE: {
      /* unshare(2) CLONE_NEWIPC; the new namespace is handed to the driver
       * (SCM_RIGHTS of /proc/self/ns/ipc, namespaces(7)) for cleanup. */
      long r = syscall(SYS_unshare, (long)CLONE_NEWIPC);
      if (r == -1) { a_result(r, errno); break; }
      long nsfd = syscall(SYS_openat, (long)AT_FDCWD, "/proc/self/ns/ipc", (long)(O_RDONLY | O_CLOEXEC));
      a_send(T_RESULT, 0, 0, 0, 0, 0, (int)nsfd);
      if (nsfd >= 0) syscall(SYS_close, nsfd);
      break;
    }
    case OP_SETRLIMIT: {
      /* prlimit64(2) on ourselves: setrlimit(RLIMIT_MEMLOCK, {cur, max}) */
      static uint64_t lim[2];
      lim[0] = a[0];
      lim[1] = a[1];
      SYSRESULT(SYS_prlimit64, 0L, (long)RLIMIT_MEMLOCK, lim, 0L);
      break;
    }
    case OP_SHMGET: SYSRESULT(SYS_shmget, I(a[0]), L(a[1]), I(a[2])); break;      /* shmget(2) */
    case OP_SHMAT: SYSRESULT(SYS_shmat, I(a[0]), L(a[1]), I(a[2])); break;        /* shmat(2) */
    case OP_SHMDT: SYSRESULT(SYS_shmdt, L(a[0])); break;                          /* shmdt(2) */
    case OP_SHMCTL: {
      /* shmctl(2) raw: no glibc IPC_64 rewriting; the buffer goes in and out */
      size_t bl = plen < sizeof a_shmbuf ? plen : sizeof a_shmbuf;
      memset(a_shmbuf, 0, sizeof a_shmbuf);
      memcpy(a_shmbuf, a_rx + sizeof(struct req), bl);
      long r = syscall(SYS_shmctl, I(a[0]), I(a[1]), a_shmbuf);
      int e = errno;
      memcpy(a_tx + HDR, a_shmbuf, bl);
      if (r == -1) a_send(T_RESULT, -1, e, 0, 0, bl, -1);
      else a_send(T_RESULT, r, 0, 0, 0, bl, -1);
      break;
    }
    case OP_MMAP: SYSRESULT(SYS_mmap, L(a[0]), L(a[1]), I(a[2]), I(a[3]), -1L, 0L); break;   /* mmap(2) */
    case OP_MUNMAP: SYSRESULT(SYS_munmap, L(a[0]), L(a[1])); break;                          /* munmap(2) */
    case OP_MPROTECT: SYSRESULT(SYS_mprotect, L(a[0]), L(a[1]), I(a[2])); break;             /* mprotect(2) */
    case OP_MREMAP: SYSRESULT(SYS_mremap, L(a[0]), L(a[1]), L(a[2]), I(a[3]), L(a[4])); break; /* mremap(2), 5 args */
    case OP_MADVISE: SYSRESULT(SYS_madvise, L(a[0]), L(a[1]), I(a[2])); break;               /* madvise(2) */
    case OP_READ: a_read(a[0], a[1]); break;
    case OP_WRITE: a_write(a[0], a[1]); break;
    case OP_FILL: a_fill(a[0], a[1], (unsigned char)a[2]); break;
    case OP_READFILE: a_readfile(plen); break;
    case OP_WRITEFILE: a_writefile(plen); break;
    case OP_EXEC: a_exec(plen); break;
    default: a_send(T_RESULT, -1, ENOSYS, 0, 0, 0, -1); break;
    }
#undef I
#undef L
  }
}

/* p0: forked from the driver; keep only the channel, drop the vDSO. */
static void agent_boot(int chan) __attribute__((noreturn));
static void agent_boot(int chan) {
  if (chan != CHAN_FD) {
    dup2(chan, CHAN_FD);
    close(chan);
  }
  syscall(SYS_close_range, (long)(CHAN_FD + 1), (long)~0U, 0L);   /* close_range(2) */
  int nul = open("/dev/null", O_RDWR);
  if (nul >= 0) {
    dup2(nul, 0); dup2(nul, 1); dup2(nul, 2);
    if (nul > 2) close(nul);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGTERM, &sa, NULL);
  a_remove_vdso();
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  a_send(T_READY, 0, 0, 0, (uint64_t)host_pid(), 0, -1);
  a_loop();
}

/* ------------------------------------------------------------------ */
/* driver (init of the PID namespace)                                   */
/* ------------------------------------------------------------------ */

static struct { int fd, pid, ns, alive, used; long hostpid; } g_proc[MAXPROC];
static int g_ns[MAXNS];
static int g_nns;
static unsigned char g_in[sizeof(struct req) + CHUNK] __attribute__((aligned(64)));
static unsigned char g_out[4 + HDR + CHUNK] __attribute__((aligned(64)));

static void on_term(int sig) { (void)sig; g_term = 1; }

/* Sends one frame to Node; Node gone means clean up and leave. */
static void node_frame(size_t n) {   /* g_out+4 holds n bytes */
  uint32_t len = (uint32_t)n;
  memcpy(g_out, &len, 4);
  if (!write_full(1, g_out, 4 + n)) {
    driver_cleanup();
    _exit(0);
  }
}

static void node_reply(uint32_t type, int64_t ret, int err, uint64_t off, const char *text) {
  struct rsp h = { type, err, 0, 0, ret, off };
  size_t tl = text ? strlen(text) : 0;
  memcpy(g_out + 4, &h, HDR);
  if (tl) memcpy(g_out + 4 + HDR, text, tl);
  node_frame(HDR + tl);
}

/* Discards n payload bytes of a request from Node. */
static void node_drain(uint64_t n) {
  while (n > 0) {
    size_t k = n < CHUNK ? (size_t)n : CHUNK;
    if (read_full(0, g_in, k) != k) { driver_cleanup(); _exit(0); }
    n -= k;
  }
}

static void proc_dead(int s) {
  if (g_proc[s].fd >= 0) close(g_proc[s].fd);
  g_proc[s].fd = -1;
  g_proc[s].alive = 0;
}

static void reap(void) {
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

/* Forwards the agent's frames to Node until its result ('R'). */
static void relay(int s) {
  for (;;) {
    int fd;
    ssize_t n = sp_recv(g_proc[s].fd, g_out + 4, HDR + CHUNK, &fd);
    if (n < (ssize_t)HDR) {
      if (fd >= 0) close(fd);
      proc_dead(s);
      node_reply(T_DIED, -1, 0, 0, "scenario process died");
      return;
    }
    struct rsp *h = (struct rsp *)(g_out + 4);
    if (fd >= 0) {
      /* unshare ipc: remember the namespace for the final cleanup */
      if (h->type == T_RESULT && h->err == 0 && g_nns < MAXNS) {
        g_ns[g_nns] = fd;
        g_proc[s].ns = g_nns++;
      } else {
        close(fd);
      }
    }
    uint32_t type = h->type;
    node_frame((size_t)n);
    if (type != T_DATA) return;
  }
}

static int slot_ok(uint32_t s) { return s < MAXPROC && g_proc[s].used && g_proc[s].alive; }

static void op_start(const struct req *q) {
  uint32_t s = q->slot;
  int sv[2];
  if (s >= MAXPROC || g_proc[s].used) { node_reply(T_DIED, -1, 0, 0, "bad process slot"); return; }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
    node_reply(T_RESULT, -1, errno, 0, 0);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    g_is_driver = 0;
    agent_boot(sv[1]);
  }
  int e = errno;
  close(sv[1]);
  if (pid < 0) { close(sv[0]); node_reply(T_RESULT, -1, e, 0, 0); return; }
  struct rsp h;
  int fd;
  ssize_t n = sp_recv(sv[0], &h, sizeof h, &fd);
  if (fd >= 0) close(fd);
  if (n != (ssize_t)HDR || h.type != T_READY) {
    close(sv[0]);
    node_reply(T_DIED, -1, 0, 0, "p0 died while starting");
    return;
  }
  g_proc[s].fd = sv[0];
  g_proc[s].pid = pid;
  g_proc[s].hostpid = (long)h.off;
  g_proc[s].ns = 0;
  g_proc[s].alive = g_proc[s].used = 1;
  node_reply(T_RESULT, pid, 0, h.off, 0);
}

static void op_fork(const struct req *q, size_t plen) {
  uint32_t p = q->slot, c = q->slot2;
  int sv[2];
  if (!slot_ok(p) || c >= MAXPROC || g_proc[c].used) { node_reply(T_DIED, -1, 0, 0, "bad process slot"); return; }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
    node_reply(T_RESULT, -1, errno, 0, 0);
    return;
  }
  ssize_t sent = sp_send(g_proc[p].fd, g_in, sizeof(struct req) + plen, sv[1]);
  close(sv[1]);
  if (sent < 0) { close(sv[0]); proc_dead(p); node_reply(T_DIED, -1, 0, 0, "scenario process died"); return; }
  struct rsp h;
  int fd;
  ssize_t n = sp_recv(g_proc[p].fd, &h, sizeof h, &fd);
  if (fd >= 0) close(fd);
  if (n != (ssize_t)HDR) { close(sv[0]); proc_dead(p); node_reply(T_DIED, -1, 0, 0, "scenario process died"); return; }
  if (h.err != 0) { close(sv[0]); node_reply(T_RESULT, h.ret, h.err, 0, 0); return; }
  struct rsp y;
  n = sp_recv(sv[0], &y, sizeof y, &fd);
  if (fd >= 0) close(fd);
  if (n != (ssize_t)HDR || y.type != T_READY) { close(sv[0]); node_reply(T_DIED, -1, 0, 0, "forked process died"); return; }
  g_proc[c].fd = sv[0];
  g_proc[c].pid = (int)h.ret;
  g_proc[c].hostpid = (long)y.off;
  g_proc[c].ns = g_proc[p].ns;
  g_proc[c].alive = g_proc[c].used = 1;
  node_reply(T_RESULT, h.ret, 0, y.off, 0);
}

static void op_exit(uint32_t s, size_t plen) {
  if (sp_send(g_proc[s].fd, g_in, sizeof(struct req) + plen, -1) >= 0) {
    /* wait for EOF: every copy of the agent's end closed in exit_files(),
     * which do_exit() runs after exit_mm() and exit_shm() */
    for (;;) {
      int fd;
      ssize_t n = sp_recv(g_proc[s].fd, g_out + 4, HDR + CHUNK, &fd);
      if (fd >= 0) close(fd);
      if (n <= 0) break;
    }
  }
  proc_dead(s);
  reap();
  node_reply(T_RESULT, 0, 0, 0, 0);
}

static void op_write(const struct req *q, uint64_t plen) {
  uint32_t s = q->slot;
  if (!slot_ok(s)) { node_drain(plen); node_reply(T_DIED, -1, 0, 0, "no such process"); return; }
  struct req h = *q;
  h.a[1] = plen;
  int ok = sp_send(g_proc[s].fd, &h, sizeof h, -1) >= 0;
  while (plen > 0) {
    size_t k = plen < CHUNK ? (size_t)plen : CHUNK;
    if (read_full(0, g_in, k) != k) { driver_cleanup(); _exit(0); }
    if (ok) ok = sp_send(g_proc[s].fd, g_in, k, -1) >= 0;
    plen -= k;
  }
  relay(s);
}

/* Enters an IPC namespace (setns(2)) and IPC_RMIDs every segment in it,
 * found by index with SHM_STAT_ANY (shmctl(2)). */
static void rmid_all(int nsfd) {
  static unsigned char buf[4096] __attribute__((aligned(64)));
  if (setns(nsfd, CLONE_NEWIPC) == -1) return;
  for (int round = 0; round < 8; round++) {
    memset(buf, 0, sizeof buf);
    long max = syscall(SYS_shmctl, 0L, (long)O_SHM_INFO, buf);   /* highest used index */
    int used;
    memcpy(&used, buf, sizeof used);                              /* shm_info.used_ids */
    if (max < 0 || used == 0) return;
    for (long i = 0; i <= max; i++) {
      long id = syscall(SYS_shmctl, i, (long)SHM_STAT_ANY, buf);
      if (id >= 0) syscall(SYS_shmctl, id, (long)O_IPC_RMID, 0L);
    }
  }
}

/* Kills every agent (kill(2) pid -1 from a PID namespace's init reaches
 * every other process of the namespace), reaps them all, then empties every
 * IPC namespace the run used so no SHM_LOCK charge outlives the run (the
 * kernel frees a dead IPC namespace asynchronously). */
static void driver_cleanup(void) {
  static int done;
  if (done) return;
  done = 1;
  g_is_driver = 0;   /* no re-entry from on_eintr */
  kill(-1, SIGKILL);
  for (;;) {
    pid_t p = waitpid(-1, NULL, 0);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) break;   /* ECHILD: every process of the namespace is gone */
  }
  for (int i = 0; i < MAXPROC; i++) if (g_proc[i].used) proc_dead(i);
  for (int i = 0; i < g_nns; i++) rmid_all(g_ns[i]);
}

static void driver_main(void) __attribute__((noreturn));
static void driver_main(void) {
  struct sigaction sa;
  g_is_driver = 1;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;   /* no SA_RESTART: blocking calls see EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  /* prctl(2) PR_SET_PDEATHSIG: the hub's death makes us clean up and exit */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  for (int i = 0; i < MAXPROC; i++) g_proc[i].fd = -1;
  g_ns[0] = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
  g_nns = g_ns[0] >= 0 ? 1 : 0;
  node_reply(T_HELLO, 0, 0, (uint64_t)host_pid(), 0);
  for (;;) {
    reap();
    if (g_term) { driver_cleanup(); _exit(0); }
    uint32_t len;
    if (read_full(0, &len, 4) != 4) { driver_cleanup(); _exit(0); }   /* Node closed the pipe */
    if (len < sizeof(struct req) || read_full(0, g_in, sizeof(struct req)) != sizeof(struct req)) {
      driver_cleanup();
      _exit(3);
    }
    struct req *q = (struct req *)g_in;
    size_t plen = len - sizeof(struct req);
    if (q->op == OP_WRITE) { op_write(q, plen); continue; }
    if (plen > CHUNK) { node_drain(plen); node_reply(T_DIED, -1, 0, 0, "request too large"); continue; }
    if (read_full(0, g_in + sizeof(struct req), plen) != plen) { driver_cleanup(); _exit(0); }
    switch (q->op) {
    case OP_START: op_start(q); break;
    case OP_FORK: op_fork(q, plen); break;
    case OP_QUIT:
      driver_cleanup();
      node_reply(T_RESULT, 0, 0, 0, 0);
      _exit(0);
    default:
      if (!slot_ok(q->slot)) { node_reply(T_DIED, -1, 0, 0, "no such process"); break; }
      if (q->op == OP_EXIT) { op_exit(q->slot, plen); break; }
      if (sp_send(g_proc[q->slot].fd, g_in, sizeof(struct req) + plen, -1) < 0) {
        proc_dead(q->slot);
        node_reply(T_DIED, -1, 0, 0, "scenario process died");
        break;
      }
      relay((int)q->slot);
      break;
    }
  }
}

/* ------------------------------------------------------------------ */
/* hub                                                                  */
/* ------------------------------------------------------------------ */

static void hub_fail(const char *what, int err) {
  char text[256];
  size_t n = 0;
  const char *es = strerror(err);
  for (const char *s = what; *s && n < sizeof text - 1; s++) text[n++] = *s;
  for (const char *s = ": "; *s && n < sizeof text - 1; s++) text[n++] = *s;
  for (const char *s = es; *s && n < sizeof text - 1; s++) text[n++] = *s;
  text[n] = 0;
  node_reply(T_HELLO, -1, err ? err : EINVAL, 0, text);
  _exit(3);
}

/* --probe: can this user create IPC and PID namespaces? (unshare(2)) */
static int probe(void) {
  pid_t pid = fork();
  if (pid == 0) _exit(unshare(CLONE_NEWIPC | CLONE_NEWPID) == -1 ? errno : 0);
  int st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) < 0) { printf("fork: %s\n", strerror(errno)); return 1; }
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : EINVAL;
  if (code == 0) printf("ok\n");
  else printf("unshare: %s\n", strerror(code));
  return code == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "--probe")) return probe();
  const char *lock = argc >= 3 && !strcmp(argv[1], "--lock") ? argv[2] : NULL;

  /* die with Node (prctl(2) PR_SET_PDEATHSIG; checked against a race) */
  pid_t ppid = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != ppid) _exit(3);

  /* setrlimit(2): an 8 MiB stack keeps mmap_base at TASK_SIZE - 128 MiB
   * (arch/x86/mm/mmap.c mmap_base(): the gap is clamped to 128 MiB) */
  struct rlimit rl;
  rlim_t old_stack = RLIM_INFINITY;
  if (getrlimit(RLIMIT_STACK, &rl) == 0) {
    old_stack = rl.rlim_cur;
    rl.rlim_cur = STACK_RLIMIT;
    if (rl.rlim_max < rl.rlim_cur) rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_STACK, &rl) == -1) hub_fail("setrlimit RLIMIT_STACK", errno);
  }
  rl.rlim_cur = rl.rlim_max = MEMLOCK_RLIMIT;
  if (setrlimit(RLIMIT_MEMLOCK, &rl) == -1) hub_fail("setrlimit RLIMIT_MEMLOCK 8388608", errno);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  /* personality(2) ADDR_NO_RANDOMIZE takes effect at execve(2): re-exec
   * once, also when the stack rlimit was lowered (mmap_base is computed at
   * exec time) */
  int pers = personality(0xffffffff);
  if (pers == -1) hub_fail("personality", errno);
  if (!(pers & ADDR_NO_RANDOMIZE) || old_stack > STACK_RLIMIT) {
    if (personality((unsigned long)pers | ADDR_NO_RANDOMIZE) == -1) hub_fail("personality", errno);
    execv("/proc/self/exe", argv);
    hub_fail("execv /proc/self/exe", errno);
  }

  /* flock(2): one oracle run at a time on this machine (SHM_LOCK charges
   * RLIMIT_MEMLOCK per uid, machine-wide) */
  if (lock) {
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd == -1) hub_fail("open lock file", errno);
    while (flock(lfd, LOCK_EX) == -1) {
      if (errno != EINTR) hub_fail("flock", errno);
    }
  }

  /* unshare(2): a fresh IPC namespace, and a PID namespace whose init (the
   * driver) takes every agent with it when it dies */
  if (unshare(CLONE_NEWIPC | CLONE_NEWPID) == -1) hub_fail("unshare", errno);
  pid_t init = fork();
  if (init == 0) driver_main();
  if (init < 0) hub_fail("fork", errno);
  close(0);
  close(1);
  int st = 0;
  while (waitpid(init, &st, 0) == -1 && errno == EINTR) {}
  _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
}
