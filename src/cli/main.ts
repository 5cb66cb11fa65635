/**
 * The `sysvshm` command line: run scenarios on the model, on the Linux
 * oracle, and compare the model with the recorded corpus.
 */
import { parseArgs } from 'node:util';
import { conformanceCommand } from './conformance.js';
import { recordCommand } from './record.js';
import { UnsupportedError } from '../scenario/errors.js';
import { runFile, isEnvironmentError, EXIT_OK, EXIT_SCRIPT, EXIT_ENV, type BackendKind } from './runner.js';

const USAGE = `usage: sysvshm <command> [options]

commands:
  run FILE.scn...              run scenarios on the model (this project's kernel)
  oracle FILE.scn...           run scenarios on the real Linux kernel (needs root and cc)
  oracle --record DIR          re-record the golden .out beside every .scn under DIR
  conformance [DIR]            compare the model with the golden outputs (default: conformance/)
      --oracle                 also re-run the live oracle and list goldens this kernel no longer matches
      --verbose                print every failing script's full diff position
  tour                         run the built-in tour on the model
  demo [--seconds S] [--consumers N] [--size BYTES] [--message BYTES]
                               a producer and N consumer worker processes stream messages through
                               one segment found by key (ring buffer, futexes); defaults 5 s, 2, 1M, 256
  ipcs|ipcrm|ipcmk [--scenario FILE.scn [--as PROC]] [--] ARGS
                               util-linux's tools over the model (after running FILE on it, as PROC)
  help                         this text

exit status: 0 ok, 1 conformance failures (demo: a failed check), 2 script error or bad usage, 3 environment error`;

async function runCommand(files: string[], kind: BackendKind): Promise<number> {
  if (files.length === 0) {
    process.stderr.write(`sysvshm ${kind === 'model' ? 'run' : 'oracle'}: no scenario file given\n`);
    return EXIT_SCRIPT;
  }
  for (const file of files) {
    if (files.length > 1) process.stdout.write(`==> ${file} <==\n`);
    try {
      const { error } = await runFile(file, kind, (l) => process.stdout.write(l + '\n'));
      if (error) {
        process.stderr.write(error.report() + '\n');
        return EXIT_SCRIPT;
      }
    } catch (e) {
      if (e instanceof UnsupportedError) {
        process.stderr.write(`${file}:${e.line ?? '?'}: ${e.message}\n`);
        return EXIT_SCRIPT;
      }
      if (await isEnvironmentError(e)) {
        process.stderr.write(`${(e as Error).message}\n`);
        return EXIT_ENV;
      }
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        process.stderr.write(`sysvshm: ${file}: no such file\n`);
        return EXIT_SCRIPT;
      }
      throw e;
    }
  }
  return EXIT_OK;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // The util-linux tools parse their own options (getopt_long), before ours would.
  if (command === 'ipcs' || command === 'ipcrm' || command === 'ipcmk') {
    const t = await import('../tools/cli.js');
    return command === 'ipcs' ? t.ipcsCommand(rest) : command === 'ipcrm' ? t.ipcrmCommand(rest) : t.ipcmkCommand(rest);
  }
  if (command === 'demo') {
    const { demoCommand } = await import('../demo/demo.js');
    return demoCommand(rest);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        record: { type: 'string' },
        oracle: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`sysvshm: ${(e as Error).message}\n${USAGE}\n`);
    return EXIT_SCRIPT;
  }
  const { values, positionals } = parsed;
  switch (command) {
    case 'run':
      return runCommand(positionals, 'model');
    case 'oracle':
      if (values.record !== undefined) return recordCommand(values.record);
      return runCommand(positionals, 'oracle');
    case 'conformance':
      return conformanceCommand(positionals[0] ?? 'conformance', {
        oracle: values.oracle ?? false, verbose: values.verbose ?? false,
      });
    case 'tour': {
      const { tourCommand } = await import('./tour.js');
      return tourCommand();
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? EXIT_SCRIPT : EXIT_OK;
    default:
      process.stderr.write(`sysvshm: unknown command '${command}'\n${USAGE}\n`);
      return EXIT_SCRIPT;
  }
}
