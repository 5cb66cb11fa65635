#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled TypeScript (dist/), built by
// `npm install` (prepare) or `npm run build`.
import { main } from '../dist/src/cli/main.js';
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`sysvshm: internal error: ${err && err.stack || err}\n`); process.exitCode = 3; },
);
