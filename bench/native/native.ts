/**
 * The native side of the benchmark: builds bench/native/shmbench.c with
 * `cc -O2` on first use (cached like the oracle's agent, see
 * src/oracle/build.ts) and drives `shmbench serve`, which runs in a fresh
 * IPC namespace of its own, over a line protocol on stdin/stdout.
 *
 * The binary lives in
 * `${BENCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sysvshm-bench}/<hash>/shmbench`
 * where <hash> covers the source text and its absolute path: an edited
 * source is rebuilt, two checkouts never share a binary, and concurrent
 * builders never see a partial file (build under a private name, rename(2)).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, run } from '../../src/oracle/build.js';

/** bench/native/shmbench.c of this checkout (dist/bench/native/native.js -> ../../../bench/native). */
export function nativeSourcePath(): string {
  return fileURLToPath(new URL('../../../bench/native/shmbench.c', import.meta.url));
}

export function nativeCacheRoot(): string {
  return cacheRoot('BENCH_CACHE_DIR', 'sysvshm-bench');
}

/** The native benchmark cannot run here (no compiler, no namespaces, ...). */
export class NativeUnavailableError extends Error {
  override name = 'NativeUnavailableError';
}

let built: Promise<string> | undefined;

/** Compiles (once per source text) and probes the native benchmark; its path. */
export function ensureNative(): Promise<string> {
  built ??= (async () => {
    if (process.platform !== 'linux') throw new NativeUnavailableError(`native benchmark: needs Linux (this is ${process.platform})`);
    const src = nativeSourcePath();
    let text: string;
    try {
      text = await readFile(src, 'utf8');
    } catch {
      throw new NativeUnavailableError(`native benchmark: source not found (${src})`);
    }
    const hash = createHash('sha256').update(src).update('\0').update(text).digest('hex').slice(0, 16);
    const dir = path.join(nativeCacheRoot(), hash);
    const bin = path.join(dir, 'shmbench');
    if (!existsSync(bin)) {
      await mkdir(dir, { recursive: true });
      const tmp = `${bin}.tmp.${process.pid}.${Date.now()}`;
      // Static when possible: fewer VMAs in the process (fork copies them all).
      let out = await run('cc', ['-O2', '-Wall', '-static', '-o', tmp, src]);
      if (out.code === 'ENOENT') throw new NativeUnavailableError("native benchmark: no C compiler ('cc') on this machine");
      if (out.code !== 0) out = await run('cc', ['-O2', '-Wall', '-o', tmp, src]);
      if (out.code !== 0) {
        await rm(tmp, { force: true });
        throw new Error(`native benchmark: compiling ${src} failed:\n${out.stderr}`);
      }
      await rename(tmp, bin);
    }
    const probe = await run(bin, ['--probe']);
    if (probe.stdout.trim() !== 'ok') {
      const why = (probe.stdout.trim() || probe.stderr.trim() || String(probe.code)).split('\n')[0];
      throw new NativeUnavailableError(`native benchmark: cannot create an IPC namespace (${why}); run as root`);
    }
    return bin;
  })();
  built.catch(() => { built = undefined; });
  return built;
}

/** A running `shmbench serve`: one request line, one answer line. */
export class NativeServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = '';
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly lines: string[] = [];
  private closed = false;
  private stderr = '';

  private constructor(bin: string) {
    this.child = spawn(bin, ['serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiting.shift();
        if (w) w(line); else this.lines.push(line);
      }
    });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.child.on('exit', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(`err native benchmark exited${this.stderr ? `: ${this.stderr.trim()}` : ''}`);
    });
  }

  static async start(): Promise<NativeServer> {
    const s = new NativeServer(await ensureNative());
    const hello = await s.next();
    if (hello !== 'ready') throw new NativeUnavailableError(`native benchmark: ${hello.replace(/^err /, '')}`);
    return s;
  }

  private next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.closed) return Promise.resolve('err native benchmark exited');
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private async request(line: string): Promise<string> {
    if (this.closed) throw new Error('native benchmark: server is gone');
    this.child.stdin.write(line + '\n');
    const r = await this.next();
    if (r.startsWith('err')) throw new Error(`native benchmark: ${line}: ${r.slice(4)}`);
    return r;
  }

  async setup(name: string, arg = 0): Promise<void> {
    await this.request(`setup ${name} ${arg}`);
  }

  /** Runs n operations; elapsed nanoseconds and the number of operations done. */
  async run(n: number): Promise<{ ns: number; ops: number }> {
    const [ns, ops] = (await this.request(`run ${Math.max(1, Math.round(n))}`)).split(' ').map(Number);
    return { ns: ns!, ops: ops! };
  }

  async teardown(): Promise<void> {
    await this.request('teardown');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end('quit\n');
    await gone;
  }
}
