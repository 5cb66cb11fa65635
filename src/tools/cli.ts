/**
 * Command-line entries for the IPC tools on the model:
 *
 *   sysvshm ipcs  [--scenario FILE.scn [--as PROC]] [--] [IPCS OPTIONS...]
 *   sysvshm ipcrm [--scenario FILE.scn [--as PROC]] [--] [IPCRM OPTIONS...]
 *   sysvshm ipcmk [--scenario FILE.scn [--as PROC]] [--] [IPCMK OPTIONS...]
 *
 * Without --scenario the tool runs on a fresh kernel (empty namespace). With
 * it, the scenario runs first on the model (its own output is not shown),
 * then the tool runs as a program started by PROC (default p0; root of the
 * initial namespaces if PROC has exited). The tool's stdout and stderr are
 * written as the real tool writes them and its exit status is returned; a
 * script error is reported as `FILE:LINE: message` with status 2.
 */
import { readFileSync } from 'node:fs';
import { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import type { ProcHandle, SysResult } from '../scenario/backend.js';
import { ScriptError, UnsupportedError } from '../scenario/errors.js';
import { Interpreter } from '../scenario/interpreter.js';
import { ModelBackend } from '../scenario/model-backend.js';
import { parseScript } from '../scenario/parser.js';
import { ipcmk } from './ipcmk.js';
import { ipcrm } from './ipcrm.js';
import { ipcs } from './ipcs.js';
import type { ToolResult } from './process.js';

const EXIT_SCRIPT = 2;

type Tool = (kernel: Kernel, args: readonly string[], reader?: Process) => ToolResult;

/** A model backend that remembers the pid of every process handle. */
class RecordingBackend extends ModelBackend {
  readonly pids = new Map<ProcHandle, number>();

  override async start(): Promise<number> {
    const pid = await super.start();
    this.pids.set(0, pid);
    return pid;
  }

  override async fork(parent: ProcHandle, child: ProcHandle): Promise<SysResult<number>> {
    const r = await super.fork(parent, child);
    if (r.ok) this.pids.set(child, r.value);
    return r;
  }
}

/**
 * Runs a scenario on the model and returns its kernel with the process named
 * `as` (undefined if it has exited). The interpreter gives handles to
 * processes in the order of the forks that succeed (p0 is 0).
 */
async function runScenario(file: string, as: string): Promise<{ kernel: Kernel; reader: Process | undefined }> {
  const script = parseScript(readFileSync(file, 'utf8'), file);
  const backend = new RecordingBackend();
  const results = new Map<number, string>();
  const interp = new Interpreter(backend, (l) => {
    const m = /^(\d+): (.*)$/.exec(l);
    if (m) results.set(Number(m[1]), m[2]!);
  });
  await interp.run(script);
  const handles = new Map<string, ProcHandle>([['p0', 0]]);
  let next = 1;
  for (const pl of script.lines) {
    if (pl.ok && pl.value.command.verb === 'fork' && results.get(pl.value.line) === '0') {
      handles.set(pl.value.command.child, next++);
    }
  }
  const h = handles.get(as);
  if (h === undefined) throw new ScriptError(0, `no process named '${as}'`, file);
  const p = backend.kernel.processes.get(backend.pids.get(h)!);
  return { kernel: backend.kernel, reader: p && p.alive ? p : undefined };
}

async function toolCommand(name: string, tool: Tool, argv: string[]): Promise<number> {
  let scenario: string | undefined;
  let as = 'p0';
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { i++; break; }
    if (a === '--scenario' || a === '--as') {
      const v = argv[i + 1];
      if (v === undefined) {
        process.stderr.write(`sysvshm ${name}: ${a} needs a value\n`);
        return EXIT_SCRIPT;
      }
      if (a === '--scenario') scenario = v; else as = v;
      i++;
    } else if (a.startsWith('--scenario=')) scenario = a.slice('--scenario='.length);
    else if (a.startsWith('--as=')) as = a.slice('--as='.length);
    else break;
  }
  const args = argv.slice(i);
  let kernel: Kernel;
  let reader: Process | undefined;
  if (scenario === undefined) {
    kernel = new Kernel();
  } else {
    try {
      ({ kernel, reader } = await runScenario(scenario, as));
    } catch (e) {
      if (e instanceof ScriptError) {
        process.stderr.write(e.report() + '\n');
        return EXIT_SCRIPT;
      }
      if (e instanceof UnsupportedError) {
        process.stderr.write(`${scenario}:${e.line ?? '?'}: ${e.message}\n`);
        return EXIT_SCRIPT;
      }
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        process.stderr.write(`sysvshm: ${scenario}: no such file\n`);
        return EXIT_SCRIPT;
      }
      throw e;
    }
  }
  const r = tool(kernel, args, reader);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.status;
}

/** `sysvshm ipcs ...`: argv after the command name; resolves to the exit status. */
export function ipcsCommand(argv: string[]): Promise<number> {
  return toolCommand('ipcs', ipcs, argv);
}

/** `sysvshm ipcrm ...`. */
export function ipcrmCommand(argv: string[]): Promise<number> {
  return toolCommand('ipcrm', ipcrm, argv);
}

/** `sysvshm ipcmk ...`. */
export function ipcmkCommand(argv: string[]): Promise<number> {
  return toolCommand('ipcmk', ipcmk, argv);
}
