/*
 * The native side of `npm run bench`: the real kernel's cost of the System V
 * shared-memory operations that bench/run.ts also times on the model.
 *
 * One program, driven over stdin/stdout by the harness so that native and
 * model runs can be interleaved while a benchmark's state (32 000 segments,
 * 60 000 VMAs, ...) is built only once:
 *
 *   shmbench --probe        prints "ok" if this user can unshare(CLONE_NEWIPC)
 *   shmbench serve          unshare(CLONE_NEWIPC), raise kernel.shmmni to
 *                           32768 inside that namespace only, then answer
 *                           one command per line:
 *     setup NAME ARG        build the state of benchmark NAME -> "ok" | "err TEXT"
 *     run N                 N operations (see each benchmark) -> "NS OPS"
 *                           (elapsed CLOCK_MONOTONIC nanoseconds, operations done)
 *     teardown              undo setup -> "ok"
 *     quit
 *
 * The IPC namespace is private to this process (and its children): nothing
 * it creates is visible to, or survives into, the machine's own namespace,
 * and the kernel destroys every segment when the last process of the
 * namespace exits. PR_SET_PDEATHSIG makes the server die with Node.
 *
 * Benchmarks (NAME ARG):
 *   cycle 0       shmget(IPC_PRIVATE, 4096) + shmat + 1-byte write + shmdt + IPC_RMID
 *   lookup S      shmget(key, 0, 0) with S segments in the namespace
 *   attach V      shmat + shmdt of a 4 KiB segment with V other VMAs in the process
 *   stat 0        shmctl(IPC_STAT)
 *   fork A        fork + child _exit + waitpid, with A segments attached
 *   touch P       first touch of each page of a fresh P-page segment (OPS = pages)
 *   memcpy MIB    memcpy of MIB MiB from private memory into an attached (faulted) segment
 *   futex 0       FUTEX_WAIT/FUTEX_WAKE round trip with a child process on a segment word
 *   teardown-touched P   shmdt + IPC_RMID of a segment with P touched pages (OPS = pages)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define KEY_BASE 0x5b000000

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  printf("err %s: %s\n", what, strerror(errno));
  fflush(stdout);
  exit(1);
}

/* Keeps the compiler from dropping stores to memory it cannot see read. */
static inline void clobber(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

static long futex(volatile int *uaddr, int op, int val) {
  return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* ------------------------------------------------------------ state */

static char bench[32];
static long arg;
static int *ids;         /* segments created by setup */
static long nids;
static char **addrs;     /* attach addresses made by setup */
static long naddrs;
static char *vmas;       /* the region holding the "other VMAs" */
static size_t vmas_len;
static char *src;        /* memcpy source */
static char *seg;        /* memcpy destination / futex word */
static int seg_id = -1;
static pid_t child = -1;
static int lookup_key;

static int mkseg(int key, size_t size, int flags) {
  int id = shmget(key, size, IPC_CREAT | 0600 | flags);
  if (id < 0) die("shmget");
  return id;
}

static const char *setup(const char *name, long a) {
  snprintf(bench, sizeof bench, "%s", name);
  arg = a;
  if (!strcmp(name, "cycle") || !strcmp(name, "touch") || !strcmp(name, "teardown-touched")) return NULL;
  if (!strcmp(name, "lookup")) {
    ids = calloc(a, sizeof *ids);
    for (long i = 0; i < a; i++) ids[i] = mkseg(KEY_BASE + (int)i, PAGE, IPC_EXCL);
    nids = a;
    lookup_key = KEY_BASE + (int)(a / 2);
    return NULL;
  }
  if (!strcmp(name, "attach")) {
    /* V separate VMAs: single pages with alternating protections, one page
       apart, so that neighbours never merge. */
    if (a > 0) {
      vmas_len = (size_t)a * 2 * PAGE;
      vmas = mmap(NULL, vmas_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (vmas == MAP_FAILED) die("mmap");
      munmap(vmas, vmas_len);
      for (long i = 0; i < a; i++) {
        void *p = mmap(vmas + i * 2 * PAGE, PAGE, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED) die("mmap");
      }
    }
    seg_id = mkseg(IPC_PRIVATE, PAGE, 0);
    return NULL;
  }
  if (!strcmp(name, "stat")) {
    seg_id = mkseg(IPC_PRIVATE, PAGE, 0);
    return NULL;
  }
  if (!strcmp(name, "fork")) {
    ids = calloc(a + 1, sizeof *ids);
    addrs = calloc(a + 1, sizeof *addrs);
    for (long i = 0; i < a; i++) {
      ids[i] = mkseg(IPC_PRIVATE, PAGE, 0);
      addrs[i] = shmat(ids[i], NULL, 0);
      if (addrs[i] == (void *)-1) die("shmat");
      shmctl(ids[i], IPC_RMID, NULL);
    }
    nids = naddrs = a;
    return NULL;
  }
  if (!strcmp(name, "memcpy")) {
    size_t len = (size_t)a << 20;
    src = malloc(len);
    if (!src) die("malloc");
    for (size_t i = 0; i < len; i++) src[i] = (char)(i * 7);
    seg_id = mkseg(IPC_PRIVATE, len, 0);
    seg = shmat(seg_id, NULL, 0);
    if (seg == (void *)-1) die("shmat");
    shmctl(seg_id, IPC_RMID, NULL);
    memset(seg, 1, len); /* every page faulted in: measure the copy, not the faults */
    return NULL;
  }
  if (!strcmp(name, "futex")) {
    seg_id = mkseg(IPC_PRIVATE, PAGE, 0);
    seg = shmat(seg_id, NULL, 0);
    if (seg == (void *)-1) die("shmat");
    shmctl(seg_id, IPC_RMID, NULL);
    volatile int *w = (volatile int *)seg;
    *w = 0;
    child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      /* pong: wait while 0, answer with 0; 2 ends. */
      for (;;) {
        int v;
        while ((v = __atomic_load_n(w, __ATOMIC_SEQ_CST)) == 0) futex(w, FUTEX_WAIT, 0);
        if (v == 2) _exit(0);
        __atomic_store_n(w, 0, __ATOMIC_SEQ_CST);
        futex(w, FUTEX_WAKE, 1);
      }
    }
    return NULL;
  }
  return "unknown benchmark";
}

static void teardown(void) {
  if (!strcmp(bench, "futex") && child > 0) {
    volatile int *w = (volatile int *)seg;
    __atomic_store_n(w, 2, __ATOMIC_SEQ_CST);
    futex(w, FUTEX_WAKE, 1);
    waitpid(child, NULL, 0);
    child = -1;
  }
  for (long i = 0; i < naddrs; i++) shmdt(addrs[i]);
  for (long i = 0; i < nids; i++) shmctl(ids[i], IPC_RMID, NULL);
  free(ids); ids = NULL; nids = 0;
  free(addrs); addrs = NULL; naddrs = 0;
  if (vmas) { munmap(vmas, vmas_len); vmas = NULL; }
  if (seg) { shmdt(seg); seg = NULL; }
  if (seg_id >= 0 && strcmp(bench, "memcpy") && strcmp(bench, "futex")) shmctl(seg_id, IPC_RMID, NULL);
  seg_id = -1;
  free(src); src = NULL;
  bench[0] = 0;
}

/* Returns the number of operations done; *ns gets the elapsed time. */
static long run(long n, uint64_t *ns) {
  uint64_t t0, t1;
  if (!strcmp(bench, "cycle")) {
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      int id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
      if (id < 0) die("shmget");
      char *p = shmat(id, NULL, 0);
      if (p == (void *)-1) die("shmat");
      *(volatile char *)p = 1;
      if (shmdt(p)) die("shmdt");
      if (shmctl(id, IPC_RMID, NULL)) die("shmctl");
    }
    t1 = now_ns();
  } else if (!strcmp(bench, "lookup")) {
    t0 = now_ns();
    for (long i = 0; i < n; i++) if (shmget(lookup_key, 0, 0) < 0) die("shmget");
    t1 = now_ns();
  } else if (!strcmp(bench, "attach")) {
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      char *p = shmat(seg_id, NULL, 0);
      if (p == (void *)-1) die("shmat");
      if (shmdt(p)) die("shmdt");
    }
    t1 = now_ns();
  } else if (!strcmp(bench, "stat")) {
    struct shmid_ds ds;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      if (shmctl(seg_id, IPC_STAT, &ds)) die("shmctl");
      clobber(&ds);
    }
    t1 = now_ns();
  } else if (!strcmp(bench, "fork")) {
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      pid_t pid = fork();
      if (pid < 0) die("fork");
      if (pid == 0) _exit(0);
      if (waitpid(pid, NULL, 0) != pid) die("waitpid");
    }
    t1 = now_ns();
  } else if (!strcmp(bench, "touch") || !strcmp(bench, "teardown-touched")) {
    /* n segments of `arg` pages each; the timed part is the first touch of
       every page (touch) or the detach + removal of the touched segment. */
    uint64_t total = 0;
    int touch = !strcmp(bench, "touch");
    size_t len = (size_t)arg * PAGE;
    for (long i = 0; i < n; i++) {
      int id = mkseg(IPC_PRIVATE, len, 0);
      char *p = shmat(id, NULL, 0);
      if (p == (void *)-1) die("shmat");
      t0 = now_ns();
      for (size_t off = 0; off < len; off += PAGE) ((volatile char *)p)[off] = 1;
      t1 = now_ns();
      if (touch) total += t1 - t0;
      t0 = now_ns();
      shmdt(p);
      shmctl(id, IPC_RMID, NULL);
      t1 = now_ns();
      if (!touch) total += t1 - t0;
    }
    *ns = total;
    return n * arg;
  } else if (!strcmp(bench, "memcpy")) {
    size_t len = (size_t)arg << 20;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      memcpy(seg, src, len);
      clobber(seg);
    }
    t1 = now_ns();
  } else if (!strcmp(bench, "futex")) {
    volatile int *w = (volatile int *)seg;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      __atomic_store_n(w, 1, __ATOMIC_SEQ_CST);
      futex(w, FUTEX_WAKE, 1);
      while (__atomic_load_n(w, __ATOMIC_SEQ_CST) == 1) futex(w, FUTEX_WAIT, 1);
    }
    t1 = now_ns();
  } else {
    errno = EINVAL;
    die("run without setup");
    return 0;
  }
  *ns = t1 - t0;
  return n;
}

static int raise_shmmni(void) {
  int fd = open("/proc/sys/kernel/shmmni", O_WRONLY);
  if (fd < 0) return -1;
  int ok = write(fd, "32768\n", 6) == 6;
  close(fd);
  return ok ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--probe")) {
    pid_t pid = fork();
    if (pid == 0) _exit(unshare(CLONE_NEWIPC) == -1 ? errno : 0);
    int st = 0;
    waitpid(pid, &st, 0);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : EPERM;
    if (code == 0) printf("ok\n");
    else printf("unshare(CLONE_NEWIPC): %s\n", strerror(code));
    return 0;
  }
  if (argc < 2 || strcmp(argv[1], "serve")) {
    fprintf(stderr, "usage: shmbench --probe | serve\n");
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1; /* Node already gone */
  /* A fresh IPC namespace: every segment lives and dies with this process,
     and kernel.shmmni is raised for this namespace only. */
  if (unshare(CLONE_NEWIPC) == -1) die("unshare(CLONE_NEWIPC)");
  if (raise_shmmni() == -1) die("kernel.shmmni");
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    char cmd[32] = "", name[32] = "";
    long a = 0;
    if (sscanf(line, "%31s %31s %ld", cmd, name, &a) < 1) continue;
    if (!strcmp(cmd, "setup")) {
      const char *e = setup(name, a);
      if (e) printf("err %s\n", e); else printf("ok\n");
    } else if (!strcmp(cmd, "run")) {
      uint64_t ns = 0;
      long ops = run(strtol(name, NULL, 10), &ns);
      printf("%llu %ld\n", (unsigned long long)ns, ops);
    } else if (!strcmp(cmd, "teardown")) {
      teardown();
      printf("ok\n");
    } else if (!strcmp(cmd, "quit")) {
      break;
    } else {
      printf("err unknown command\n");
    }
  }
  teardown();
  return 0;
}
