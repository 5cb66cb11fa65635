/**
 * The floor a worker system call is compared with: a bare Atomics.wait
 * request/response between a worker and the main thread, answered on the
 * main thread with Atomics.waitAsync exactly as the runtime's serve loop does.
 * Protocol on `w[index]`: the worker stores 1 and waits; this answers 2; 3 ends.
 */
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
export const waitAsync = (Atomics as unknown as { waitAsync?(a: Int32Array, i: number, v: number, t?: number): WaitAsyncResult }).waitAsync;

/** Answers each bare request (1 -> 2) until the worker stores 3. */
export function serveFloor(w: Int32Array, index: number): Promise<void> {
  return new Promise((done) => {
    const step = (): void => {
      for (;;) {
        const v = Atomics.load(w, index);
        if (v === 3) { done(); return; }
        if (v === 1) {
          Atomics.store(w, index, 2);
          Atomics.notify(w, index, 1);
          continue;
        }
        const r = waitAsync!(w, index, v);
        if (r.async) { void r.value.then(step); return; }
      }
    };
    step();
  });
}
