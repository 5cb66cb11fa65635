/**
 * The first code of every worker process (what execve() and the C runtime's
 * start-up do): builds the guest's `os`, imports the program, runs its
 * default export `main(os)` - sync or async - and turns its end into a
 * process exit: a return is exit(0) (or exit(n) when main returns the
 * integer n, like C's main), a throw is exit(1) with the error's message on
 * the handle.
 */
import { workerData } from 'node:worker_threads';
import { GuestOs } from './guest.js';
import type { WorkerBoot } from './protocol.js';

const boot = workerData as WorkerBoot;
const os = new GuestOs(boot);

let code = 0;
try {
  const mod = (await import(boot.moduleUrl)) as { default?: unknown };
  const main = mod.default;
  if (typeof main !== 'function') throw new TypeError(`${boot.moduleUrl} has no default export main(os)`);
  const r: unknown = await (main as (os: GuestOs) => unknown)(os);
  if (typeof r === 'number' && Number.isInteger(r)) code = r;
} catch (e) {
  os.sys.exitWithError(1, e instanceof Error ? e.message : String(e));
}
os.exit(code);
