/**
 * Builds the native oracle (oracle/agent.c) with the system C compiler on
 * first use and checks that this machine can run it.
 *
 * The binary lives in
 * `${ORACLE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sysvshm-oracle}/<hash>/agent`
 * where <hash> covers the source text and its absolute path: two checkouts
 * never share a binary, and an edited source is rebuilt. The run lock
 * (`<cache root>/lock`, taken by the hub with flock(2)) is shared by every
 * checkout, because SHM_LOCK charges RLIMIT_MEMLOCK per uid machine-wide.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The oracle cannot run on this machine (no compiler, no namespaces, ...). */
export class OracleUnavailableError extends Error {
  override name = 'OracleUnavailableError';
}

export interface OracleBinary {
  /** The compiled hub/agent executable. */
  path: string;
  /** The flock(2) file serialising oracle runs on this machine. */
  lockPath: string;
  /** False when static libc was missing: ld.so and libc then sit below the mmap base. */
  staticallyLinked: boolean;
}

/** oracle/agent.c of this checkout (dist/src/oracle/build.js -> ../../../oracle). */
export function oracleSourcePath(): string {
  return fileURLToPath(new URL('../../../oracle/agent.c', import.meta.url));
}

/** A cache folder for compiled helpers: $OVERRIDE, else $XDG_CACHE_HOME/NAME, else ~/.cache/NAME. */
export function cacheRoot(overrideVar: string, name: string): string {
  const env = process.env;
  const override = env[overrideVar];
  if (override) return path.resolve(override);
  const xdg = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(path.resolve(xdg), name);
}

/** The cache root: ORACLE_CACHE_DIR, else $XDG_CACHE_HOME/sysvshm-oracle, else ~/.cache/sysvshm-oracle. */
export function oracleCacheRoot(): string {
  return cacheRoot('ORACLE_CACHE_DIR', 'sysvshm-oracle');
}

export interface ExecOutcome { code: number | string | null; stdout: string; stderr: string }

/** Runs a program to completion, collecting its output (never rejects). */
export function run(file: string, args: string[]): Promise<ExecOutcome> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 1 << 22 }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function compile(src: string, dir: string): Promise<OracleBinary> {
  const bin = path.join(dir, 'agent');
  const marker = path.join(dir, 'agent.dynamic');
  const lockPath = path.join(oracleCacheRoot(), 'lock');
  if (existsSync(bin)) return { path: bin, lockPath, staticallyLinked: !existsSync(marker) };
  await mkdir(dir, { recursive: true });
  // Build under a private name and rename(2) into place: concurrent builders
  // (several engineers, parallel test files) never see a partial binary.
  const tmp = `${bin}.tmp.${process.pid}.${Date.now()}`;
  // cc(1): static, so no ld.so/libc mappings exist below the mmap base.
  let out = await run('cc', ['-O2', '-Wall', '-static', '-o', tmp, src]);
  if (out.code === 'ENOENT') throw new OracleUnavailableError("oracle: no C compiler ('cc') on this machine");
  let isStatic = true;
  if (out.code !== 0) {
    // Static libc missing: fall back to dynamic linking (layout less exact).
    isStatic = false;
    out = await run('cc', ['-O2', '-Wall', '-o', tmp, src]);
    if (out.code !== 0) {
      await rm(tmp, { force: true });
      throw new Error(`oracle: compiling ${src} failed:\n${out.stderr}`);
    }
    await writeFile(marker, 'static libc missing\n');
  }
  await rename(tmp, bin);
  return { path: bin, lockPath, staticallyLinked: isStatic };
}

let cached: Promise<OracleBinary> | undefined;

/**
 * Builds (once per source text) and probes the oracle. Throws
 * OracleUnavailableError with a one-line message when this machine cannot
 * run it. Memoised per Node process.
 */
export function ensureOracle(): Promise<OracleBinary> {
  cached ??= (async () => {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new OracleUnavailableError(`oracle: needs x86_64 Linux (this is ${process.platform}/${process.arch})`);
    }
    const src = oracleSourcePath();
    let text: string;
    try {
      text = await readFile(src, 'utf8');
    } catch {
      throw new OracleUnavailableError(`oracle: source not found (${src})`);
    }
    const hash = createHash('sha256').update(src).update('\0').update(text).digest('hex').slice(0, 16);
    const bin = await compile(src, path.join(oracleCacheRoot(), hash));
    // unshare(2) of CLONE_NEWIPC|CLONE_NEWPID needs CAP_SYS_ADMIN.
    const probe = await run(bin.path, ['--probe']);
    if (probe.stdout.trim() !== 'ok') {
      const why = (probe.stdout.trim() || probe.stderr.trim() || String(probe.code)).split('\n')[0];
      throw new OracleUnavailableError(`oracle: cannot create an IPC namespace (${why}); run as root`);
    }
    return bin;
  })();
  cached.catch(() => { cached = undefined; });
  return cached;
}
