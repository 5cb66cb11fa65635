/**
 * Quick start: two processes share a SysV segment on the model kernel.
 * Run: npm run build && node dist/examples/quick-start.js
 */
import { Kernel, SysError, constants as C } from '../src/index.js';

const kernel = new Kernel();
const writer = kernel.spawn({ name: 'writer' });

// The typed API throws SysError, like Node's fs.
const id = writer.shmget(0x1234, 6000, C.IPC_CREAT | 0o644);
const addr = writer.shmat(id);
writer.write(addr, 'hello');

// fork() inherits the attachment: the segment now has two VMAs mapping it.
const child = kernel.fork(writer);
console.log('child reads:', new TextDecoder().decode(child.read(addr, 5)));
console.log('nattch after fork:', writer.shmStat(id).nattch);

// IPC_RMID while attached: the key is gone, the segment lives until the last detach.
writer.shmRemove(id);
try {
  writer.shmget(0x1234, 0, 0);
} catch (e) {
  if (e instanceof SysError) console.log(`shmget after IPC_RMID: ${e.code} (errno ${e.errno})`);
}

// The raw layer returns -errno instead of throwing, for emulators.
console.log('raw shmdt of a bad address:', writer.sys.shmdt(addr + 1));

// procfs, byte-compatible with Linux.
process.stdout.write(kernel.proc.readText('/proc/sysvipc/shm'));
process.stdout.write(kernel.proc.readText(`/proc/${child.pid}/maps`));

writer.shmdt(addr);
kernel.exit(child);
console.log('after the last detach, pages allocated:', kernel.allocator.allocatedPages, 'segments:', kernel.initIpcNs.shm.ids.inUse);
