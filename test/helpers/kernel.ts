/** Test helper: a kernel whose clock the test sets, so atime/dtime/ctime can be asserted exactly. */
import { Kernel } from '../../src/index.js';

export function clockedKernel(start: number): { kernel: Kernel; tick: (t: number) => void } {
  let now = start;
  return { kernel: new Kernel({ clock: () => now }), tick: (t: number) => { now = t; } };
}
