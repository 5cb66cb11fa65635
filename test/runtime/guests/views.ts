/**
 * Guest: view validation, residency, and no aliasing after destroy.
 * argv: [mode, shmid?]
 */
import type { GuestOs } from '../../../src/runtime/guest.js';
import { constants as C, MemoryFault, SysError } from '../../../src/index.js';
import { assertEq, control, text, W } from '../guest-util.js';

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

export default function main(os: GuestOs): void {
  const mode = os.argv[0];
  if (mode === 'checks') {
    const id = Number(os.argv[1]);
    // SHM_RDONLY: a writable view is EACCES, a read-only one works.
    const ro = os.shmat(id, 0, C.SHM_RDONLY);
    assertEq(code(() => os.mem.view(ro, 4096)), 'EACCES', 'write view of a SHM_RDONLY attach');
    assertEq(code(() => os.mem.viewInt32(ro, 1)), 'EACCES', 'write Int32 view of a SHM_RDONLY attach');
    const r = os.mem.view(ro, 4096, { write: false });
    assertEq(text(r.subarray(0, 5)), 'hello', 'read-only view content');
    os.shmdt(ro);
    // A writable attach.
    const a = os.shmat(id);
    assertEq(code(() => os.mem.viewInt32(a + 2, 1)), 'EINVAL', 'unaligned Int32 view');
    assertEq(code(() => os.mem.viewBigInt64(a + 4, 1)), 'EINVAL', 'unaligned BigInt64 view');
    assertEq(code(() => os.mem.view(a, 0)), 'EINVAL', 'empty view');
    assertEq(code(() => os.mem.view(a, 4 * 4096 + 1)), 'EFAULT', 'past the attach');
    assertEq(code(() => os.mem.view(0x1000, 16)), 'EFAULT', 'unmapped');
    assertEq(code(() => os.mem.view(os.mmapPrivate(4096), 16)), 'EINVAL', 'private memory');
    const big = os.mem.viewBigInt64(a + 8, 2);
    big[0] = 0x1122334455667788n;
    assertEq(os.read(a + 8, 1)[0], 0x88, 'BigInt64 view stores');
    // Split by mprotect: adjacent VMAs of the same file with contiguous offsets.
    os.mprotect(a + 4096, 4096, C.PROT_READ);
    assertEq(os.mem.view(a, 8192, { write: false }).length, 8192, 'read-only view over the split');
    assertEq(code(() => os.mem.view(a, 8192)), 'EACCES', 'write view over a read-only part');
    assertEq(code(() => os.mem.view(a + 4096, 16)), 'EACCES', 'write view of the read-only part');
    os.mprotect(a + 4096, 4096, C.PROT_NONE);
    assertEq(code(() => os.mem.view(a + 4096, 16, { write: false })), 'EACCES', 'read view of PROT_NONE');
    os.mprotect(a + 4096, 4096, C.PROT_READ | C.PROT_WRITE);
    // Grown past the segment's pages (mremap): those pages are beyond the file.
    // (The split VMAs do not merge back - shm VMAs have a close op - so grow the last one.)
    const g = os.mremap(a + 2 * 4096, 2 * 4096, 4 * 4096, C.MREMAP_MAYMOVE);
    assertEq(code(() => os.mem.view(g + 2 * 4096, 2 * 4096)), 'EFAULT', 'beyond the file\'s pages');
    assertEq(code(() => os.mem.view(g + 4096, 4097)), 'EFAULT', 'one byte beyond the file\'s pages');
    assertEq(os.mem.view(g + 4096, 4096).length, 4096, 'the last page of the file');
    // The typed layer throws MemoryFault like a Process: SIGBUS past the file, SIGSEGV unmapped.
    let fault: unknown;
    try { os.read(g + 2 * 4096 - 2, 4); } catch (e) { fault = e; }
    if (!(fault instanceof MemoryFault)) throw new Error(`expected a MemoryFault, got ${String(fault)}`);
    assertEq(fault.signal, 'SIGBUS', 'past the end of the segment');
    assertEq(fault.address, BigInt(g + 2 * 4096), 'the faulting address');
    assertEq(fault.offset, 2n, 'the faulting offset');
    const partial = os.sys.read(g + 2 * 4096 - 2, 4);
    assertEq(partial.data.length, 2, 'bytes read before the fault');
    try { os.write(0x1000, 'x'); } catch (e) { fault = e; }
    assertEq((fault as MemoryFault).signal, 'SIGSEGV', 'unmapped');
    let sysErr: unknown;
    try { os.shmget(0x7777, 0, 0); } catch (e) { sysErr = e; }
    if (!(sysErr instanceof SysError)) throw new Error('expected a SysError');
    assertEq(sysErr.code, 'ENOENT', 'SysError code');
    assertEq(sysErr.syscall, 'shmget', 'SysError syscall');
    os.munmap(g, 4 * 4096);
    os.shmdt(a);
    // Shared anonymous memory.
    const anon = os.mmap(0, 8192);
    os.mem.view(anon, 8192).fill(9);
    assertEq(os.read(anon + 8191, 1)[0], 9, 'shared anonymous view');
    return;
  }
  if (mode === 'resident') {
    // A fresh 4-page segment: a view of (parts of) pages 1-2 makes exactly those resident.
    const c = control(os, os.shmat(Number(os.argv[1])));
    const id = os.shmget(C.IPC_PRIVATE, 4 * 4096, C.IPC_CREAT | 0o600);
    const a = os.shmat(id);
    const before = os.shmInfo().shmRss;
    os.mem.view(a + 4096 + 100, 4096);
    assertEq(os.shmInfo().shmRss - before, 2n, 'the view\'s pages are resident');
    os.shmRemove(id);
    c.set(W.flag, 1); // the test reads our smaps now
    c.waitAtLeast(W.flag, 2);
    return;
  }
  if (mode === 'bulk') {
    // Payloads larger than the data area travel in chunks, both ways.
    const size = 300 * 1024;
    const id = os.shmget(C.IPC_PRIVATE, size, C.IPC_CREAT | 0o600);
    const a = os.shmat(id);
    os.shmRemove(id);
    const src = new Uint8Array(size);
    for (let i = 0; i < size; i++) src[i] = (i * 7 + (i >> 12)) & 0xff;
    os.write(a, src);
    const back = os.read(a, size);
    assertEq(back.length, size, 'read length');
    assertEq(back.every((b, i) => b === src[i]), true, 'chunked write then chunked read');
    const v = os.mem.view(a, size, { write: false });
    assertEq(v.every((b, i) => b === src[i]), true, 'the view sees the written bytes');
    // A read that runs off the end of the mapping: the bytes before, and the fault's offset.
    const r = os.sys.read(a, size + 3 * 4096);
    assertEq(r.data.length, size, 'bytes before the fault');
    assertEq(r.fault?.signal, 'SIGSEGV', 'the fault');
    assertEq(r.fault?.offset, BigInt(size), 'the fault offset');
    const w = os.sys.write(a + size - 10, new Uint8Array(200_000));
    assertEq(w.fault?.offset, 10n, 'a write that runs off the end');
    os.fill(a, size, 0xab);
    assertEq(v.every((b) => b === 0xab), true, 'fill');
    os.shmdt(a);
    return;
  }
  if (mode === 'alias') {
    // create / view / destroy / create again: the old view never reaches the new segment.
    const id1 = os.shmget(C.IPC_PRIVATE, 8192, C.IPC_CREAT | 0o600);
    const a1 = os.shmat(id1);
    const v1 = os.mem.view(a1, 8192);
    const w1 = os.mem.viewInt32(a1, 4);
    v1.fill(0x11);
    os.shmRemove(id1);
    os.shmdt(a1); // the last detach: destroyed
    const id2 = os.shmget(C.IPC_PRIVATE, 8192, C.IPC_CREAT | 0o600);
    const a2 = os.shmat(id2);
    assertEq(a2, a1, 'the new segment is attached where the old one was');
    const v2 = os.mem.view(a2, 8192);
    if (v2.buffer === v1.buffer) throw new Error('the new segment reuses the old buffer');
    assertEq(v2.every((b) => b === 0), true, 'a new segment is zeroed');
    v1.fill(0x22);
    Atomics.store(w1, 0, 12345);
    assertEq(v2.every((b) => b === 0), true, 'stale view writes are not in the new segment');
    assertEq(os.read(a2, 8192).every((b) => b === 0), true, 'nor in what the process reads');
    os.shmRemove(id2);
    os.shmdt(a2);
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

