/** Helpers for the worker-runtime tests (main thread). */
import assert from 'node:assert/strict';
import { Kernel, constants as C, runtimeOf, type Process } from '../../src/index.js';
import { isShmVma, type ShmAttachFile } from '../../src/shm/attach.js';

/** The URL of a compiled test guest. */
export function guest(name: string): URL {
  return new URL(`./guests/${name}.js`, import.meta.url);
}

/** Polls `pred` (test side only) until it holds or `ms` pass. */
export async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A kernel, a host process, and a control segment the host has attached. */
export function setup(pages = 1) {
  const kernel = new Kernel();
  const host = kernel.spawn({ name: 'host' });
  const id = host.shmget(C.IPC_PRIVATE, pages * 4096, C.IPC_CREAT | 0o600);
  const addr = host.shmat(id);
  const word = (off: number) => new DataView(host.read(addr + off, 4).buffer).getInt32(0, true);
  const setWord = (off: number, v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    host.write(addr + off, b);
  };
  return { kernel, host, id, addr, word, setWord, rt: runtimeOf(kernel) };
}

/**
 * The kernel's SysV books agree with the address spaces: every segment's
 * nattch is the number of VMAs mapping it in live processes, and shm_tot
 * is the sum of the segments' pages.
 */
export function assertConsistent(kernel: Kernel): void {
  const ns = kernel.initIpcNs.shm;
  let tot = 0n;
  for (const shp of ns.ids) {
    tot += BigInt(shp.pages);
    let vmas = 0;
    for (const p of kernel.live) {
      for (const v of p.mm.vmas()) if (isShmVma(v) && (v.file as ShmAttachFile).base === shp.file) vmas++;
    }
    assert.equal(shp.nattch, vmas, `nattch of segment ${shp.id}`);
  }
  assert.equal(ns.shmTot, tot, 'shm_tot');
}

/** Ends everything and checks that no page is left. */
export async function teardown(kernel: Kernel, ...hosts: Process[]): Promise<void> {
  for (const h of hosts) if (h.alive) kernel.exit(h);
  await kernel.shutdownWorkers();
  const ns = kernel.initIpcNs.shm;
  for (const shp of [...ns.ids]) ns.rmid(shp);
  assert.equal(runtimeOf(kernel).size, 0, 'no worker left');
  assert.equal(runtimeOf(kernel).futex.size, 0, 'no futex waiter left');
  assert.equal(kernel.allocator.allocatedPages, 0, 'no page left');
}
