#!/bin/bash
# usage: difft.sh files...
args=(); for a in "$@"; do args+=("$(readlink -f "$a")"); done; set -- "${args[@]}"; cd "$(dirname "$0")/../../.."
export ORACLE_QUIET=1
for f in "$@"; do
  node bin/sysvshm.js run $f > ${TMPDIR:-/tmp}/m.out 2>&1
  node bin/sysvshm.js oracle $f > ${TMPDIR:-/tmp}/o.out 2>&1
  if diff ${TMPDIR:-/tmp}/m.out ${TMPDIR:-/tmp}/o.out > ${TMPDIR:-/tmp}/d.out; then echo "SAME $f"; else echo "DIFF $f"; cat ${TMPDIR:-/tmp}/d.out | head -${N:-40}; fi
done
