/**
 * Guest: two processes exchange data through a segment, by views and by
 * os.read/os.write, attached at different addresses.
 * argv: [role ('a' | 'b'), shmid, index, atomics rounds]
 */
import type { GuestOs } from '../../../src/runtime/guest.js';
import { assertEq, attachSpread, control, text, W } from '../guest-util.js';

export default function main(os: GuestOs): void {
  const [role, id, index, rounds] = os.argv;
  const base = attachSpread(os, Number(id), Number(index));
  const c = control(os, base);
  const view = os.mem.view(base, 4096);
  const enc = (s: string) => new TextEncoder().encode(s);
  // Report the attach address (the test checks the two differ).
  c.i32[(W.aux >> 2) + (role === 'a' ? 0 : 1)] = base / 4096;
  if (role === 'a') {
    view.set(enc('hello from a'), W.data);
    os.write(base + W.data + 100, 'written by a');
    c.set(W.flag, 1);
    c.waitAtLeast(W.flag, 2);
    assertEq(text(view.subarray(W.data + 200, W.data + 216)), 'reply from b', 'b\'s view write, seen in a\'s view');
    assertEq(text(os.read(base + W.data + 300, 16)), 'b wrote this', 'b\'s os.write, seen by a\'s os.read');
  } else {
    c.waitAtLeast(W.flag, 1);
    assertEq(text(view.subarray(W.data, W.data + 16)), 'hello from a', 'a\'s view write, seen in b\'s view');
    assertEq(text(os.read(base + W.data + 100, 16)), 'written by a', 'a\'s os.write, seen by b\'s os.read');
    assertEq(text(os.read(base + W.data, 12)), 'hello from a', 'a\'s view write, seen by b\'s os.read');
    assertEq(text(view.subarray(W.data + 100, W.data + 116)), 'written by a', 'a\'s os.write, seen in b\'s view');
    view.set(enc('reply from b'), W.data + 200);
    os.write(base + W.data + 300, 'b wrote this');
    c.set(W.flag, 2);
  }
  // Atomics on the shared page, from both processes at once.
  for (let i = 0; i < Number(rounds); i++) Atomics.add(c.i32, W.counter >> 2, 1);
  c.add(W.ready, 1);
  c.waitAtLeast(W.ready, 2);
}
