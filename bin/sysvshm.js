#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled TypeScript (dist/), built by
// `npm install` (prepare) or `npm run build`.
import { main } from '../dist/src/cli/main.js';

// A reader that went away (`sysvshm ... | head`) ends the output quietly, as for any Unix tool.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`sysvshm: internal error: ${err && err.stack || err}\n`); process.exitCode = 3; },
);
