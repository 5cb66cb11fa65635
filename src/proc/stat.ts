/**
 * /proc/PID/stat (fs/proc/array.c do_task_stat): 52 fields; the model fills
 * what it knows (pid, comm, state, ppid, vsize, rss) and zeroes the rest,
 * as a sleeping process with no CPU time would show.
 */
import { PAGE_SIZE } from '../abi/constants.js';
import type { Process } from '../kernel/process.js';

export function procPidStat(p: Process): string {
  const st = p.mm.stats();
  const vsize = st.totalVm * PAGE_SIZE;
  const rss = st.rssAnon + st.rssFile + st.rssShmem;
  const f: (string | number | bigint)[] = [
    p.pid, `(${p.comm})`, p.alive ? 'S' : 'Z', p.ppid, p.pid, p.pid, 0, -1, 4194560,
    0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, 0, vsize, rss, (1n << 64n) - 1n,
  ];
  while (f.length < 52) f.push(0);
  f[37] = 17; // exit_signal: SIGCHLD
  return f.join(' ') + '\n';
}
