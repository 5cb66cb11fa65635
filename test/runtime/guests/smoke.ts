/** Guest: basic system calls and a view. */
import type { GuestOs } from '../../../src/runtime/guest.js';

export default function main(os: GuestOs): number {
  const id = Number(os.argv[1]);
  const addr = os.shmat(id);
  const v = os.mem.view(addr, 16);
  v.set(new TextEncoder().encode('from guest'));
  os.write(addr + 32, 'via write');
  const back = new TextDecoder().decode(os.read(addr + 64, 4));
  os.write(addr + 96, `pid=${os.sys.getpid()} back=${back}`);
  return 7;
}
