/**
 * Guest: passes garbage to every layer, including raw bytes in the channel;
 * each gets an errno and the kernel's thread keeps serving.
 */
import { workerData } from 'node:worker_threads';
import type { GuestOs } from '../../../src/runtime/guest.js';
import { Errno } from '../../../src/abi/errno.js';
import { constants as C } from '../../../src/index.js';
import { ChannelViews, DATA_IN, OP, OP_WORD, REQUEST, STATE } from '../../../src/runtime/protocol.js';
import { assertEq } from '../guest-util.js';

export default function main(os: GuestOs): void {
  const s = os.sys as unknown as Record<string, (...a: unknown[]) => unknown>;
  const neg = (r: unknown, what: string) => {
    if (typeof r !== 'number' || r >= 0) throw new Error(`${what}: expected an errno, got ${String(r)}`);
  };
  neg(s.shmget!('x', {}, null), 'shmget of strings and objects');
  neg(s.shmat!(undefined, [], Symbol.iterator), 'shmat of undefined');
  neg(s.shmdt!('zzz'), 'shmdt of a string');
  neg(s.mmap!(NaN, Infinity, -1, 1e300), 'mmap of NaN');
  neg(s.munmap!(12345n, -1n), 'munmap unaligned');
  neg(s.mremap!(null, null, null, null, null), 'mremap of nulls');
  neg(s.madvise!({ valueOf: () => 4096 }, 1, 1), 'madvise of an object');
  assertEq(s.shmctl!(0, C.IPC_STAT, { not: 'a buffer' }), -Errno.EFAULT, 'shmctl with a bogus buffer');
  neg(s.shmctl!(-1, 'IPC_STAT', new Uint8Array(4)), 'shmctl with a string command');
  neg(s.futex!('addr', 'op', 'val'), 'futex of strings');
  neg(s.futex!(0x1000, 0, 0, 'soon'), 'futex with a string timeout');
  neg(s.setgroups!('abc'), 'setgroups of a string');
  neg(s.capset!('a', 'b', 'c'), 'capset of strings');
  const rd = os.sys.read('nowhere' as unknown as number, 10);
  assertEq(rd.fault?.signal, 'SIGSEGV', 'read at a string address');
  const wr = os.sys.write(0x1000, 'not bytes' as unknown as Uint8Array);
  assertEq(wr.fault?.signal, 'SIGSEGV', 'write of a string');
  assertEq(os.sys.read(2n ** 64n - 1n, 2n ** 64n - 1n).fault?.signal, 'SIGSEGV', 'read of the whole address space');
  // Raw bytes in the channel.
  const ch = new ChannelViews((workerData as { channel: SharedArrayBuffer }).channel);
  const raw = (op: number, setup: () => void = () => {}) => {
    ch.i32[OP_WORD] = op;
    setup();
    Atomics.store(ch.i32, STATE, REQUEST);
    Atomics.notify(ch.i32, STATE, 1);
    while (Atomics.load(ch.i32, STATE) === REQUEST) Atomics.wait(ch.i32, STATE, REQUEST);
    return ch.results[0];
  };
  assertEq(raw(9999), -Errno.ENOSYS, 'an unknown operation');
  assertEq(raw(-7), -Errno.ENOSYS, 'a negative operation');
  assertEq(raw(OP.WRITE, () => { ch.tags.fill(1); ch.argsF64[0] = 0x1000; ch.i32[DATA_IN] = -5; }), -Errno.EINVAL, 'a negative payload');
  assertEq(raw(OP.WRITE, () => { ch.i32[DATA_IN] = 1 << 30; }), -Errno.EINVAL, 'a payload bigger than the data area');
  assertEq(raw(OP.READ, () => { ch.tags.fill(2); ch.argsI64[1] = 1n << 40n; }), -Errno.EINVAL, 'a read bigger than the data area');
  assertEq(raw(OP.SHMGET, () => { ch.tags.fill(77); }), -Errno.EINVAL, 'unknown argument tags');
  assertEq(raw(OP.VIEW, () => { ch.tags.fill(1); ch.argsF64.fill(3); }), -Errno.EINVAL, 'a view with a bad alignment');
  assertEq(raw(OP.SETGROUPS, () => { ch.i32[DATA_IN] = 3; }), -Errno.EINVAL, 'setgroups of 3 bytes');
  // Still alive and well.
  assertEq(os.sys.getpid(), os.pid, 'getpid after the garbage');
  const a = os.mmap(0, 4096);
  os.write(a, 'fine');
  assertEq(new TextDecoder().decode(os.read(a, 4)), 'fine', 'memory after the garbage');
}
